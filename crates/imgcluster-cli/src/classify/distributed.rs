//! `classify --distributed`: one rank of an MPI job (the `mpi` feature). Each rank maps its
//! own rows of the `.npy` (or its own shard file), the library's distributed fast mode or
//! mini-batch k-means (`kmeans::fit_distributed`, `kmeans::fit_minibatch_distributed`) runs
//! over an MPI implementation of its `Collective` seam, the ranks write their labels into
//! one temporary `.npy` that rank 0 renames over `--labels-out` once all have written
//! (`output::write_parts`), and rank 0 writes the centers and prints the report with every
//! rank's timings and the communication volume.

use anyhow::{bail, Result};

use super::Config;
use crate::args::{ClassifyArgs, ModeArg};

/// The options a distributed run cannot honour, named as the user typed them.
fn refuse_unsupported(cfg: &Config, a: &ClassifyArgs) -> Result<()> {
    if a.mode != ModeArg::Fast {
        bail!("--distributed needs --mode fast");
    }
    if cfg.source.data.is_none() {
        bail!("--distributed needs --data FILE.npy (each rank maps its own rows)");
    }
    if cfg.source.labels.is_some() {
        bail!("--distributed does not score against --labels; score the written --labels-out");
    }
    if cfg.preset != imgcluster::features::Preset::TutorialRaw {
        bail!("--distributed clusters the raw samples (no --features or --pipeline)");
    }
    for (given, flag) in [
        (cfg.train_ratio.is_some(), "--train-ratio"),
        (cfg.out.is_some(), "--out"),
        (cfg.report.is_some(), "--report"),
        (cfg.model_out.is_some(), "--model-out"),
    ] {
        if given {
            bail!("{flag} is not available with --distributed");
        }
    }
    Ok(())
}

#[cfg(not(feature = "mpi"))]
pub(super) fn run(
    cfg: &Config,
    a: &ClassifyArgs,
    _w: &mut impl std::io::Write,
    _t0: std::time::Instant,
) -> Result<()> {
    refuse_unsupported(cfg, a)?;
    bail!(
        "--distributed needs a binary built with MPI: cargo build --release -p imgcluster-cli \
         --features mpi, run under mpirun"
    )
}

#[cfg(feature = "mpi")]
pub(super) use with_mpi::run;

#[cfg(feature = "mpi")]
mod with_mpi {
    use std::io::Write;
    use std::path::PathBuf;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::Instant;

    use anyhow::{bail, Context, Result};
    use imgcluster::collective::Collective;
    use imgcluster::dataset::{npy, open_mapped, open_mapped_part, MappedNpy, MappedValues};
    use imgcluster::kmeans::{
        fit_distributed, fit_minibatch_distributed, Data, DistributedFit, DistributedMiniBatchFit,
        KMeansError, KMeansFit,
    };
    use imgcluster::CvRng;
    use mpi::collective::SystemOperation;
    use mpi::datatype::PartitionMut;
    use mpi::topology::SimpleCommunicator;
    use mpi::traits::*;
    use mpi::Threading;
    use serde_json::json;

    use super::super::Config;
    use super::refuse_unsupported;
    use crate::args::ClassifyArgs;
    use crate::output::{self, agree, Outputs};
    use crate::run::ms;

    /// `MPI_COMM_WORLD`, with what went through it counted.
    struct Mpi {
        world: SimpleCommunicator,
        calls: AtomicU64,
        /// Bytes this rank contributed to the collectives.
        bytes: AtomicU64,
        nanos: AtomicU64,
    }

    // SAFETY: MPI is initialised with `Threading::Serialized` (checked in `run`): any thread
    // may call it, one at a time. The library calls the collectives of one fit from one
    // thread at a time (never from inside its parallel loops), so calls never overlap.
    unsafe impl Sync for Mpi {}

    impl Mpi {
        fn count<R>(&self, bytes: usize, f: impl FnOnce() -> R) -> R {
            let t = Instant::now();
            let r = f();
            self.calls.fetch_add(1, Ordering::Relaxed);
            self.bytes.fetch_add(bytes as u64, Ordering::Relaxed);
            self.nanos
                .fetch_add(t.elapsed().as_nanos() as u64, Ordering::Relaxed);
            r
        }
    }

    impl Collective for Mpi {
        fn rank(&self) -> usize {
            self.world.rank() as usize
        }

        fn size(&self) -> usize {
            self.world.size() as usize
        }

        fn allreduce_sum_u64(&self, values: &mut [u64]) {
            self.count(values.len() * 8, || {
                let send = values.to_vec();
                self.world
                    .all_reduce_into(&send[..], values, SystemOperation::sum());
            });
        }

        fn allreduce_sum_f64(&self, values: &mut [f64]) {
            // Reduced on rank 0 and broadcast from there: the same bits on every rank,
            // whatever algorithm the MPI library picks.
            self.count(values.len() * 8, || {
                let send = values.to_vec();
                let root = self.world.process_at_rank(0);
                if self.world.rank() == 0 {
                    root.reduce_into_root(&send[..], values, SystemOperation::sum());
                } else {
                    root.reduce_into(&send[..], SystemOperation::sum());
                }
                root.broadcast_into(values);
            });
        }

        fn broadcast(&self, root: usize, bytes: &mut [u8]) {
            self.count(bytes.len(), || {
                self.world
                    .process_at_rank(root as i32)
                    .broadcast_into(bytes)
            });
        }

        fn allgather(&self, bytes: &[u8]) -> Vec<Vec<u8>> {
            self.count(bytes.len(), || {
                let size = self.world.size() as usize;
                let mut counts = vec![0_i32; size];
                self.world
                    .all_gather_into(&(bytes.len() as i32), &mut counts[..]);
                let displs: Vec<i32> = counts
                    .iter()
                    .scan(0, |at, &c| {
                        let d = *at;
                        *at += c;
                        Some(d)
                    })
                    .collect();
                let mut all = vec![0_u8; counts.iter().map(|&c| c as usize).sum()];
                // Nothing to gather (OpenMPI refuses two empty buffers: their dangling
                // pointers are equal, which it takes for send and receive in one buffer).
                if !all.is_empty() {
                    let mut part = PartitionMut::new(&mut all[..], &counts[..], &displs[..]);
                    self.world.all_gather_varcount_into(bytes, &mut part);
                }
                counts
                    .iter()
                    .zip(&displs)
                    .map(|(&c, &d)| all[d as usize..(d + c) as usize].to_vec())
                    .collect()
            })
        }

        fn fold_in_rank_order(&self, state: &mut [f64], step: &mut dyn FnMut(&mut [f64])) {
            let (rank, size) = (self.world.rank(), self.world.size());
            if rank > 0 {
                self.count(0, || {
                    self.world.process_at_rank(rank - 1).receive_into(state);
                });
            }
            step(state);
            self.count(state.len() * 8, || {
                if rank + 1 < size {
                    self.world.process_at_rank(rank + 1).send(state);
                }
                self.world.process_at_rank(size - 1).broadcast_into(state);
            });
        }
    }

    /// This rank's rows: its own file when the name holds `{rank}`, else its share of the one.
    fn map_rows(data: &std::path::Path, rank: usize, size: usize) -> Result<(PathBuf, MappedNpy)> {
        let name = data.to_string_lossy();
        let (path, shard) = match name.contains("{rank}") {
            true => (
                PathBuf::from(name.replace("{rank}", &rank.to_string())),
                true,
            ),
            false => (data.to_path_buf(), false),
        };
        // A truncation while mapped ends the run with a message naming the file.
        output::report_sigbus_as_changed_file(&path);
        // SAFETY: `--distributed` maps like `--mmap`, whose documented contract is that the
        // data file is not written to or truncated during the run.
        let mapped = if shard {
            unsafe { open_mapped(&path) }
        } else {
            unsafe { open_mapped_part(&path, rank, size) }
        }
        .map_err(|e| crate::data::flag_error("--data", &path, e))?;
        Ok((path, mapped))
    }

    /// The fit of this rank: Lloyd's iterations or mini-batch steps.
    enum Fitted {
        Lloyd(DistributedFit),
        MiniBatch(DistributedMiniBatchFit),
    }

    impl Fitted {
        fn fit(&self) -> &KMeansFit {
            match self {
                Fitted::Lloyd(d) => &d.fit,
                Fitted::MiniBatch(d) => &d.fit.fit,
            }
        }

        /// Global index of this rank's first row, and rows over all ranks.
        fn rows(&self) -> (usize, usize) {
            match self {
                Fitted::Lloyd(d) => (d.first_row, d.total_rows),
                Fitted::MiniBatch(d) => (d.first_row, d.total_rows),
            }
        }

        /// Values sent per iteration (or step), and what they are.
        fn communication(&self) -> (usize, &'static str) {
            match self {
                Fitted::Lloyd(d) => (
                    d.values_per_iteration(),
                    "per iteration, one sum over the ranks of K*D cluster sums, K counts and the \
                     changed-label count",
                ),
                Fitted::MiniBatch(d) => (
                    d.values_per_step(),
                    "per step, one sum over the ranks of the batch's K*D cluster sums, K counts \
                     and one distance per batch sample",
                ),
            }
        }
    }

    /// Writes every rank's labels into one `.npy` at `path`, all or nothing: each rank its
    /// rows at their place in a temporary file that rank 0 renames over `path`.
    fn write_labels(comm: &Mpi, path: &std::path::Path, d: &Fitted) -> Result<()> {
        let (first, total) = d.rows();
        let header = npy::header_i32(&[total]);
        let bytes: Vec<u8> = d
            .fit()
            .labels
            .iter()
            .flat_map(|&l| (l as i32).to_le_bytes())
            .collect();
        let len = (header.len() + 4 * total) as u64;
        let offset = (header.len() + 4 * first) as u64;
        output::write_parts(comm, path, &header, len, offset, &bytes)
            .with_context(|| format!("--labels-out {}", path.display()))
    }

    pub(in crate::classify) fn run(
        cfg: &Config,
        a: &ClassifyArgs,
        w: &mut impl Write,
        t0: Instant,
    ) -> Result<()> {
        refuse_unsupported(cfg, a)?;
        let (universe, threading) = mpi::initialize_with_threading(Threading::Serialized)
            .context("--distributed: MPI could not be initialised (or already was)")?;
        if threading < Threading::Serialized {
            bail!("--distributed: the MPI library does not allow calls from several threads");
        }
        let comm = Mpi {
            world: universe.world(),
            calls: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            nanos: AtomicU64::new(0),
        };
        let (rank, size) = (comm.rank(), comm.size());
        let data_arg = cfg
            .source
            .data
            .as_deref()
            .expect("checked: --data is given");
        let (path, mapped) = agree(&comm, map_rows(data_arg, rank, size))?;
        let load_ms = ms(t0);
        let data = match mapped.values() {
            MappedValues::U8(x) => Data::u8(x, mapped.dims()),
            MappedValues::F32(x) => Data::f32(x, mapped.dims()),
        };
        let k = cfg.k.unwrap_or(10);
        let rng = cfg
            .seed
            .map_or_else(CvRng::opencv_default, CvRng::from_set_rng_seed);
        let params = cfg.kmeans.clone().k(k).rng(rng).check()?;
        let t = Instant::now();
        let (calls0, bytes0, nanos0) = (
            comm.calls.load(Ordering::Relaxed),
            comm.bytes.load(Ordering::Relaxed),
            comm.nanos.load(Ordering::Relaxed),
        );
        // The library fails on every rank or on none; the ranks at fault say why, and every
        // rank passes their message on (mpirun may stop a rank before it prints).
        let fitted = match &cfg.minibatch {
            None => fit_distributed(&params, data, &comm).map(Fitted::Lloyd),
            Some(mb) => fit_minibatch_distributed(&params, &mb.clone().check()?, data, &comm)
                .map(Fitted::MiniBatch),
        };
        let d = match fitted {
            Ok(d) => d,
            Err(e) => {
                let own = match e {
                    KMeansError::RankFailed { .. } => None,
                    KMeansError::NonFinite { row, col } => Some(format!(
                        "--data {}: sample {row}, feature {col} is not a finite number",
                        path.display()
                    )),
                    e => Some(e.to_string()),
                };
                let all = comm.allgather(own.as_deref().unwrap_or("").as_bytes());
                if let Some(msg) = own {
                    bail!("rank {rank}: {msg}");
                }
                match all.iter().enumerate().find(|(_, m)| !m.is_empty()) {
                    Some((r, m)) => bail!("rank {r} failed: {}", String::from_utf8_lossy(m)),
                    None => bail!("another rank failed; rank {rank} stops too"),
                }
            }
        };
        let fit_ms = ms(t);
        let fit_calls = comm.calls.load(Ordering::Relaxed) - calls0;
        let fit_bytes = comm.bytes.load(Ordering::Relaxed) - bytes0;
        let collective_ms = (comm.nanos.load(Ordering::Relaxed) - nanos0) as f64 / 1e6;
        let t = Instant::now();
        if let Some(p) = &cfg.labels_out {
            write_labels(&comm, p, &d)?;
        }
        let write_ms = ms(t);
        // Every rank's figures, for rank 0's report.
        let mine = [
            mapped.first_row() as f64,
            d.fit().labels.len() as f64,
            load_ms,
            fit_ms,
            collective_ms,
            write_ms,
            crate::summary::peak_rss_mb().unwrap_or(f64::NAN),
            fit_calls as f64,
            fit_bytes as f64,
        ];
        let bytes: Vec<u8> = mine.iter().flat_map(|v| v.to_le_bytes()).collect();
        let ranks: Vec<Vec<f64>> = comm
            .allgather(&bytes)
            .iter()
            .map(|b| {
                b.chunks_exact(8)
                    .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
                    .collect()
            })
            .collect();
        let mut outputs = Outputs::default();
        if rank == 0
            && let Some(p) = &cfg.centers_out
        {
            outputs.add(
                p,
                npy::encode_f32(&[d.fit().k, d.fit().dims], &d.fit().centers),
            );
        }
        let fit = d.fit();
        let total_rows = d.rows().1;
        let (per_iteration, what) = d.communication();
        let mut report = json!({
            "distributed": true,
            "ranks": size,
            "source": data_arg.display().to_string(),
            "n_samples": total_rows,
            "dims": fit.dims,
            "k": fit.k,
            "mode": "fast",
            "algorithm": "lloyd",
            "init": crate::summary::init_name(params.init()),
            "iterations": fit.iterations,
            "best_attempt": fit.best_attempt + 1,
            "compactness": fit.compactness,
            "communication": {
                "values_per_iteration": per_iteration,
                "bytes_per_iteration": per_iteration * 8,
                "what": what,
            },
            "per_rank": ranks.iter().enumerate().map(|(r, v)| json!({
                "rank": r,
                "first_row": v[0] as u64,
                "rows": v[1] as u64,
                "load_ms": v[2],
                "fit_ms": v[3],
                "collectives_ms": v[4],
                "write_ms": v[5],
                "peak_rss_mb": v[6],
                "fit_collective_calls": v[7] as u64,
                "fit_bytes_sent": v[8] as u64,
            })).collect::<Vec<_>>(),
            "timings_ms": { "total": ms(t0) },
        });
        if let Fitted::MiniBatch(m) = &d {
            report["algorithm"] = json!("minibatch");
            report["batch_size"] = json!(m.fit.batch_size);
            report["steps"] = json!(m.fit.steps);
            report["epochs"] = json!(m.fit.epochs);
            report["stop"] = json!(m.fit.stop.name());
            report["communication"] = json!({
                "values_per_step": per_iteration,
                "bytes_per_step": per_iteration * 8,
                "what": what,
            });
        }
        if rank != 0 {
            return Ok(());
        }
        if let Some(p) = &cfg.labels_out {
            report["labels_out"] = json!(p.display().to_string());
        }
        if cfg.json {
            return outputs.commit_with_json(report, w);
        }
        outputs.commit()?;
        writeln!(
            w,
            "Data: {} ({} rows x {} values over {size} ranks)",
            data_arg.display(),
            total_rows,
            fit.dims
        )?;
        let (algorithm, unit) = match &d {
            Fitted::Lloyd(_) => ("fast", "iteration"),
            Fitted::MiniBatch(_) => ("mini-batch", "step"),
        };
        writeln!(
            w,
            "k-means ({algorithm}, distributed): K={}, {} {unit}s, compactness {}",
            fit.k, fit.iterations, fit.compactness
        )?;
        writeln!(
            w,
            "Per {unit} each rank sends {per_iteration} values ({} bytes)",
            per_iteration * 8
        )?;
        for (r, v) in ranks.iter().enumerate() {
            writeln!(
                w,
                "rank {r}: rows {}..{}, fit {:.1} ms (collectives {:.1} ms), peak RSS {:.1} MiB",
                v[0],
                v[0] + v[1],
                v[3],
                v[4],
                v[6]
            )?;
        }
        Ok(())
    }
}

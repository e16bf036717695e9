//! Fast-mode and mini-batch k-means over rows spread across processes: [`fit_distributed`],
//! [`fit_minibatch_distributed`].

use super::fast::distributed::{self as engine, Rows};
use super::fit::{as_bytes, counted};
use super::lloyd::Samples;
use super::minibatch::{self, CheckedMiniBatchParams, MiniBatchFit};
use super::params::{CheckedKMeansParams, Init, Mode};
use super::{Data, KMeansError, KMeansFit};
use crate::collective::Collective;
use crate::kernels::Element;

/// One rank's share of a distributed fit.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct DistributedFit {
    /// The fit: the centers, compactness and iterations of all the rows (the same on every
    /// rank), and the labels of this rank's rows.
    pub fit: KMeansFit,
    /// Global index of this rank's first row (the ranks' rows follow each other in rank
    /// order).
    pub first_row: usize,
    /// Rows over all ranks.
    pub total_rows: usize,
}

impl DistributedFit {
    /// Values each rank sends per Lloyd iteration (one sum over the ranks): the per-cluster
    /// sums, the counts and the number of changed labels, `K·D + K + 1`, of 8 bytes each.
    pub fn values_per_iteration(&self) -> usize {
        self.fit.k * self.fit.dims + self.fit.k + 1
    }
}

/// Fast-mode k-means ([`Mode::Fast`]) of rows held by several processes, each calling this
/// with its own rows (`data`, in rank order: rank 0 holds the first rows) and the same
/// parameters. The result is the fit of one process over all the rows concatenated:
///
/// - byte samples (and `f32` samples that are all bytes, as [`fit`](fn@super::fit) reads them):
///   the same labels, centers, compactness and iterations to the bit, for any number of
///   ranks — cluster sums are exact integers, and everything else follows sample order;
/// - `f32` samples: initial centers and draws as one process's, centers from `f64` sums that
///   differ from one process's sample-order sums by a few ulps (`≤ 1e-6` relative), hence the
///   same labels but for samples within that margin of a tie.
///
/// [`Init::Samples`], [`Init::PlusPlus`], [`Init::RandomBox`], [`Init::Centers`] and
/// [`Init::Parallel`] are supported; initial labels and sample weights are not. k-means++
/// takes K rounds of collectives (a draw walked from rank to rank, a gather and the
/// candidates' potentials, per center); k-means|| ([`Init::parallel`]) takes a few, and
/// seeds the same centers for any number of ranks. With [`SingleProcess`] it is
/// [`CheckedKMeansParams::fit`].
///
/// [`SingleProcess`]: crate::collective::SingleProcess
///
/// # Errors
/// As [`fit`](fn@super::fit), with global sample indices, on the rank whose rows are at fault;
/// every other rank returns [`KMeansError::RankFailed`] naming the first rank that failed,
/// so that no rank waits for the others. [`KMeansError::NotDistributed`] for OpenCV mode,
/// initial labels or sample weights; [`KMeansError::EmptyRank`] for a rank without rows.
///
/// # Examples
/// ```
/// use imgcluster::collective::SingleProcess;
/// use imgcluster::kmeans::{fit_distributed, Data, Init, KMeansParams, Mode};
///
/// let x = [0_u8, 1, 2, 200, 201, 202];
/// let params = KMeansParams::new(2).mode(Mode::Fast).init(Init::PlusPlus).check()?;
/// let d = fit_distributed(&params, Data::u8(&x, 1), &SingleProcess)?;
/// assert_eq!(d.fit, params.fit(Data::u8(&x, 1))?);
/// assert_eq!((d.first_row, d.total_rows, d.values_per_iteration()), (0, 6, 5));
/// # Ok::<(), imgcluster::kmeans::KMeansError>(())
/// ```
pub fn fit_distributed<'a>(
    params: &CheckedKMeansParams,
    data: impl Into<Data<'a>>,
    comm: &dyn Collective,
) -> Result<DistributedFit, KMeansError> {
    if params.mode() != Mode::Fast {
        return Err(KMeansError::NotDistributed {
            what: "OpenCV mode",
        });
    }
    if params.sample_weight().is_some() {
        return Err(KMeansError::NotDistributed {
            what: "sample weights",
        });
    }
    if let Init::Labels { .. } = params.init() {
        return Err(KMeansError::NotDistributed {
            what: "initial labels",
        });
    }
    let data = data.into();
    let dims = data.dims();
    let rows = spread(data, comm)?;
    let mut bytes = Vec::new();
    let widened = match data {
        Data::F32 { values, .. } => as_bytes(values, &mut bytes),
        Data::U8 { .. } => false,
    };
    // f32 pixels are read as bytes only when every rank's are, as one process would.
    let mut flag = [u64::from(!widened && matches!(data, Data::F32 { .. }))];
    comm.allreduce_sum_u64(&mut flag);
    let data = match data {
        Data::F32 { .. } if flag[0] == 0 => Data::u8(&bytes, dims),
        d => d,
    };
    let (k, n) = (params.k(), rows.total);
    if n < k {
        return Err(KMeansError::TooFewSamples { n, k });
    }
    if n > i32::MAX as usize {
        return Err(KMeansError::TooManySamples { n });
    }
    if let Init::Centers(c) = params.init()
        && c.len() != k * dims
    {
        return Err(KMeansError::InitialCentersLength {
            expected: k * dims,
            got: c.len(),
        });
    }
    let fit = match data {
        Data::U8 { values, dims } => run(params, samples(values, dims), rows, comm),
        Data::F32 { values, dims } => run(params, samples(values, dims), rows, comm),
    }?;
    Ok(DistributedFit {
        fit,
        first_row: rows.first,
        total_rows: rows.total,
    })
}

/// One rank's share of a distributed mini-batch fit.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct DistributedMiniBatchFit {
    /// The fit: centers, compactness and steps of all the rows (the same on every rank), and
    /// the labels of this rank's rows.
    pub fit: MiniBatchFit,
    /// Global index of this rank's first row.
    pub first_row: usize,
    /// Rows over all ranks.
    pub total_rows: usize,
}

impl DistributedMiniBatchFit {
    /// Values each rank sends per step (one sum over the ranks): the batch's per-cluster sums
    /// and counts and one distance per batch sample, `K·D + K + batch`, of 8 bytes each.
    pub fn values_per_step(&self) -> usize {
        let f = &self.fit.fit;
        f.k * f.dims + f.k + self.fit.batch_size
    }
}

/// Mini-batch k-means ([`fit_minibatch`](super::fit_minibatch)) of rows held by several
/// processes, each calling this with its own rows (in rank order) and the same parameters.
///
/// **The rule.** Every rank draws the same batches of global sample indices from the
/// parameters' generator, labels the batch samples it holds, and one sum over the ranks per
/// step gives every rank the batch's per-cluster sums and counts and each batch sample's
/// distance; each center then moves to `(count·c + Σ x) / (count + m)` for the `m` batch
/// samples it got, as in one process (that update already depends on the batch's sums only,
/// not on the order of its samples). The seeding samples, and the samples the reassignment
/// moves centers to, are gathered to every rank, which seeds as one process does. So:
///
/// - byte samples: the result of [`CheckedKMeansParams::fit_minibatch`] over all the rows
///   concatenated, to the bit (labels, centers, compactness, steps), for any number of
///   ranks: batch sums are exact integers and every sum of distances follows one process's
///   order;
/// - `f32` samples: the same draws, with batch sums added over the ranks in `f64` (a few
///   ulps from the batch-order sums), so the centers may drift apart by rounding.
///
/// Initial labels and sample weights are refused, as by one process.
///
/// # Errors
/// As [`fit_distributed`] for the rows ([`KMeansError::RankFailed`] on the ranks that were
/// not at fault), and as [`fit_minibatch`](super::fit_minibatch) for the parameters.
///
/// # Examples
/// ```
/// use imgcluster::collective::SingleProcess;
/// use imgcluster::kmeans::{fit_minibatch_distributed, Data, KMeansParams, MiniBatchParams, Mode};
///
/// let x: Vec<u8> = (0..200).map(|i| (i % 2 * 100 + i % 7) as u8).collect();
/// let params = KMeansParams::new(2).mode(Mode::Fast).check()?;
/// let mb = MiniBatchParams::new().batch_size(32).check()?;
/// let d = fit_minibatch_distributed(&params, &mb, Data::u8(&x, 1), &SingleProcess)?;
/// assert_eq!(d.fit, params.fit_minibatch(&mb, Data::u8(&x, 1))?);
/// assert_eq!(d.values_per_step(), 2 + 2 + 32);
/// # Ok::<(), imgcluster::kmeans::KMeansError>(())
/// ```
pub fn fit_minibatch_distributed<'a>(
    params: &CheckedKMeansParams,
    mb: &CheckedMiniBatchParams,
    data: impl Into<Data<'a>>,
    comm: &dyn Collective,
) -> Result<DistributedMiniBatchFit, KMeansError> {
    let data = data.into();
    let rows = spread(data, comm)?;
    let (k, n) = (params.k(), rows.total);
    if n < k {
        return Err(KMeansError::TooFewSamples { n, k });
    }
    if n > i32::MAX as usize {
        return Err(KMeansError::TooManySamples { n });
    }
    let ok = match data {
        Data::U8 { values, dims } => samples(values, dims).magnitude_ok(),
        Data::F32 { values, dims } => samples(values, dims).magnitude_ok(),
    };
    agree(
        comm,
        if ok {
            Ok(())
        } else {
            Err(KMeansError::DistanceOverflow)
        },
    )?;
    let mut rng = params.rng().clone();
    let fit = match data {
        Data::U8 { values, dims } => {
            minibatch::run(params, mb, samples(values, dims), rows, &mut rng, comm)
        }
        Data::F32 { values, dims } => {
            minibatch::run(params, mb, samples(values, dims), rows, &mut rng, comm)
        }
    }?;
    Ok(DistributedMiniBatchFit {
        fit,
        first_row: rows.first,
        total_rows: rows.total,
    })
}

/// Where this rank's rows sit among all the rows, once every rank's rows pass one
/// process's checks ([`check_rows`]); the same error on every rank otherwise.
fn spread(data: Data<'_>, comm: &dyn Collective) -> Result<Rows, KMeansError> {
    let counts: Vec<usize> = comm
        .allgather(&(data.len() as u64).to_le_bytes())
        .iter()
        .map(|b| u64::from_le_bytes(b[..8].try_into().expect("8 bytes")) as usize)
        .collect();
    let rows = Rows {
        first: counts[..comm.rank()].iter().sum(),
        total: counts.iter().sum(),
    };
    agree(comm, check_rows(data, rows, comm.rank()))?;
    Ok(rows)
}

fn samples<T>(data: &[T], dims: usize) -> Samples<'_, T> {
    Samples {
        data,
        n: data.len() / dims,
        dims,
    }
}

/// The engine on the parameters' threads, once every rank knows its data can be clustered.
fn run<T: Element>(
    params: &CheckedKMeansParams,
    samples: Samples<'_, T>,
    rows: Rows,
    comm: &dyn Collective,
) -> Result<KMeansFit, KMeansError> {
    let ok = if samples.magnitude_ok() {
        Ok(())
    } else {
        Err(KMeansError::DistanceOverflow)
    };
    agree(comm, ok)?;
    let mut rng = params.rng().clone();
    let threads = params.threads();
    let parallel = threads.count() > 1;
    threads.install(|| {
        counted(params, || {
            engine::fit(params, samples, rows, &mut rng, parallel, comm)
        })
    })
}

/// This rank's rows as one process would check them (dimensions, whole rows, finite
/// values), with global sample indices; and at least one row.
fn check_rows(data: Data<'_>, rows: Rows, rank: usize) -> Result<(), KMeansError> {
    let dims = data.dims();
    if dims == 0 {
        return Err(KMeansError::ZeroDims);
    }
    let len = match data {
        Data::U8 { values, .. } => values.len(),
        Data::F32 { values, .. } => values.len(),
    };
    if !len.is_multiple_of(dims) {
        return Err(KMeansError::RaggedData { len, dims });
    }
    if len == 0 {
        return Err(KMeansError::EmptyRank { rank });
    }
    if let Data::F32 { values, .. } = data
        && let Some(pos) = values.iter().position(|v| !v.is_finite())
    {
        return Err(KMeansError::NonFinite {
            row: rows.first + pos / dims,
            col: pos % dims,
        });
    }
    Ok(())
}

/// Every rank's outcome of a local step, agreed: this rank's own error, or
/// [`KMeansError::RankFailed`] with the first rank that failed, or the value if none did.
fn agree<T>(comm: &dyn Collective, local: Result<T, KMeansError>) -> Result<T, KMeansError> {
    let mut failed = vec![0_u64; comm.size()];
    failed[comm.rank()] = u64::from(local.is_err());
    comm.allreduce_sum_u64(&mut failed);
    let value = local?;
    match failed.iter().position(|&f| f != 0) {
        Some(rank) => Err(KMeansError::RankFailed { rank }),
        None => Ok(value),
    }
}

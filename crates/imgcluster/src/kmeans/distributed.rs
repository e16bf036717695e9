//! Fast-mode k-means over rows spread across processes: [`fit_distributed`].

use super::fast::distributed::{self as engine, Rows};
use super::fit::{as_bytes, counted};
use super::lloyd::Samples;
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
/// - byte samples (and `f32` samples that are all bytes, as [`fit`](super::fit) reads them):
///   the same labels, centers, compactness and iterations to the bit, for any number of
///   ranks — cluster sums are exact integers, and everything else follows sample order;
/// - `f32` samples: initial centers and draws as one process's, centers from `f64` sums that
///   differ from one process's sample-order sums by a few ulps (`≤ 1e-6` relative), hence the
///   same labels but for samples within that margin of a tie.
///
/// [`Init::Samples`], [`Init::PlusPlus`], [`Init::RandomBox`] and [`Init::Centers`] are
/// supported; initial labels and sample weights are not. With [`SingleProcess`] it is
/// [`CheckedKMeansParams::fit`].
///
/// [`SingleProcess`]: crate::collective::SingleProcess
///
/// # Errors
/// As [`fit`](super::fit), with global sample indices, on the rank whose rows are at fault;
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
    // Where this rank's rows sit.
    let counts: Vec<usize> = comm
        .allgather(&(data.len() as u64).to_le_bytes())
        .iter()
        .map(|b| u64::from_le_bytes(b[..8].try_into().expect("8 bytes")) as usize)
        .collect();
    let rows = Rows {
        first: counts[..comm.rank()].iter().sum(),
        total: counts.iter().sum(),
    };
    let mut bytes = Vec::new();
    let local = check_rows(data, rows, comm.rank()).map(|()| match data {
        Data::F32 { values, .. } => as_bytes(values, &mut bytes),
        Data::U8 { .. } => false,
    });
    let widened = agree(comm, local)?;
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

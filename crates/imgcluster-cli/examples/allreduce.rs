//! Time of one `MPI_Allreduce` (sum) of the message a distributed fit sends per iteration:
//! `K·D + K + 1` u64 values. For the cost model of the README's distributed section.
//!
//!   cargo build --release -p imgcluster-cli --features mpi --example allreduce
//!   mpirun -n P target/release/examples/allreduce [K D [REPEATS]]   (default 256 784 30)
//!
//! Rank 0 prints the median and the fastest time over REPEATS calls, after 3 warm-up calls.

use std::time::Instant;

use mpi::collective::SystemOperation;
use mpi::traits::*;

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("K D REPEATS are whole numbers"))
        .collect();
    let (k, d, repeats) = (
        *args.first().unwrap_or(&256),
        *args.get(1).unwrap_or(&784),
        *args.get(2).unwrap_or(&30),
    );
    let universe = mpi::initialize().expect("MPI initialises");
    let world = universe.world();
    let n = k * d + k + 1;
    let send = vec![1_u64; n];
    let mut recv = vec![0_u64; n];
    let mut times = Vec::with_capacity(repeats);
    for i in 0..repeats + 3 {
        world.barrier();
        let t = Instant::now();
        world.all_reduce_into(&send[..], &mut recv[..], SystemOperation::sum());
        if i >= 3 {
            times.push(t.elapsed().as_secs_f64() * 1e3);
        }
    }
    assert!(recv.iter().all(|&v| v == world.size() as u64));
    times.sort_by(f64::total_cmp);
    if world.rank() == 0 {
        println!(
            "P={} K={k} D={d}: {n} u64 values ({:.2} MB): median {:.3} ms, fastest {:.3} ms",
            world.size(),
            n as f64 * 8.0 / 1e6,
            times[times.len() / 2],
            times[0]
        );
    }
}

//! Runs the M/M/c reference for a given number of customers and prints what it
//! measured, so peak memory can be compared across run lengths:
//!
//!   /usr/bin/time -v target/release/mmc_memory 1000000
//!   /usr/bin/time -v target/release/mmc_memory 10000000
//!
//! With `hand` after the count it runs the hand-written loop instead
//! (`capsim_benches::hand_mmc`), the kernel's yardstick:
//!
//!   target/release/mmc_memory 1000000 hand

use std::time::Instant;

fn main() {
    let customers: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let hand = match std::env::args().nth(2).as_deref() {
        None | Some("kernel") => false,
        Some("hand") => true,
        Some(other) => {
            eprintln!("usage: mmc_memory [CUSTOMERS] [kernel|hand] (not `{other}`)");
            std::process::exit(2);
        }
    };
    let start = Instant::now();
    let o = if hand {
        capsim_benches::hand_mmc(50_000, customers, 1)
    } else {
        capsim_benches::mmc_reference(50_000, customers, 1)
    };
    let secs = start.elapsed().as_secs_f64();
    println!(
        "customers {} events {} wall {:.3} s ({:.2} M customers/s) mean sojourn {:.4} s p99 {:.4} s utilisation {:.4} peak queue capacity {}",
        o.customers,
        o.events,
        secs,
        (o.customers + 50_000) as f64 / secs / 1e6,
        o.mean_sojourn_s,
        o.p99_sojourn_s,
        o.utilization,
        o.peak_waiting
    );
}

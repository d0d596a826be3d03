//! The sweep benchmark (issue 7): 16 points × 5 replications of a one-hour
//! scenario, on 1 and on 2 threads. The scenario is the bundled step-policy
//! with its 3x spike moved into the hour (start 15m, rise 10m, plateau 20m,
//! decay 10m); the grid is the CPU scale-out threshold (0.5, 0.6, 0.7, 0.8)
//! × its cool-down (1m, 3m, 5m, 10m). Throughput is sweep points per second
//! of wall time (× 60 for points per minute).

use std::hint::black_box;

use capsim_models::{PlatformConfig, RunControl, run_points};
use capsim_scenarios::{Override, load};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const FIXED: [&str; 7] = [
    "simulation.duration=1h",
    "simulation.warmup=5m",
    "simulation.replications=5",
    "workload.profile.start=15m",
    "workload.profile.rise=10m",
    "workload.profile.plateau=20m",
    "workload.profile.decay=10m",
];

fn platforms() -> (u64, Vec<PlatformConfig>) {
    let mut out = Vec::new();
    let mut seed = 0;
    for above in ["0.5", "0.6", "0.7", "0.8"] {
        for cooldown in ["1m", "3m", "5m", "10m"] {
            let mut sets: Vec<Override> =
                FIXED.iter().map(|s| Override::parse(s).unwrap()).collect();
            sets.push(
                Override::parse(&format!("tiers.app.scaling.policies[0].above={above}")).unwrap(),
            );
            sets.push(
                Override::parse(&format!(
                    "tiers.app.scaling.policies[0].cooldown={cooldown}"
                ))
                .unwrap(),
            );
            let s = load("step-policy", &sets).unwrap_or_else(|e| panic!("{e}"));
            seed = s.seed;
            out.push(s.platform);
        }
    }
    (seed, out)
}

fn sweep_16_points(c: &mut Criterion) {
    let (seed, mut points) = platforms();
    let mut replications = 5;
    // `cargo test --all-targets` runs each benchmark once as a smoke test
    // (no `--bench` argument): two points of two replications show the code
    // works without a minute of simulation.
    if !std::env::args().any(|a| a == "--bench") {
        points.truncate(2);
        replications = 2;
    }
    let skip = vec![false; points.len()];
    let mut g = c.benchmark_group("sweep");
    g.sample_size(10);
    g.throughput(Throughput::Elements(points.len() as u64));
    for threads in [1, 2] {
        g.bench_function(format!("16_points_x5_reps_1h/{threads}_threads"), |b| {
            b.iter(|| {
                let out = run_points(
                    &points,
                    seed,
                    replications,
                    threads,
                    &skip,
                    &RunControl::default(),
                    |_, r| r.iter().map(|x| x.events).sum::<u64>(),
                )
                .unwrap();
                black_box(out)
            })
        });
    }
    g.finish();
}

criterion_group!(benches, sweep_16_points);
criterion_main!(benches);

//! The full-stack benchmark (issue 3): an hour at 2,000 requests/s over three
//! classes through load balancer → API (8 instances) → Redis → Postgres
//! (primary + 2 replicas) with one worker queue, from
//! `benches/scenarios/full-stack-hour.toml`. Throughput is simulated requests
//! (2,000/s × 3,600 s) per second of wall time, one replication on one core.

use std::hint::black_box;

use capsim_models::simulate;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn full_stack_hour(c: &mut Criterion) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/full-stack-hour.toml"
    );
    let scenario = capsim_scenarios::load_file(std::path::Path::new(path), &[])
        .unwrap_or_else(|e| panic!("{e}"));
    let requests = (2_000.0 * scenario.platform.horizon.as_secs_f64()) as u64;
    let mut g = c.benchmark_group("full_stack");
    g.sample_size(10);
    g.throughput(Throughput::Elements(requests));
    g.bench_function("hour_2000_rps", |b| {
        b.iter(|| black_box(simulate(&scenario.platform, scenario.seed, 0)))
    });
    g.finish();
}

criterion_group!(benches, full_stack_hour);
criterion_main!(benches);

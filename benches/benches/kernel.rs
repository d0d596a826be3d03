//! Kernel benchmarks: the M/M/c reference (customers per second), the bare
//! event queue, and the platform model running the same system.

use std::hint::black_box;

use capsim_benches::mmc_reference;
use capsim_models::{
    Arrivals, ClassConfig, ClientPolicy, Handle, Op, PlatformConfig, RateProfile, StationConfig,
    TierConfig, TierKind, handles, simulate,
};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sim_engine::{Dist, EventQueue, SimDuration, SimTime, StreamRng};

const WARMUP: u64 = 50_000;
const MEASURED: u64 = 1_000_000;

fn mmc(c: &mut Criterion) {
    let mut g = c.benchmark_group("mmc_reference");
    g.sample_size(20);
    g.throughput(Throughput::Elements(WARMUP + MEASURED));
    g.bench_function("kernel_1M_customers", |b| {
        b.iter(|| black_box(mmc_reference(WARMUP, MEASURED, 1)))
    });

    // The same system through the full platform model (what `capsim run`
    // executes): 1.05M customers in expectation.
    let tiers = vec![TierConfig {
        name: "servers".into(),
        kind: TierKind::Station(StationConfig::plain(
            10,
            Dist::exponential(1.0).unwrap(),
            None,
        )),
        scaling: None,
        billing: None,
        region: None,
        transfer: Default::default(),
    }];
    let Handle::Station(servers) = handles(&tiers)[0] else {
        unreachable!("tier 0 is a station")
    };
    let cfg = PlatformConfig {
        name: "bench".into(),
        horizon: SimDuration::from_secs_f64((WARMUP + MEASURED) as f64 / 9.0),
        warmup: SimDuration::from_secs_f64(WARMUP as f64 / 9.0),
        series_interval: SimDuration::from_secs(60),
        classes: vec![ClassConfig {
            name: "jobs".into(),
            arrivals: Arrivals {
                rate_per_s: 9.0,
                profile: RateProfile::Constant,
                closed: None,
                process: Default::default(),
            },
            client: ClientPolicy::default(),
            response_bytes: 0.0,
            region: None,
            priority: 0,
            program: vec![
                Op::Station {
                    tier: servers,
                    demand: None,
                },
                Op::End,
            ],
        }],
        tiers,
        failures: Vec::new(),
        slos: Vec::new(),
        traffic: Default::default(),
        regions: None,
    };
    g.bench_function("platform_model_1M_customers", |b| {
        b.iter(|| black_box(simulate(&cfg, 1, 0)))
    });
    g.finish();
}

fn event_queue(c: &mut Criterion) {
    // Hold model: a steady heap of 1,000 pending events; each step pops the
    // earliest and schedules one at a random future time.
    let mut g = c.benchmark_group("event_queue");
    const STEPS: u64 = 1_000_000;
    g.throughput(Throughput::Elements(STEPS));
    g.bench_function("hold_1000_pending", |b| {
        b.iter(|| {
            let mut q: EventQueue<u32> = EventQueue::with_capacity(1_024);
            let mut rng = StreamRng::new(1, 0, "hold");
            for i in 0..1_000 {
                q.push(SimTime::from_nanos(rng.below(1_000_000)), i);
            }
            for _ in 0..STEPS {
                let (t, e) = q.pop().unwrap();
                q.push(SimTime::from_nanos(t.as_nanos() + rng.below(1_000_000)), e);
            }
            black_box(q.len())
        })
    });
    g.finish();
}

criterion_group!(benches, mmc, event_queue);
criterion_main!(benches);

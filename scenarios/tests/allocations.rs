// Its own test binary: its counting #[global_allocator] would count the other tests' allocations.
//! The hot path allocates nothing, and memory does not grow with the number
//! of requests: a run of ten times the requests makes (almost) no more heap
//! allocations and reaches the same peak of live heap bytes. Counted with a
//! global allocator wrapper in this test binary only; the tests take a lock
//! so that one's counts are not the other's.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use capsim_models::simulate;
use capsim_scenarios::{Override, load_file, load_str};

struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
/// Heap bytes allocated and not yet freed, and their peak.
static LIVE: AtomicU64 = AtomicU64::new(0);
static PEAK: AtomicU64 = AtomicU64::new(0);
static SERIAL: Mutex<()> = Mutex::new(());

/// Held by every test of this binary while it counts.
fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn grow(bytes: usize) {
    let live = LIVE.fetch_add(bytes as u64, Ordering::Relaxed) + bytes as u64;
    PEAK.fetch_max(live, Ordering::Relaxed);
}

fn shrink(bytes: usize) {
    LIVE.fetch_sub(bytes as u64, Ordering::Relaxed);
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grow(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grow(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        shrink(layout.size());
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            // Counted as the new block in, the old one out: the peak sees
            // both at once, as a copying reallocation does.
            grow(new_size);
            shrink(layout.size());
        }
        p
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Every tier kind and route step, timeouts and retries, random balancing and
/// read routing, jobs with retries, a crash: the paths a request can take.
const STACK: &str = r#"
[scenario]
name = "alloc"
[simulation]
duration = "DURATION"
warmup = "10s"
replications = 2
[workload]
rate_per_s = 1500
[classes.browse]
share = 0.6
timeout = "50ms"
retries = 2
route = [
  { cdn = "edge" },
  { api = "web", cpu = { dist = "exponential", mean = "2ms" } },
  { cache = "redis", on_miss = [ { db = "pg", query = "read" }, { cache = "redis", op = "set" } ] },
  { branch = [ { p = 0.5, route = [ { delay = { dist = "exponential", mean = "1ms" } } ] },
               { p = 0.5, route = [ { cpu = { dist = "exponential", mean = "1ms" } } ] } ] },
]
[classes.buy]
share = 0.3
route = [
  { api = "web", cpu = { dist = "exponential", mean = "3ms" } },
  { db = "pg", query = "write" },
  { enqueue = "jobs", job = "mail" },
]
[classes.batch]
share = 0.1
route = [ "station" ]
[tiers.edge]
kind = "cdn"
hit_ratio = 0.3
[tiers.web]
kind = "api"
instances = 4
cores = 2
balancer = "power_of_two"
backlog = 50
[tiers.redis]
kind = "cache"
shards = 2
hit_ratio = 0.8
[tiers.pg]
kind = "database"
primary = { cores = 4 }
replicas = 2
read_routing = "least_busy"
pool = { size = 4, acquire_timeout = "20ms" }
[tiers.pg.queries.read]
kind = "read"
cpu = { dist = "exponential", mean = "2ms" }
[tiers.pg.queries.write]
kind = "write"
cpu = { dist = "exponential", mean = "3ms" }
io = { dist = "exponential", mean = "1ms" }
[tiers.jobs]
kind = "workers"
workers = 2
concurrency = 4
[tiers.jobs.queues.default]
[tiers.jobs.jobs.mail]
queue = "default"
service = { dist = "exponential", mean = "20ms" }
failure_probability = 0.1
retries = 2
backoff = "100ms"
[tiers.station]
kind = "station"
servers = 2
service = { dist = "exponential", mean = "5ms" }
capacity = 20
[[failures]]
tier = "pg"
unit = 1
action = "crash"
mtbf = "30s"
mttr = "5s"
"#;

fn allocations_for(duration: &str) -> (u64, u64) {
    let s = load_str("alloc", &STACK.replace("DURATION", duration), &[]).unwrap();
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    let r = simulate(&s.platform, 1, 0);
    let after = ALLOCATIONS.load(Ordering::Relaxed);
    (after - before, r.totals().arrived)
}

#[test]
fn allocations_do_not_grow_with_requests() {
    let _serial = serial();
    let (short_allocs, short_requests) = allocations_for("40s");
    let (long_allocs, long_requests) = allocations_for("400s");
    eprintln!(
        "{short_requests} requests: {short_allocs} allocations; {long_requests} requests: {long_allocs} allocations"
    );
    assert!(long_requests > 9 * short_requests);
    // Growth is per interval of the time series and amortised doubling of
    // arenas and queues, not per request: far under one in a thousand.
    let extra = long_allocs.saturating_sub(short_allocs);
    let extra_requests = long_requests - short_requests;
    assert!(
        extra * 1_000 < extra_requests,
        "{extra} more allocations for {extra_requests} more requests"
    );
}

/// Peak live heap bytes of one replication above those live before it
/// started, and its requests. The time series get one interval whatever the
/// horizon (they grow with time, by design, not with requests). The stack's
/// workers get 16 slots instead of 8: with 8 they are overloaded (about 10
/// busy slots wanted), and the backlog of jobs a run must hold grows with
/// time, rightly; here every queue is stable.
fn peak_bytes_for(duration: &str) -> (u64, u64) {
    let text = STACK
        .replace("DURATION", duration)
        .replace(
            "warmup = \"10s\"",
            &format!("warmup = \"10s\"\ninterval = \"{duration}\""),
        )
        .replace("workers = 2", "workers = 4");
    assert!(text.contains("workers = 4") && text.contains("interval"));
    peak_of(&load_str("alloc", &text, &[]).unwrap())
}

fn peak_of(s: &capsim_scenarios::Scenario) -> (u64, u64) {
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let r = simulate(&s.platform, 1, 0);
    let peak = PEAK.load(Ordering::Relaxed) - base;
    (peak, r.totals().arrived)
}

/// The same for the full-stack benchmark of benches/README.md.
fn benchmark_peak_for(duration: &str) -> (u64, u64) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../benches/scenarios/full-stack-hour.toml"
    );
    let overrides: Vec<Override> = [
        format!("simulation.duration={duration}"),
        format!("simulation.interval={duration}"),
        "simulation.warmup=30s".to_string(),
    ]
    .iter()
    .map(|o| Override::parse(o).unwrap())
    .collect();
    peak_of(&load_file(std::path::Path::new(path), &overrides).unwrap())
}

/// Ten times the requests or more, and a peak less than 10% higher: the
/// same histograms, units and series; only the high-water marks of requests
/// in flight and pending events may differ (a longer run meets rarer peaks).
/// Keeping as little as 8 bytes per request would add megabytes.
fn assert_peak_flat(
    (short_peak, short_requests): (u64, u64),
    (long_peak, long_requests): (u64, u64),
) {
    eprintln!(
        "{short_requests} requests: peak {short_peak} B; {long_requests} requests: peak {long_peak} B"
    );
    assert!(long_requests > 9 * short_requests);
    assert!(
        long_peak < short_peak + short_peak / 10,
        "peak {short_peak} B for {short_requests} requests, {long_peak} B for {long_requests}"
    );
}

#[test]
fn peak_memory_does_not_grow_with_requests() {
    let _serial = serial();
    assert_peak_flat(peak_bytes_for("40s"), peak_bytes_for("400s"));
}

#[test]
fn the_benchmarks_peak_memory_does_not_grow_with_requests() {
    let _serial = serial();
    assert_peak_flat(benchmark_peak_for("2m"), benchmark_peak_for("20m"));
}

/// One replication of the allocation test's stack at 20 req/s over
/// `duration` (one-minute intervals): its peak live heap, its requests and
/// the series values per interval its results hold (each tier's series,
/// each class's four counts and three percentiles, the three of all
/// classes).
fn horizon_run(duration: &str) -> (u64, u64, u64) {
    let text = STACK
        .replace("DURATION", duration)
        .replace("rate_per_s = 1500", "rate_per_s = 20")
        .replace("workers = 2", "workers = 4");
    assert!(text.contains("rate_per_s = 20"));
    let s = load_str("alloc", &text, &[]).unwrap();
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let r = simulate(&s.platform, 1, 0);
    let peak = PEAK.load(Ordering::Relaxed) - base;
    let values = r.tiers.iter().map(|t| t.series.len()).sum::<usize>()
        + r.classes
            .iter()
            .map(|c| 4 + c.latency_series.len())
            .sum::<usize>()
        + r.latency_series.len();
    (peak, r.totals().arrived, values as u64)
}

/// The same for Black Friday's stack at a constant 50 req/s, one
/// replication: the bundled scenario of a long, busy day.
fn black_friday_peak_for(duration: &str) -> (u64, u64) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/library/black-friday.toml");
    let overrides: Vec<Override> = [
        "workload.profile={kind=\"constant\"}".to_string(),
        "workload.rate_per_s=50".to_string(),
        format!("simulation.duration={duration}"),
        "simulation.replications=1".to_string(),
    ]
    .iter()
    .map(|o| Override::parse(o).unwrap())
    .collect();
    peak_of(&load_file(std::path::Path::new(path), &overrides).unwrap())
}

/// A replication's peak heap over 24 hours is within a fifth of its peak
/// over 3 (one-minute intervals: 1,440 and 180 of them). Its series' closed
/// intervals are spilled to a temporary file as the run goes, and its
/// results' series are parked there until the run's state is freed, so
/// the horizon adds far less than the results' own series (8 bytes per
/// value and interval): what remains is the series billed over a unit's
/// life (cost), a station's own, each tier's series while its report is
/// made, and the failures logged (this stack crashes a node every 30 s).
/// With the scratch file off, every series held whole, it grew by 1,057 bytes
/// per interval here (1.32x).
#[test]
fn peak_memory_stays_flat_in_the_horizon() {
    let _serial = serial();
    let (short_peak, short_requests, values) = horizon_run("3h");
    let (long_peak, long_requests, _) = horizon_run("24h");
    let per_interval = long_peak.saturating_sub(short_peak) / ((24 - 3) * 60);
    eprintln!(
        "3 h, {short_requests} requests: peak {short_peak} B; 24 h, {long_requests} requests: \
         peak {long_peak} B ({:.3}x); {per_interval} B more per interval, {values} values per \
         interval in the results",
        long_peak as f64 / short_peak as f64
    );
    assert!(long_requests > 7 * short_requests);
    assert!(
        long_peak * 5 <= short_peak * 6,
        "peak {short_peak} B over 3 h, {long_peak} B over 24 h"
    );
    assert!(
        per_interval < 8 * values,
        "{per_interval} B more per interval for {values} series values"
    );
    let (short_peak, short_requests) = black_friday_peak_for("3h");
    let (long_peak, long_requests) = black_friday_peak_for("24h");
    eprintln!(
        "black-friday: 3 h, {short_requests} requests: peak {short_peak} B; 24 h, \
         {long_requests} requests: peak {long_peak} B ({:.3}x)",
        long_peak as f64 / short_peak as f64
    );
    assert!(long_requests > 7 * short_requests);
    assert!(
        long_peak * 5 <= short_peak * 6,
        "black-friday: peak {short_peak} B over 3 h, {long_peak} B over 24 h"
    );
}

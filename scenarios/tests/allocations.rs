//! The hot path allocates nothing: a run of ten times the requests makes
//! (almost) no more heap allocations. Counted with a global allocator wrapper
//! in this test binary only.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};

use capsim_models::simulate;
use capsim_scenarios::load_str;

struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
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

//! A synthetic stack's spans, written in the contract's format: for the
//! tests, the worked example in docs/calibrate.md and the throughput
//! benchmark (`cargo run --release -p capsim-calibrate --example synth-spans`).
//!
//! Three classes at low load (no queueing, so each span is its service
//! time): `GET /items/{id}` (CPU, a Redis GET that hits 80%, on a miss a
//! pool acquisition, a Postgres SELECT and a Redis SET), `POST /orders`
//! (CPU, an INSERT, an enqueue of `process_order`, whose CONSUMER span and
//! its UPDATE go to the worker's file) and `GET /health` (CPU only).

use std::io::{self, Write};

use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, Exp, Gamma, LogNormal};
use rand_xorshift::XorShiftRng;

#[derive(Debug, Clone)]
pub struct SynthOptions {
    pub requests: u64,
    pub rate_per_s: f64,
    pub seed: u64,
    /// Unix time of the first arrival, ns.
    pub start_ns: u64,
    /// Write `kind` as "SPAN_KIND_SERVER" and intValue as a JSON number
    /// (what some collectors do) instead of the contract's int and string.
    pub loose: bool,
    /// Traces per line (a collector batches spans).
    pub traces_per_line: usize,
    /// The API's and the worker's `process.pid`.
    pub pids: (u32, u32),
}

impl Default for SynthOptions {
    fn default() -> Self {
        SynthOptions {
            requests: 2_000,
            rate_per_s: 50.0,
            seed: 1,
            start_ns: 1_767_225_600_000_000_000,
            loose: false,
            traces_per_line: 4,
            pids: (4242, 4343),
        }
    }
}

/// What the generator drew from, to check calibration against.
pub mod truth {
    /// CPU of GET /items/{id}: lognormal(mu, sigma) of seconds.
    pub const ITEMS_CPU: (f64, f64) = (-6.2, 0.35);
    /// CPU of POST /orders: gamma(shape, scale seconds).
    pub const ORDERS_CPU: (f64, f64) = (4.0, 0.0008);
    /// CPU of GET /health: exponential mean, seconds.
    pub const HEALTH_CPU: f64 = 0.0003;
    pub const HIT_RATIO: f64 = 0.8;
    /// Shares of the three classes.
    pub const MIX: [f64; 3] = [0.7, 0.2, 0.1];
    /// Postgres SELECT: lognormal.
    pub const SELECT: (f64, f64) = (-7.0, 0.3);
    /// Job service (self): gamma.
    pub const JOB: (f64, f64) = (2.0, 0.01);
    pub const POOL_SIZE: i64 = 10;
    pub const CONCURRENCY: i64 = 4;
}

/// What the stack's spans are drawn from (besides `truth`, the calls'
/// service times and the gaps between arrivals).
struct Dists {
    items_cpu: LogNormal<f64>,
    orders_cpu: Gamma<f64>,
    health_cpu: Exp<f64>,
    select: LogNormal<f64>,
    redis: LogNormal<f64>,
    insert: LogNormal<f64>,
    update: LogNormal<f64>,
    job: Gamma<f64>,
    pool_wait: Exp<f64>,
    /// From an enqueue to the job's start.
    job_wait: Exp<f64>,
    gap: Exp<f64>,
}

impl Dists {
    fn new(rate_per_s: f64) -> Self {
        use truth::*;
        Dists {
            items_cpu: LogNormal::new(ITEMS_CPU.0, ITEMS_CPU.1).expect("valid"),
            orders_cpu: Gamma::new(ORDERS_CPU.0, ORDERS_CPU.1).expect("valid"),
            health_cpu: Exp::new(1.0 / HEALTH_CPU).expect("valid"),
            select: LogNormal::new(SELECT.0, SELECT.1).expect("valid"),
            redis: LogNormal::new(-9.6, 0.25).expect("valid"), // ~70 us
            insert: LogNormal::new(-6.5, 0.3).expect("valid"),
            update: LogNormal::new(-6.8, 0.3).expect("valid"),
            job: Gamma::new(JOB.0, JOB.1).expect("valid"),
            pool_wait: Exp::new(1.0 / 20e-6).expect("valid"),
            job_wait: Exp::new(1.0 / 0.002).expect("valid"),
            gap: Exp::new(rate_per_s).expect("valid"),
        }
    }
}

/// Seconds to whole nanoseconds, at least one.
fn ns(s: f64) -> u64 {
    (s * 1e9).round().max(1.0) as u64
}

/// One span, before its ids are given.
struct Span {
    name: String,
    kind: u8,
    start: u64,
    end: u64,
    attrs: String,
}

/// One span file: the writer, the span ids it hands out and how full the
/// current line (one `ExportTraceServiceRequest`) is.
struct SpanFile<'a, O: Write> {
    out: &'a mut O,
    loose: bool,
    service: &'static str,
    pid: u32,
    traces_per_line: usize,
    next_id: u64,
    /// Traces in the open line, 0 when no line is open.
    in_line: usize,
    /// No span yet in the open line (so no comma before the next).
    first: bool,
}

impl<'a, O: Write> SpanFile<'a, O> {
    fn new(
        out: &'a mut O,
        o: &SynthOptions,
        service: &'static str,
        pid: u32,
        first_id: u64,
    ) -> Self {
        SpanFile {
            out,
            loose: o.loose,
            service,
            pid,
            traces_per_line: o.traces_per_line,
            next_id: first_id,
            in_line: 0,
            first: true,
        }
    }

    fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    fn kind(&self, k: u8) -> String {
        if self.loose {
            let n = [
                "UNSPECIFIED",
                "INTERNAL",
                "SERVER",
                "CLIENT",
                "PRODUCER",
                "CONSUMER",
            ][k as usize];
            format!("\"SPAN_KIND_{n}\"")
        } else {
            k.to_string()
        }
    }

    fn int(&self, v: i64) -> String {
        int_value(self.loose, v)
    }

    /// Opens a line if none is open.
    fn begin_trace(&mut self) -> io::Result<()> {
        if self.in_line == 0 {
            head(self.out, self.service, self.pid)?;
            self.first = true;
        }
        Ok(())
    }

    /// Closes the line once it holds `traces_per_line` traces.
    fn end_trace(&mut self) -> io::Result<()> {
        self.in_line += 1;
        if self.in_line == self.traces_per_line {
            self.out.write_all(TAIL)?;
            self.in_line = 0;
        }
        Ok(())
    }

    /// Closes the open line, if any.
    fn finish(&mut self) -> io::Result<()> {
        if self.in_line > 0 {
            self.out.write_all(TAIL)?;
        }
        Ok(())
    }

    fn span(&mut self, trace: u128, id: u64, parent: u64, s: &Span) -> io::Result<()> {
        if !self.first {
            self.out.write_all(b",")?;
        }
        self.first = false;
        let parent = if parent == 0 {
            String::new()
        } else {
            format!("{parent:016x}")
        };
        let (start, end) = if self.loose {
            (s.start.to_string(), s.end.to_string())
        } else {
            (format!("\"{}\"", s.start), format!("\"{}\"", s.end))
        };
        write!(
            self.out,
            "{{\"traceId\":\"{trace:032x}\",\"spanId\":\"{id:016x}\",\"parentSpanId\":\"{parent}\",\"name\":\"{}\",\"kind\":{},\"startTimeUnixNano\":{start},\"endTimeUnixNano\":{end},\"attributes\":[{}],\"status\":{{}}}}",
            s.name,
            self.kind(s.kind),
            s.attrs
        )
    }
}

/// An intValue: a decimal string (the contract) or, loose, a JSON number.
fn int_value(loose: bool, v: i64) -> String {
    if loose {
        v.to_string()
    } else {
        format!("\"{v}\"")
    }
}

fn s_attr(k: &str, v: &str) -> String {
    format!("{{\"key\":\"{k}\",\"value\":{{\"stringValue\":\"{v}\"}}}}")
}

fn db_attrs(op: &str, table: &str) -> String {
    format!(
        "{},{},{},{}",
        s_attr("db.system.name", "postgresql"),
        s_attr("db.operation.name", op),
        s_attr("db.collection.name", table),
        s_attr("capsim.db.node", "primary")
    )
}

fn head(out: &mut impl Write, service: &str, pid: u32) -> io::Result<()> {
    write!(
        out,
        "{{\"resourceSpans\":[{{\"resource\":{{\"attributes\":[{},{{\"key\":\"process.pid\",\"value\":{{\"intValue\":\"{pid}\"}}}}]}},\"scopeSpans\":[{{\"scope\":{{\"name\":\"capsim-synth\"}},\"spans\":[",
        s_attr("service.name", service)
    )
}

const TAIL: &[u8] = b"]}]}]}\n";

/// A request as drawn: its SERVER span and the children under it.
struct Request {
    trace: u128,
    method: &'static str,
    route: &'static str,
    start: u64,
    end: u64,
    children: Vec<Span>,
    /// When it enqueued `process_order`, if it did.
    enqueued: Option<u64>,
}

/// A request's children, laid end to end from `now`.
struct Calls<'r> {
    rng: &'r mut XorShiftRng,
    d: &'r Dists,
    loose: bool,
    now: u64,
    spans: Vec<Span>,
}

impl Calls<'_> {
    /// A child of `seconds` from now; now moves to its end.
    fn push(&mut self, name: &str, kind: u8, seconds: f64, attrs: String) {
        let d = ns(seconds);
        self.spans.push(Span {
            name: name.to_string(),
            kind,
            start: self.now,
            end: self.now + d,
            attrs,
        });
        self.now += d;
    }

    fn pool_acquire(&mut self) {
        let wait = self.d.pool_wait.sample(self.rng);
        let attrs = format!(
            "{},{},{{\"key\":\"capsim.pool.size\",\"value\":{{\"intValue\":{}}}}}",
            s_attr("db.system.name", "postgresql"),
            s_attr("capsim.pool.name", "primary"),
            int_value(self.loose, truth::POOL_SIZE)
        );
        self.push("pool.acquire", 1, wait, attrs);
    }

    /// `GET /items/{id}`: a Redis GET; on a miss the pool, a SELECT and a SET.
    fn items(&mut self) {
        let hit = self.rng.random::<f64>() < truth::HIT_RATIO;
        let get = self.d.redis.sample(self.rng);
        self.push(
            "redis GET",
            3,
            get,
            format!(
                "{},{},{{\"key\":\"capsim.cache.hit\",\"value\":{{\"boolValue\":{hit}}}}}",
                s_attr("db.system.name", "redis"),
                s_attr("db.operation.name", "GET")
            ),
        );
        if !hit {
            self.pool_acquire();
            let select = self.d.select.sample(self.rng);
            self.push(
                "postgresql SELECT items",
                3,
                select,
                db_attrs("SELECT", "items"),
            );
            let set = self.d.redis.sample(self.rng);
            self.push(
                "redis SET",
                3,
                set,
                format!(
                    "{},{}",
                    s_attr("db.system.name", "redis"),
                    s_attr("db.operation.name", "SET")
                ),
            );
        }
    }

    /// `POST /orders`: the pool, an INSERT and an enqueue; returns when the
    /// enqueue started.
    fn orders(&mut self) -> u64 {
        self.pool_acquire();
        let insert = self.d.insert.sample(self.rng);
        self.push(
            "postgresql INSERT orders",
            3,
            insert,
            db_attrs("INSERT", "orders"),
        );
        let enqueued = self.now;
        let enqueue = self.d.redis.sample(self.rng);
        self.push(
            "arq enqueue process_order",
            4,
            enqueue,
            format!(
                "{},{},{}",
                s_attr("messaging.system", "arq"),
                s_attr("messaging.destination.name", "arq:queue"),
                s_attr("messaging.operation.type", "send")
            ),
        );
        enqueued
    }
}

/// Draws a request arriving at `start`: its class, its CPU (half before
/// the calls, half after in a "render" span) and its calls.
fn draw_request(rng: &mut XorShiftRng, d: &Dists, start: u64, loose: bool) -> Request {
    use truth::MIX;
    let trace: u128 = rng.random();
    let u: f64 = rng.random();
    let (method, route, cpu) = if u < MIX[0] {
        ("GET", "/items/{id}", d.items_cpu.sample(rng))
    } else if u < MIX[0] + MIX[1] {
        ("POST", "/orders", d.orders_cpu.sample(rng))
    } else {
        ("GET", "/health", d.health_cpu.sample(rng))
    };
    let cpu_ns = ns(cpu);
    let mut calls = Calls {
        rng,
        d,
        loose,
        now: start + cpu_ns / 2,
        spans: Vec::new(),
    };
    let mut enqueued = None;
    match route {
        "/items/{id}" => calls.items(),
        "/orders" => enqueued = Some(calls.orders()),
        _ => {}
    }
    let render_start = calls.now;
    let end = render_start + (cpu_ns - cpu_ns / 2);
    let mut children = calls.spans;
    children.push(Span {
        name: "render".into(),
        kind: 1,
        start: render_start,
        end,
        attrs: String::new(),
    });
    Request {
        trace,
        method,
        route,
        start,
        end,
        children,
        enqueued,
    }
}

/// Writes a request's spans, children first as exporters do; returns the
/// spans written and the PRODUCER span's id (0 if none).
fn write_request<O: Write>(api: &mut SpanFile<'_, O>, r: &Request) -> io::Result<(u64, u64)> {
    api.begin_trace()?;
    let root = api.id();
    let mut producer = 0;
    for child in &r.children {
        let id = api.id();
        if child.kind == 4 {
            producer = id;
        }
        api.span(r.trace, id, root, child)?;
    }
    let server = Span {
        name: format!("{} {}", r.method, r.route),
        kind: 2,
        start: r.start,
        end: r.end,
        attrs: format!(
            "{},{},{{\"key\":\"http.response.status_code\",\"value\":{{\"intValue\":{}}}}}",
            s_attr("http.request.method", r.method),
            s_attr("http.route", r.route),
            api.int(200)
        ),
    };
    api.span(r.trace, root, 0, &server)?;
    api.end_trace()?;
    Ok((r.children.len() as u64 + 1, producer))
}

/// Draws and writes the job a request enqueued at `enqueued`: a CONSUMER
/// span under the PRODUCER span `producer`, with an UPDATE in the middle of
/// its self time; returns the spans written.
fn write_job<O: Write>(
    worker: &mut SpanFile<'_, O>,
    rng: &mut XorShiftRng,
    d: &Dists,
    (trace, producer): (u128, u64),
    enqueued: u64,
) -> io::Result<u64> {
    worker.begin_trace()?;
    let start = enqueued + ns(d.job_wait.sample(rng));
    let self_ns = ns(d.job.sample(rng));
    let upd = ns(d.update.sample(rng));
    let cid = worker.id();
    let uid = worker.id();
    let ustart = start + self_ns / 2;
    let update = Span {
        name: "postgresql UPDATE orders".into(),
        kind: 3,
        start: ustart,
        end: ustart + upd,
        attrs: db_attrs("UPDATE", "orders"),
    };
    worker.span(trace, uid, cid, &update)?;
    let consumer = Span {
        name: "arq process process_order".into(),
        kind: 5,
        start,
        end: start + self_ns + upd,
        attrs: format!(
            "{},{},{{\"key\":\"capsim.job.enqueue_time_unix_nano\",\"value\":{{\"intValue\":{}}}}},{{\"key\":\"capsim.worker.concurrency\",\"value\":{{\"intValue\":{}}}}}",
            s_attr("messaging.system", "arq"),
            s_attr("messaging.operation.type", "process"),
            worker.int(enqueued as i64),
            worker.int(truth::CONCURRENCY)
        ),
    };
    worker.span(trace, cid, producer, &consumer)?;
    worker.end_trace()?;
    Ok(2)
}

/// Writes the API's and the worker's span files; returns the spans written.
pub fn write(api: &mut impl Write, worker: &mut impl Write, o: &SynthOptions) -> io::Result<u64> {
    let mut rng = XorShiftRng::seed_from_u64(o.seed);
    let d = Dists::new(o.rate_per_s);
    let mut api = SpanFile::new(api, o, "api", o.pids.0, 0);
    let mut worker = SpanFile::new(worker, o, "worker", o.pids.1, 1 << 40);
    let mut t = o.start_ns as f64;
    let mut spans = 0u64;
    for _ in 0..o.requests {
        t += d.gap.sample(&mut rng) * 1e9;
        let request = draw_request(&mut rng, &d, t as u64, o.loose);
        let (n, producer) = write_request(&mut api, &request)?;
        spans += n;
        if let Some(enqueued) = request.enqueued {
            spans += write_job(
                &mut worker,
                &mut rng,
                &d,
                (request.trace, producer),
                enqueued,
            )?;
        }
    }
    api.finish()?;
    worker.finish()?;
    Ok(spans)
}

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

struct W<'a, O: Write> {
    out: &'a mut O,
    loose: bool,
    next_id: u64,
}

impl<O: Write> W<'_, O> {
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
        if self.loose {
            v.to_string()
        } else {
            format!("\"{v}\"")
        }
    }
    #[allow(clippy::too_many_arguments)]
    fn span(
        &mut self,
        first: &mut bool,
        trace: u128,
        id: u64,
        parent: u64,
        name: &str,
        kind: u8,
        (start, end): (u64, u64),
        attrs: &str,
    ) -> io::Result<()> {
        if !*first {
            self.out.write_all(b",")?;
        }
        *first = false;
        let parent = if parent == 0 {
            String::new()
        } else {
            format!("{parent:016x}")
        };
        let (s, e) = if self.loose {
            (start.to_string(), end.to_string())
        } else {
            (format!("\"{start}\""), format!("\"{end}\""))
        };
        write!(
            self.out,
            "{{\"traceId\":\"{trace:032x}\",\"spanId\":\"{id:016x}\",\"parentSpanId\":\"{parent}\",\"name\":\"{name}\",\"kind\":{},\"startTimeUnixNano\":{s},\"endTimeUnixNano\":{e},\"attributes\":[{attrs}],\"status\":{{}}}}",
            self.kind(kind)
        )
    }
}

fn s_attr(k: &str, v: &str) -> String {
    format!("{{\"key\":\"{k}\",\"value\":{{\"stringValue\":\"{v}\"}}}}")
}

fn head(out: &mut impl Write, service: &str, pid: u32) -> io::Result<()> {
    write!(
        out,
        "{{\"resourceSpans\":[{{\"resource\":{{\"attributes\":[{},{{\"key\":\"process.pid\",\"value\":{{\"intValue\":\"{pid}\"}}}}]}},\"scopeSpans\":[{{\"scope\":{{\"name\":\"capsim-synth\"}},\"spans\":[",
        s_attr("service.name", service)
    )
}

const TAIL: &[u8] = b"]}]}]}\n";

/// Writes the API's and the worker's span files; returns the spans written.
pub fn write(api: &mut impl Write, worker: &mut impl Write, o: &SynthOptions) -> io::Result<u64> {
    use truth::*;
    let mut rng = XorShiftRng::seed_from_u64(o.seed);
    let items_cpu = LogNormal::new(ITEMS_CPU.0, ITEMS_CPU.1).expect("valid");
    let orders_cpu = Gamma::new(ORDERS_CPU.0, ORDERS_CPU.1).expect("valid");
    let health_cpu = Exp::new(1.0 / HEALTH_CPU).expect("valid");
    let select = LogNormal::new(SELECT.0, SELECT.1).expect("valid");
    let redis = LogNormal::new(-9.6, 0.25).expect("valid"); // ~70 us
    let insert = LogNormal::new(-6.5, 0.3).expect("valid");
    let update = LogNormal::new(-6.8, 0.3).expect("valid");
    let job = Gamma::new(JOB.0, JOB.1).expect("valid");
    let pool_wait = Exp::new(1.0 / 20e-6).expect("valid");
    let gap = Exp::new(o.rate_per_s).expect("valid");
    let ns = |s: f64| (s * 1e9).round().max(1.0) as u64;
    let mut a = W {
        out: api,
        loose: o.loose,
        next_id: 0,
    };
    let mut wk = W {
        out: worker,
        loose: o.loose,
        next_id: 1 << 40,
    };
    let mut t = o.start_ns as f64;
    let mut spans = 0u64;
    let mut in_line = 0usize;
    let mut first = true;
    let mut w_first = true;
    let mut w_in_line = 0usize;
    let db = |op: &str, table: &str| {
        format!(
            "{},{},{},{}",
            s_attr("db.system.name", "postgresql"),
            s_attr("db.operation.name", op),
            s_attr("db.collection.name", table),
            s_attr("capsim.db.node", "primary")
        )
    };
    for _ in 0..o.requests {
        t += gap.sample(&mut rng) * 1e9;
        let start = t as u64;
        if in_line == 0 {
            head(a.out, "api", 4242)?;
            first = true;
        }
        let trace: u128 = rng.random();
        let root = a.id();
        let u: f64 = rng.random();
        let mut now = start;
        // (method, route, cpu) and the children, each (name, kind, start, end, attrs).
        let (method, route, cpu) = if u < MIX[0] {
            ("GET", "/items/{id}", items_cpu.sample(&mut rng))
        } else if u < MIX[0] + MIX[1] {
            ("POST", "/orders", orders_cpu.sample(&mut rng))
        } else {
            ("GET", "/health", health_cpu.sample(&mut rng))
        };
        // Half the CPU before the calls, half after ("render").
        let cpu_ns = ns(cpu);
        now += cpu_ns / 2;
        let mut kids: Vec<(String, u8, u64, u64, String)> = Vec::new();
        let mut job_at: Option<(u64, u64)> = None;
        let pool = |kids: &mut Vec<_>, now: &mut u64, rng: &mut XorShiftRng| {
            let d = ns(pool_wait.sample(rng));
            kids.push((
                "pool.acquire".to_string(),
                1u8,
                *now,
                *now + d,
                format!(
                    "{},{},{{\"key\":\"capsim.pool.size\",\"value\":{{\"intValue\":{}}}}}",
                    s_attr("db.system.name", "postgresql"),
                    s_attr("capsim.pool.name", "primary"),
                    if o.loose {
                        POOL_SIZE.to_string()
                    } else {
                        format!("\"{POOL_SIZE}\"")
                    }
                ),
            ));
            *now += d;
        };
        match route {
            "/items/{id}" => {
                let hit = rng.random::<f64>() < HIT_RATIO;
                let d = ns(redis.sample(&mut rng));
                kids.push((
                    "redis GET".into(),
                    3,
                    now,
                    now + d,
                    format!(
                        "{},{},{{\"key\":\"capsim.cache.hit\",\"value\":{{\"boolValue\":{hit}}}}}",
                        s_attr("db.system.name", "redis"),
                        s_attr("db.operation.name", "GET")
                    ),
                ));
                now += d;
                if !hit {
                    pool(&mut kids, &mut now, &mut rng);
                    let d = ns(select.sample(&mut rng));
                    kids.push((
                        "postgresql SELECT items".into(),
                        3,
                        now,
                        now + d,
                        db("SELECT", "items"),
                    ));
                    now += d;
                    let d = ns(redis.sample(&mut rng));
                    kids.push((
                        "redis SET".into(),
                        3,
                        now,
                        now + d,
                        format!(
                            "{},{}",
                            s_attr("db.system.name", "redis"),
                            s_attr("db.operation.name", "SET")
                        ),
                    ));
                    now += d;
                }
            }
            "/orders" => {
                pool(&mut kids, &mut now, &mut rng);
                let d = ns(insert.sample(&mut rng));
                kids.push((
                    "postgresql INSERT orders".into(),
                    3,
                    now,
                    now + d,
                    db("INSERT", "orders"),
                ));
                now += d;
                let d = ns(redis.sample(&mut rng));
                kids.push((
                    "arq enqueue process_order".into(),
                    4,
                    now,
                    now + d,
                    format!(
                        "{},{},{}",
                        s_attr("messaging.system", "arq"),
                        s_attr("messaging.destination.name", "arq:queue"),
                        s_attr("messaging.operation.type", "send")
                    ),
                ));
                job_at = Some((now, 0));
                now += d;
            }
            _ => {}
        }
        let render_start = now;
        now += cpu_ns - cpu_ns / 2;
        kids.push(("render".into(), 1, render_start, now, String::new()));
        let end = now;
        let mut producer = 0;
        for (name, kind, s, e, attrs) in kids {
            let id = a.id();
            if kind == 4 {
                producer = id;
            }
            a.span(&mut first, trace, id, root, &name, kind, (s, e), &attrs)?;
            spans += 1;
        }
        let server_attrs = format!(
            "{},{},{{\"key\":\"http.response.status_code\",\"value\":{{\"intValue\":{}}}}}",
            s_attr("http.request.method", method),
            s_attr("http.route", route),
            a.int(200)
        );
        let name = format!("{method} {route}");
        a.span(
            &mut first,
            trace,
            root,
            0,
            &name,
            2,
            (start, end),
            &server_attrs,
        )?;
        spans += 1;
        in_line += 1;
        if in_line == o.traces_per_line {
            a.out.write_all(TAIL)?;
            in_line = 0;
        }
        if let Some((enq, _)) = job_at {
            if w_in_line == 0 {
                head(wk.out, "worker", 4343)?;
                w_first = true;
            }
            let js = enq + ns(Exp::new(1.0 / 0.002).expect("valid").sample(&mut rng));
            let self_ns = ns(job.sample(&mut rng));
            let upd = ns(update.sample(&mut rng));
            let cid = wk.id();
            let uid = wk.id();
            let ustart = js + self_ns / 2;
            wk.span(
                &mut w_first,
                trace,
                uid,
                cid,
                "postgresql UPDATE orders",
                3,
                (ustart, ustart + upd),
                &db("UPDATE", "orders"),
            )?;
            let attrs = format!(
                "{},{},{{\"key\":\"capsim.job.enqueue_time_unix_nano\",\"value\":{{\"intValue\":{}}}}},{{\"key\":\"capsim.worker.concurrency\",\"value\":{{\"intValue\":{}}}}}",
                s_attr("messaging.system", "arq"),
                s_attr("messaging.operation.type", "process"),
                wk.int(enq as i64),
                wk.int(CONCURRENCY)
            );
            wk.span(
                &mut w_first,
                trace,
                cid,
                producer,
                "arq process process_order",
                5,
                (js, js + self_ns + upd),
                &attrs,
            )?;
            spans += 2;
            w_in_line += 1;
            if w_in_line == o.traces_per_line {
                wk.out.write_all(TAIL)?;
                w_in_line = 0;
            }
        }
    }
    if in_line > 0 {
        a.out.write_all(TAIL)?;
    }
    if w_in_line > 0 {
        wk.out.write_all(TAIL)?;
    }
    Ok(spans)
}

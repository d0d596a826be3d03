//! Streaming ingestion: lines -> spans -> traces -> per-class and per-step
//! accumulators.
//!
//! ```text
//!  file ─ line ─▶ Request ─▶ Rec (compact span) ─▶ trace buffer ─┬─▶ SERVER root: class, steps, self time
//!                                                  (by traceId)  └─▶ CONSUMER root: job, queue wait
//! ```
//!
//! Memory is bounded: a trace stays buffered until the file's clock (the
//! latest span end seen) is [`WINDOW_NS`] past its last span, or until more
//! than [`MAX_BUFFERED`] spans are buffered (then the oldest traces go
//! first), or the file ends. A SERVER span's children end before it, and the
//! exporter writes spans as they end, so a trace is whole long before
//! either limit. A span arriving after its trace was flushed counts as an
//! orphan. Each file is joined on its own: a worker's CONSUMER span is a
//! root with its own figures (duration, enqueue time, child queries), never
//! joined to the PRODUCER span in the API's file.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use indicatif::ProgressBar;
use serde_json::error::Category;

use crate::error::{CalibrateError, FileProblem, LineProblem};
use crate::otlp::{self, Request};
use crate::stats::{Series, union_len};

/// Span time after which a trace is taken to be complete (60 s).
pub const WINDOW_NS: u64 = 60_000_000_000;
/// Spans buffered at most (about 100 bytes each with the map's overhead).
pub const MAX_BUFFERED: usize = 500_000;

/// Interned strings: names, routes, tables, job names.
#[derive(Debug, Default)]
pub struct Names {
    map: HashMap<Box<str>, u32>,
    names: Vec<Box<str>>,
}

impl Names {
    pub fn id(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.map.get(s) {
            return i;
        }
        let i = self.names.len() as u32;
        self.names.push(s.into());
        self.map.insert(s.into(), i);
        i
    }
    pub fn get(&self, i: u32) -> &str {
        &self.names[i as usize]
    }
}

/// What a span means to the model.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Role {
    Server {
        method: u32,
        route: u32,
        error: bool,
    },
    Pool {
        pool: u32,
        size: i64,
    },
    Get {
        hit: Option<bool>,
    },
    Set,
    /// Another Redis command: a wait, not a step.
    Redis,
    Db {
        op: u32,
        table: u32,
        read: bool,
    },
    Enqueue {
        job: u32,
        queue: u32,
    },
    Consumer {
        job: u32,
        enqueued: u64,
        concurrency: i64,
    },
    /// Another CLIENT span (an HTTP call out): a wait, not a step.
    Wait,
    /// INTERNAL work in the process (e.g. "render"): part of its CPU.
    Work,
}

impl Role {
    fn is_root(self) -> bool {
        matches!(self, Role::Server { .. } | Role::Consumer { .. })
    }
    /// Time the process waits, off its CPU: subtracted from self time.
    fn is_wait(self) -> bool {
        !matches!(
            self,
            Role::Work | Role::Server { .. } | Role::Consumer { .. }
        )
    }
}

#[derive(Debug, Clone, Copy)]
struct Rec {
    id: u64,
    parent: u64,
    start: u64,
    end: u64,
    role: Role,
    process: u32,
}

/// A step of a route, as seen in one trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Tok {
    Get,
    Set,
    Db { op: u32, table: u32 },
    Enqueue { job: u32 },
}

#[derive(Debug, Default)]
pub struct ClassAcc {
    pub count: u64,
    pub errors: u64,
    pub cpu: Series,
    /// Self time before the first wait (the request's first turn on the
    /// event loop), and the rest (its turns after the waits).
    pub cpu_first: Series,
    pub cpu_rest: Series,
    pub wall: Series,
    /// Route shapes (GET hit or miss alike) and their counts.
    pub shapes: HashMap<Vec<Tok>, u64>,
    /// (index of the GET in the shape, steps after a miss) and counts.
    pub miss_blocks: HashMap<(usize, Vec<Tok>), u64>,
    pub gets: u64,
    pub hits: u64,
    /// GETs without `capsim.cache.hit`, judged by a SET following them.
    pub hits_inferred: u64,
}

impl ClassAcc {
    /// Counts a request's route shape (its steps, each from
    /// `Acc::record_calls`), its GETs' hits and its on_miss blocks.
    fn add_shape(&mut self, toks: &[(Tok, Option<bool>)]) {
        // Canonical shape: a GET is one step whether it hit or missed; the
        // reads and the SET that follow a miss are its on_miss block.
        let mut shape = Vec::with_capacity(toks.len());
        let mut i = 0;
        while i < toks.len() {
            let (tok, flag) = toks[i];
            i += 1;
            if tok != Tok::Get {
                shape.push(tok);
                continue;
            }
            self.gets += 1;
            let hit = match flag {
                Some(h) => h,
                None => {
                    self.hits_inferred += 1;
                    // Without the attribute, a SET before the next GET
                    // means the GET missed.
                    !toks[i..]
                        .iter()
                        .take_while(|t| t.0 != Tok::Get)
                        .any(|t| t.0 == Tok::Set)
                }
            };
            let get_index = shape.len();
            shape.push(Tok::Get);
            if hit {
                self.hits += 1;
                continue;
            }
            let mut block = Vec::new();
            while i < toks.len() {
                match toks[i] {
                    (t @ Tok::Db { .. }, Some(true)) => block.push(t),
                    (Tok::Set, _) => {
                        block.push(Tok::Set);
                        i += 1;
                        break;
                    }
                    _ => break,
                }
                i += 1;
            }
            *self.miss_blocks.entry((get_index, block)).or_default() += 1;
        }
        // Distinct shapes are few in a real app; cap them so a pathological
        // input cannot grow the map without bound.
        if self.shapes.len() < 1_000 || self.shapes.contains_key(&shape) {
            *self.shapes.entry(shape).or_default() += 1;
        }
    }
}

#[derive(Debug, Default)]
pub struct JobAcc {
    pub count: u64,
    pub duration: Series,
    pub self_time: Series,
    pub queue_wait: Series,
    pub concurrency: i64,
    /// Child queries (op, table): count and total seconds.
    pub queries: HashMap<(u32, u32), (u64, f64)>,
    pub clock_skew: u64,
}

#[derive(Debug, Default)]
pub struct PoolAcc {
    pub size: i64,
    pub wait: Series,
}

/// Per input file, for the header.
#[derive(Debug, Clone, Default)]
pub struct FileStats {
    pub path: String,
    pub bytes: u64,
    pub lines: u64,
    pub spans: u64,
    pub server: u64,
    pub consumer: u64,
    pub orphans: u64,
}

/// Everything learnt from the spans.
#[derive(Debug, Default)]
pub struct Acc {
    pub names: Names,
    pub files: Vec<FileStats>,
    /// Keyed by (method, route).
    pub classes: HashMap<(u32, u32), ClassAcc>,
    pub queries: HashMap<(u32, u32), Series>,
    pub read_ops: HashMap<(u32, u32), bool>,
    pub gets: Series,
    pub sets: Series,
    pub pools: HashMap<u32, PoolAcc>,
    /// Job -> (queue, enqueues, PRODUCER span seconds).
    pub enqueues: HashMap<u32, (u32, u64, Series)>,
    pub jobs: HashMap<u32, JobAcc>,
    /// When each process sent SERVER (API) or CONSUMER (worker) spans.
    pub api_processes: HashMap<u32, Life>,
    pub worker_processes: HashMap<u32, Life>,
    /// Children that start before or end after their root (clipped).
    pub outside: u64,
    /// Traces flushed because the buffer was full rather than old.
    pub flushed_by_size: u64,
    /// Event-loop time removed from the waits of SERVER traces: spans
    /// corrected, their summed duration before and the time removed (s).
    pub loop_wait_spans: u64,
    pub loop_wait_raw_s: f64,
    pub loop_wait_removed_s: f64,
    /// One event loop per process (the default): waits lose other
    /// requests' loop time, and CPU after the first call is a second turn.
    pub event_loop: bool,
    /// Non-root spans with no parent id: not under any request.
    pub unattached: u64,
    pub traces: u64,
}

/// When one process sent root spans (ns since the epoch): its first root's
/// start, its last root's start and end; how many roots, and their self
/// time summed (s).
#[derive(Debug, Clone, Copy)]
pub struct Life {
    pub first_start: u64,
    pub last_start: u64,
    pub last_end: u64,
    pub roots: u64,
    pub self_s: f64,
}

impl Life {
    fn add(lives: &mut HashMap<u32, Life>, root: &Rec, self_s: f64) {
        let l = lives.entry(root.process).or_insert(Life {
            first_start: root.start,
            last_start: root.start,
            last_end: root.end,
            roots: 0,
            self_s: 0.0,
        });
        l.first_start = l.first_start.min(root.start);
        l.last_start = l.last_start.max(root.start);
        l.last_end = l.last_end.max(root.end);
        l.roots += 1;
        l.self_s += self_s;
    }
}

/// The most processes alive at once (at least one), each alive from its
/// first root span's start to its last one's end. Spans collected over
/// several runs or across a restart come from new pids, but a process that
/// replaced another is not one more core.
pub fn at_once<'a>(lives: impl IntoIterator<Item = &'a Life>) -> usize {
    let mut edges: Vec<(u64, bool)> = lives
        .into_iter()
        .flat_map(|l| [(l.first_start, false), (l.last_end, true)])
        .collect();
    // At one instant, a start before an end: lives are closed intervals.
    edges.sort_unstable();
    let (mut alive, mut most) = (0usize, 1usize);
    for (_, end) in edges {
        if end {
            alive -= 1;
        } else {
            alive += 1;
            most = most.max(alive);
        }
    }
    most
}

/// Nanoseconds in which at least one process was sending, from first to
/// last root start: the window rates are counted over, without the gaps
/// between collection periods.
pub fn covered<'a>(lives: impl IntoIterator<Item = &'a Life>) -> u64 {
    let mut spans: Vec<(u64, u64)> = lives
        .into_iter()
        .map(|l| (l.first_start, l.last_start))
        .collect();
    spans.sort_unstable();
    let mut total = 0;
    let mut open: Option<(u64, u64)> = None;
    for (a, b) in spans {
        open = match open {
            Some((s, e)) if a <= e => Some((s, e.max(b))),
            Some((s, e)) => {
                total += e - s;
                Some((a, b))
            }
            None => Some((a, b)),
        };
    }
    total + open.map_or(0, |(s, e)| e - s)
}

struct Trace {
    spans: Vec<Rec>,
    last_end: u64,
}

/// A joined trace waiting until the event-loop time of every request that
/// overlaps it is known.
struct Pending {
    spans: Vec<Rec>,
    root_of: Vec<Option<usize>>,
    last_end: u64,
}

/// The join state of one file.
#[derive(Default)]
struct Joiner {
    traces: HashMap<u128, Trace>,
    fifo: VecDeque<u128>,
    buffered: usize,
    clock: u64,
    /// Per process: when a request ran on the process's event loop (its
    /// SERVER span minus its waits), start -> end.
    busy: HashMap<u32, BTreeMap<u64, u64>>,
    longest_busy: u64,
    pending: VecDeque<Pending>,
    pending_spans: usize,
}

impl Joiner {
    /// Time within `[lo, hi)` in which other requests ran on `process`'s
    /// event loop. A coroutine whose call has returned resumes only when the
    /// loop is free, so that time is inside its CLIENT span but is neither
    /// the call's service nor its own CPU.
    fn loop_time(&self, process: u32, lo: u64, hi: u64) -> u64 {
        let Some(map) = self.busy.get(&process) else {
            return 0;
        };
        let mut iv: Vec<(u64, u64)> = map
            .range(lo.saturating_sub(self.longest_busy)..hi)
            .map(|(&s, &e)| (s, e))
            .filter(|&(_, e)| e > lo)
            .collect();
        union_len(&mut iv, lo, hi)
    }
}

impl Acc {
    /// The first and the last SERVER span start (ns since the epoch), from
    /// the API processes' lives; (0, 0) without any.
    pub fn server_starts(&self) -> (u64, u64) {
        let lives = self.api_processes.values();
        let first = lives.clone().map(|l| l.first_start).min().unwrap_or(0);
        let last = lives.map(|l| l.last_start).max().unwrap_or(0);
        (first, last)
    }

    pub fn new() -> Self {
        Acc {
            event_loop: true,
            ..Default::default()
        }
    }

    /// Reads one file to its end.
    pub fn read_file(
        &mut self,
        path: &Path,
        file_index: usize,
        bar: Option<&ProgressBar>,
    ) -> Result<(), CalibrateError> {
        let read_err = |source| CalibrateError::Read {
            path: path.to_path_buf(),
            source,
        };
        let file = File::open(path).map_err(read_err)?;
        let bytes = file.metadata().map_err(read_err)?.len();
        let mut reader = BufReader::with_capacity(1 << 20, file);
        let mut stats = FileStats {
            path: path.display().to_string(),
            bytes,
            ..Default::default()
        };
        let mut join = Joiner::default();
        let mut buf = Vec::with_capacity(1 << 16);
        let mut line = 0u64;
        let mut unreported = 0u64;
        let mut any_text = false;
        loop {
            buf.clear();
            let n = reader.read_until(b'\n', &mut buf).map_err(read_err)?;
            if n == 0 {
                break;
            }
            line += 1;
            unreported += n as u64;
            if unreported >= 1 << 22 {
                if let Some(b) = bar {
                    b.inc(unreported);
                }
                unreported = 0;
            }
            let text = buf.trim_ascii();
            if text.is_empty() {
                continue;
            }
            any_text = true;
            let line_err = |problem| CalibrateError::Line {
                path: path.to_path_buf(),
                line,
                problem,
            };
            let req: Request = match serde_json::from_slice(text) {
                Ok(r) => r,
                Err(e) => {
                    let complete = buf.last() == Some(&b'\n');
                    let problem = match e.classify() {
                        Category::Eof if !complete => LineProblem::Truncated(e.to_string()),
                        Category::Syntax | Category::Eof | Category::Io => {
                            LineProblem::NotJson(e.to_string())
                        }
                        Category::Data => LineProblem::NotOtlp(e.to_string()),
                    };
                    return Err(line_err(problem));
                }
            };
            self.ingest_request(&req, file_index, &mut join, &mut stats)
                .map_err(line_err)?;
        }
        if let Some(b) = bar {
            b.inc(unreported);
        }
        stats.lines = line;
        let file_err = |problem| CalibrateError::File {
            path: path.to_path_buf(),
            problem,
        };
        if !any_text {
            return Err(file_err(FileProblem::Empty));
        }
        if stats.spans == 0 {
            return Err(file_err(FileProblem::NoSpans { lines: line }));
        }
        // The file is read: every trace still buffered is as whole as it
        // will be.
        while let Some(id) = join.fifo.pop_front() {
            if let Some(t) = join.traces.remove(&id) {
                self.stage(t, &mut join, &mut stats);
            }
        }
        self.drain(&mut join, &mut stats, true);
        if stats.orphans * 2 > stats.spans {
            return Err(file_err(FileProblem::MostlyOrphans {
                orphans: stats.orphans,
                spans: stats.spans,
            }));
        }
        self.files.push(stats);
        Ok(())
    }

    fn ingest_request(
        &mut self,
        req: &Request<'_>,
        file_index: usize,
        join: &mut Joiner,
        stats: &mut FileStats,
    ) -> Result<(), LineProblem> {
        for rs in &req.resource_spans {
            let attrs = rs.resource.as_ref().map(|r| r.attributes.as_slice());
            let attrs = attrs.unwrap_or(&[]);
            let service = otlp::attr_str(attrs, "service.name").unwrap_or("unknown");
            // One process per file in the contract; a collector's file may
            // hold several, told apart by pid or instance id.
            let who = otlp::attr_int(attrs, "process.pid")
                .map(|p| p.to_string())
                .or_else(|| otlp::attr_str(attrs, "service.instance.id").map(str::to_owned))
                .unwrap_or_else(|| format!("file{file_index}"));
            let process = self.names.id(&format!("{service}/{who}"));
            for ss in &rs.scope_spans {
                for span in &ss.spans {
                    stats.spans += 1;
                    let rec = self.rec(span, process)?;
                    let trace = otlp::hex_id(&span.trace_id).ok_or_else(|| LineProblem::BadId {
                        span: span.name.to_string(),
                        field: "traceId",
                        value: span.trace_id.to_string(),
                    })?;
                    join.clock = join.clock.max(rec.end);
                    let t = join.traces.entry(trace).or_insert_with(|| {
                        join.fifo.push_back(trace);
                        Trace {
                            spans: Vec::new(),
                            last_end: 0,
                        }
                    });
                    t.last_end = t.last_end.max(rec.end);
                    t.spans.push(rec);
                    join.buffered += 1;
                }
            }
        }
        // Flush what is old enough, or the oldest while over the cap.
        while let Some(&front) = join.fifo.front() {
            let Some(t) = join.traces.get(&front) else {
                join.fifo.pop_front();
                continue;
            };
            let old = t.last_end.saturating_add(WINDOW_NS) < join.clock;
            let full = join.buffered > MAX_BUFFERED;
            if !old && !full {
                break;
            }
            if !old {
                self.flushed_by_size += 1;
            }
            join.fifo.pop_front();
            let t = join.traces.remove(&front).expect("checked above");
            join.buffered -= t.spans.len();
            self.stage(t, join, stats);
        }
        self.drain(join, stats, false);
        Ok(())
    }

    /// A span's compact form, with what it means to the model.
    fn rec(&mut self, s: &otlp::Span<'_>, process: u32) -> Result<Rec, LineProblem> {
        let bad = |field, value: &str| LineProblem::BadId {
            span: s.name.to_string(),
            field,
            value: value.to_string(),
        };
        let id = otlp::hex_id(&s.span_id).ok_or_else(|| bad("spanId", &s.span_id))? as u64;
        let parent = match s.parent_span_id.as_deref() {
            None | Some("") => 0,
            Some(p) => otlp::hex_id(p).ok_or_else(|| bad("parentSpanId", p))? as u64,
        };
        if s.end_time_unix_nano < s.start_time_unix_nano {
            return Err(LineProblem::EndBeforeStart {
                span: s.name.to_string(),
                start: s.start_time_unix_nano,
                end: s.end_time_unix_nano,
            });
        }
        let a = &s.attributes;
        let last_word = |name: &str| name.rsplit(' ').next().unwrap_or(name).to_string();
        let db_system =
            otlp::attr_str(a, "db.system.name").or_else(|| otlp::attr_str(a, "db.system"));
        let role = match s.kind {
            otlp::SERVER => {
                let mut words = s.name.splitn(2, ' ');
                let (w1, w2) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
                let method = otlp::attr_str(a, "http.request.method")
                    .or_else(|| otlp::attr_str(a, "http.method"))
                    .unwrap_or(w1);
                let route = otlp::attr_str(a, "http.route").unwrap_or(w2);
                let status = otlp::attr_int(a, "http.response.status_code")
                    .or_else(|| otlp::attr_int(a, "http.status_code"));
                Role::Server {
                    method: self.names.id(method),
                    route: self.names.id(route),
                    error: status.is_some_and(|c| c >= 500),
                }
            }
            otlp::CONSUMER => Role::Consumer {
                job: self.names.id(&last_word(&s.name)),
                enqueued: otlp::attr_int(a, "capsim.job.enqueue_time_unix_nano")
                    .map_or(0, |v| v.max(0) as u64),
                concurrency: otlp::attr_int(a, "capsim.worker.concurrency").unwrap_or(0),
            },
            otlp::PRODUCER => {
                let queue = otlp::attr_str(a, "messaging.destination.name").unwrap_or("default");
                Role::Enqueue {
                    job: self.names.id(&last_word(&s.name)),
                    queue: self.names.id(queue),
                }
            }
            _ if s.name == "pool.acquire" || otlp::attr(a, "capsim.pool.name").is_some() => {
                Role::Pool {
                    pool: self
                        .names
                        .id(otlp::attr_str(a, "capsim.pool.name").unwrap_or("default")),
                    size: otlp::attr_int(a, "capsim.pool.size").unwrap_or(0),
                }
            }
            otlp::CLIENT if db_system == Some("redis") => {
                let op = otlp::attr_str(a, "db.operation.name")
                    .map(str::to_owned)
                    .unwrap_or_else(|| last_word(&s.name));
                match op.to_ascii_uppercase().as_str() {
                    "GET" => Role::Get {
                        hit: otlp::attr_bool(a, "capsim.cache.hit"),
                    },
                    "SET" | "SETEX" => Role::Set,
                    _ => Role::Redis,
                }
            }
            otlp::CLIENT if db_system.is_some() => {
                let op = otlp::attr_str(a, "db.operation.name").unwrap_or("QUERY");
                let op = op.to_ascii_uppercase();
                let table = otlp::attr_str(a, "db.collection.name").unwrap_or("");
                Role::Db {
                    read: op == "SELECT",
                    op: self.names.id(&op),
                    table: self.names.id(table),
                }
            }
            otlp::CLIENT => Role::Wait,
            _ => Role::Work,
        };
        Ok(Rec {
            id,
            parent,
            start: s.start_time_unix_nano,
            end: s.end_time_unix_nano,
            role,
            process,
        })
    }

    /// Links a whole trace, records when its requests ran on their event
    /// loop, and queues it until the loop time of its neighbours is known.
    fn stage(&mut self, t: Trace, join: &mut Joiner, stats: &mut FileStats) {
        let root_of = self.link(&t.spans, stats);
        for (r, root) in t.spans.iter().enumerate() {
            if !self.event_loop || !matches!(root.role, Role::Server { .. }) {
                continue;
            }
            let mut waits: Vec<(u64, u64)> = t
                .spans
                .iter()
                .enumerate()
                .filter(|&(i, k)| i != r && root_of[i] == Some(r) && k.role.is_wait())
                .map(|(_, k)| {
                    (
                        k.start.clamp(root.start, root.end),
                        k.end.clamp(root.start, root.end),
                    )
                })
                .collect();
            waits.sort_unstable();
            let map = join.busy.entry(root.process).or_default();
            let mut at = root.start;
            for (s, e) in waits.into_iter().chain([(root.end, root.end)]) {
                if s > at {
                    map.insert(at, s);
                    join.longest_busy = join.longest_busy.max(s - at);
                }
                at = at.max(e);
            }
        }
        join.pending_spans += t.spans.len();
        join.pending.push_back(Pending {
            spans: t.spans,
            root_of,
            last_end: t.last_end,
        });
    }

    /// Finishes the queued traces whose neighbours are all joined (or all of
    /// them), and forgets loop time no queued trace can overlap.
    fn drain(&mut self, join: &mut Joiner, stats: &mut FileStats, all: bool) {
        while let Some(p) = join.pending.front() {
            let ready = p.last_end.saturating_add(2 * WINDOW_NS) < join.clock;
            if !all && !ready && join.pending_spans <= MAX_BUFFERED {
                break;
            }
            let p = join.pending.pop_front().expect("checked above");
            join.pending_spans -= p.spans.len();
            self.finish(&p.spans, &p.root_of, join, stats);
        }
        let cutoff = join.clock.saturating_sub(4 * WINDOW_NS);
        for map in join.busy.values_mut() {
            if map.first_key_value().is_some_and(|(&s, _)| s < cutoff) {
                *map = map.split_off(&cutoff);
            }
        }
    }

    /// The root (SERVER or CONSUMER) each span of a trace belongs to.
    fn link(&mut self, spans: &[Rec], stats: &mut FileStats) -> Vec<Option<usize>> {
        self.traces += 1;
        let find = |id: u64| spans.iter().position(|s| s.id == id);
        // The root (SERVER or CONSUMER) each span belongs to.
        let mut root_of: Vec<Option<usize>> = vec![None; spans.len()];
        for (i, s) in spans.iter().enumerate() {
            if s.role.is_root() {
                root_of[i] = Some(i);
                continue;
            }
            let mut cur = s.parent;
            let mut found = None;
            // Bounded walk: a cycle of parent ids must not hang the reader.
            for _ in 0..64 {
                if cur == 0 {
                    self.unattached += 1;
                    break;
                }
                match find(cur) {
                    None => {
                        stats.orphans += 1;
                        break;
                    }
                    Some(j) if spans[j].role.is_root() => {
                        found = Some(j);
                        break;
                    }
                    Some(j) => cur = spans[j].parent,
                }
            }
            root_of[i] = found;
        }
        root_of
    }

    /// Feeds the accumulators with one linked trace.
    fn finish(
        &mut self,
        spans: &[Rec],
        root_of: &[Option<usize>],
        join: &Joiner,
        stats: &mut FileStats,
    ) {
        for (r, root) in spans.iter().enumerate() {
            if !root.role.is_root() {
                continue;
            }
            let mut kids: Vec<&Rec> = spans
                .iter()
                .enumerate()
                .filter(|&(i, _)| i != r && root_of[i] == Some(r))
                .map(|(_, s)| s)
                .collect();
            kids.sort_by_key(|s| s.start);
            self.outside += kids
                .iter()
                .filter(|k| k.start < root.start || k.end > root.end)
                .count() as u64;
            let mut waits: Vec<(u64, u64)> = kids
                .iter()
                .filter(|k| k.role.is_wait())
                .map(|k| (k.start, k.end))
                .collect();
            let dur = root.end - root.start;
            let waited = union_len(&mut waits, root.start, root.end);
            let self_s = (dur - waited) as f64 * 1e-9;
            match root.role {
                Role::Server {
                    method,
                    route,
                    error,
                } => {
                    stats.server += 1;
                    // The first turn on the loop ends where the first wait starts.
                    let first = kids.iter().find(|k| k.role.is_wait()).map_or(self_s, |k| {
                        (k.start.clamp(root.start, root.end) - root.start) as f64 * 1e-9
                    });
                    let secs: Vec<f64> = kids
                        .iter()
                        .map(|k| {
                            let raw = k.end - k.start;
                            if !k.role.is_wait() || !self.event_loop {
                                return raw as f64 * 1e-9;
                            }
                            let busy = join.loop_time(root.process, k.start, k.end);
                            self.loop_wait_spans += 1;
                            self.loop_wait_raw_s += raw as f64 * 1e-9;
                            self.loop_wait_removed_s += busy as f64 * 1e-9;
                            (raw - busy) as f64 * 1e-9
                        })
                        .collect();
                    self.server(
                        root,
                        (method, route),
                        error,
                        (&kids, &secs),
                        (self_s, first.min(self_s), dur as f64 * 1e-9),
                    )
                }
                Role::Consumer {
                    job,
                    enqueued,
                    concurrency,
                } => {
                    stats.consumer += 1;
                    self.consumer(
                        root,
                        (job, enqueued, concurrency),
                        &kids,
                        (self_s, dur as f64 * 1e-9),
                    );
                }
                _ => unreachable!("roots are SERVER or CONSUMER"),
            }
        }
    }

    /// A worker's job: its duration, self time, concurrency, queue wait
    /// and the queries under it.
    fn consumer(
        &mut self,
        root: &Rec,
        (job, enqueued, concurrency): (u32, u64, i64),
        kids: &[&Rec],
        (self_s, wall_s): (f64, f64),
    ) {
        Life::add(&mut self.worker_processes, root, self_s);
        let acc = self.jobs.entry(job).or_default();
        acc.count += 1;
        acc.duration.push(wall_s);
        acc.self_time.push(self_s);
        acc.concurrency = acc.concurrency.max(concurrency);
        if enqueued > 0 {
            if enqueued <= root.start {
                acc.queue_wait.push((root.start - enqueued) as f64 * 1e-9);
            } else {
                acc.clock_skew += 1;
                acc.queue_wait.push(0.0);
            }
        }
        for k in kids {
            if let Role::Db { op, table, .. } = k.role {
                let e = acc.queries.entry((op, table)).or_default();
                e.0 += 1;
                e.1 += (k.end - k.start) as f64 * 1e-9;
            }
        }
    }

    fn server(
        &mut self,
        root: &Rec,
        class: (u32, u32),
        error: bool,
        (kids, secs): (&[&Rec], &[f64]),
        (self_s, first_s, wall_s): (f64, f64, f64),
    ) {
        Life::add(&mut self.api_processes, root, self_s);
        let toks = self.record_calls(kids, secs);
        let class = self.classes.entry(class).or_default();
        class.count += 1;
        class.errors += u64::from(error);
        class.cpu.push(self_s);
        class.cpu_first.push(first_s);
        class.cpu_rest.push(self_s - first_s);
        class.wall.push(wall_s);
        class.add_shape(&toks);
    }

    /// Feeds the tiers' accumulators with a request's calls (`secs`: each
    /// one's time); returns the steps among them in order, each with its
    /// flag: a GET's hit if the span says, a query's read.
    fn record_calls(&mut self, kids: &[&Rec], secs: &[f64]) -> Vec<(Tok, Option<bool>)> {
        let mut toks: Vec<(Tok, Option<bool>)> = Vec::new();
        for (k, &secs) in kids.iter().zip(secs) {
            match k.role {
                Role::Pool { pool, size } => {
                    let p = self.pools.entry(pool).or_default();
                    p.size = p.size.max(size);
                    p.wait.push(secs);
                }
                Role::Get { hit } => {
                    self.gets.push(secs);
                    toks.push((Tok::Get, hit));
                }
                Role::Set => {
                    self.sets.push(secs);
                    toks.push((Tok::Set, None));
                }
                Role::Db { op, table, read } => {
                    self.queries.entry((op, table)).or_default().push(secs);
                    self.read_ops.insert((op, table), read);
                    toks.push((Tok::Db { op, table }, Some(read)));
                }
                Role::Enqueue { job, queue } => {
                    let e = self
                        .enqueues
                        .entry(job)
                        .or_insert_with(|| (queue, 0, Series::default()));
                    e.1 += 1;
                    e.2.push(secs);
                    toks.push((Tok::Enqueue { job }, None));
                }
                _ => {}
            }
        }
        toks
    }
}

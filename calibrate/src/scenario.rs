//! Writing the calibrated scenario: TOML text in which every number is
//! followed by a comment citing the spans it came from.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use crate::error::SpansProblem;
use crate::fit::{self, Family, Fit};
use crate::ingest::{self, Acc, ClassAcc, Tok};
use crate::stats::{Series, quantile};

/// A route shape taken by less than this share of a class's requests is
/// dropped (its requests are counted in the comment).
pub const MIN_SHAPE_SHARE: f64 = 0.01;

const API: &str = "api";
const CACHE: &str = "redis";
const DB: &str = "postgres";
const WORKERS: &str = "workers";

/// `GET /items/{id}` -> `get_items_id`: a valid, readable scenario name.
pub fn sanitize(s: &str) -> String {
    let mut out = String::new();
    for ch in s.chars() {
        if ch.is_ascii_alphanumeric() {
            out.push(ch.to_ascii_lowercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    let out = out.trim_matches('_');
    let mut out: String = out.chars().take(56).collect();
    if out.is_empty() {
        out.push_str("unnamed");
    }
    out
}

fn unique(name: String, taken: &mut HashMap<String, ()>) -> String {
    let mut n = name.clone();
    let mut k = 2;
    while taken.contains_key(&n) {
        n = format!("{name}_{k}");
        k += 1;
    }
    taken.insert(n.clone(), ());
    n
}

/// A duration string of about 4 significant digits.
pub fn dur(s: f64) -> String {
    let (v, unit) = if s >= 1.0 {
        (s, "s")
    } else if s >= 1e-3 {
        (s * 1e3, "ms")
    } else if s >= 1e-6 {
        (s * 1e6, "us")
    } else {
        return format!("{}ns", (s * 1e9).round().max(1.0) as u64);
    };
    let digits = if v >= 100.0 {
        1
    } else if v >= 10.0 {
        2
    } else {
        3
    };
    let t = format!("{v:.digits$}");
    let t = t.trim_end_matches('0').trim_end_matches('.');
    format!("{t}{unit}")
}

/// A human figure for comments: "4.21 ms".
fn ms(s: f64) -> String {
    format!("{:.3} ms", s * 1e3)
}

fn count(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

fn dist_toml(f: &Family) -> String {
    match f {
        Family::Exponential { mean } => {
            format!("{{ dist = \"exponential\", mean = \"{}\" }}", dur(*mean))
        }
        Family::Lognormal { mu, sigma } => {
            format!("{{ dist = \"lognormal\", mu = {mu:.6}, sigma = {sigma:.6} }}")
        }
        Family::Gamma { shape, mean } => format!(
            "{{ dist = \"gamma\", shape = {shape:.4}, mean = \"{}\" }}",
            dur(*mean)
        ),
        Family::Deterministic { value } => {
            format!(
                "{{ dist = \"deterministic\", value = \"{}\" }}",
                dur(*value)
            )
        }
        Family::Empirical { points } => {
            let xs: Vec<String> = points.iter().map(|&p| format!("\"{}\"", dur(p))).collect();
            format!("{{ dist = \"empirical\", samples = [{}] }}", xs.join(", "))
        }
    }
}

/// "lognormal, KS 0.012 (gamma 0.020, exponential 0.210); p50 2.10 ms vs
/// 2.08 measured (+1.0%), ..."
fn fit_note(f: &Fit) -> String {
    let mut s = String::new();
    if f.fallback {
        let _ = write!(
            s,
            "too few to fit (< {}): exponential of the mean",
            fit::MIN_FIT_SAMPLES
        );
    } else {
        let _ = write!(s, "{}, KS {:.3}", f.family.name(), f.ks);
        let others: Vec<String> = f
            .candidates
            .iter()
            .filter(|(n, _)| *n != f.family.name())
            .map(|(n, d)| format!("{n} {d:.3}"))
            .collect();
        if !others.is_empty() {
            let _ = write!(s, " ({})", others.join(", "));
        }
        if matches!(f.family, Family::Empirical { .. }) {
            let _ = write!(
                s,
                " [no family within KS {}: {} quantiles]",
                fit::KS_THRESHOLD,
                fit::EMPIRICAL_POINTS.min(f.n)
            );
        }
    }
    let qs: Vec<String> = f
        .quantiles
        .iter()
        .map(|&(p, got, want)| {
            format!(
                "p{} {} vs {} ({:+.1}%)",
                (p * 100.0).round(),
                ms(got),
                ms(want),
                (got / want - 1.0) * 100.0
            )
        })
        .collect();
    let _ = write!(s, "; fitted vs measured {}", qs.join(", "));
    s
}

/// The fitted distribution of a series, and its comment.
fn fitted(series: &Series) -> (String, String) {
    let sorted = series.sorted();
    match fit::choose(&sorted) {
        Some(f) => {
            let sampled = if (f.n as u64) < series.n {
                format!(" (fitted on a uniform sample of {})", count(f.n as u64))
            } else {
                String::new()
            };
            (
                dist_toml(&f.family),
                format!(
                    "n = {}{sampled}, mean {}; {}",
                    count(series.n),
                    ms(series.mean()),
                    fit_note(&f)
                ),
            )
        }
        None => (
            "{ dist = \"deterministic\", value = \"1ns\" }".into(),
            "no samples".into(),
        ),
    }
}

fn pcts(series: &Series) -> String {
    let s = series.sorted();
    format!(
        "mean {}, p50 {}, p95 {}, p99 {} (n = {})",
        ms(series.mean()),
        ms(quantile(&s, 0.5)),
        ms(quantile(&s, 0.95)),
        ms(quantile(&s, 0.99)),
        count(series.n)
    )
}

/// What the writer needs besides the spans.
pub struct Meta<'a> {
    pub name: &'a str,
    pub min_samples: u64,
    pub version: &'a str,
}

/// Renders the scenario, or says why the spans cannot make one.
///
/// The file is written top to bottom: the header comment, `[scenario]` and
/// `[simulation]`, one `[classes.*]` table per route, then the tiers the
/// routes use (API, cache, database, workers).
pub fn render(acc: &Acc, meta: &Meta<'_>) -> Result<String, SpansProblem> {
    if acc.classes.is_empty() {
        return Err(SpansProblem::NoServerSpans);
    }
    let covered = ingest::covered(acc.api_processes.values());
    if covered == 0 {
        return Err(SpansProblem::NoWindow);
    }
    let classes = ordered_classes(acc, meta.min_samples)?;
    let sections = Sections {
        acc,
        meta,
        window_s: covered as f64 * 1e-9,
        total: classes.iter().map(|(_, c)| c.count).sum(),
        classes,
        resolved: Resolved::of(acc),
    };
    let mut out = String::new();
    let w = &mut out;
    sections.header_inputs(w);
    sections.header_method(w);
    sections.scenario_table(w);
    sections.simulation_table(w);
    let mut class_names = HashMap::new();
    for (route, c) in &sections.classes {
        let name = unique(sanitize(route), &mut class_names);
        sections.class_table(w, &name, route, c);
    }
    sections.api_tier(w);
    sections.cache_tier(w);
    sections.database_tier(w);
    sections.workers_tier(w);
    Ok(out)
}

/// The classes with their routes ("GET /items/{id}"), most requests first
/// and ties by route for a stable file; an error if one is rarer than
/// `min_samples`.
fn ordered_classes(acc: &Acc, min_samples: u64) -> Result<Vec<(String, &ClassAcc)>, SpansProblem> {
    let mut classes: Vec<_> = acc
        .classes
        .iter()
        .map(|(k, c)| (format!("{} {}", acc.names.get(k.0), acc.names.get(k.1)), c))
        .collect();
    classes.sort_by(|a, b| b.1.count.cmp(&a.1.count).then(a.0.cmp(&b.0)));
    if let Some((route, c)) = classes.iter().rev().find(|(_, c)| c.count < min_samples) {
        return Err(SpansProblem::TooRare {
            route: route.clone(),
            n: c.count,
            min: min_samples,
        });
    }
    Ok(classes)
}

/// What every section of the scenario is written from.
struct Sections<'a> {
    acc: &'a Acc,
    meta: &'a Meta<'a>,
    /// Seconds from the first SERVER span start to the last, without the
    /// gaps in which no API process sent any (between collection periods).
    window_s: f64,
    /// Requests over all classes.
    total: u64,
    classes: Vec<(String, &'a ClassAcc)>,
    resolved: Resolved,
}

/// A class's route shapes, and the on_miss block used at each GET.
struct Shapes<'c> {
    /// The most common on_miss block of each GET position, and its count.
    miss: HashMap<usize, (&'c Vec<Tok>, u64)>,
    /// Misses over all GET positions.
    misses: u64,
    /// The most common shape, and the others with at least
    /// `MIN_SHAPE_SHARE` of the requests; most requests first.
    kept: Vec<(&'c Vec<Tok>, u64)>,
    /// Requests of the rarer shapes, not modelled.
    dropped: u64,
}

impl<'c> Shapes<'c> {
    fn of(c: &'c ClassAcc) -> Self {
        let mut miss: HashMap<usize, (&Vec<Tok>, u64)> = HashMap::new();
        let mut misses = 0;
        for ((i, block), n) in &c.miss_blocks {
            misses += n;
            let e = miss.entry(*i).or_insert((block, 0));
            if *n > e.1 || (*n == e.1 && block < e.0) {
                *e = (block, *n);
            }
        }
        let mut shapes: Vec<_> = c.shapes.iter().collect();
        shapes.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let kept: Vec<_> = shapes
            .iter()
            .enumerate()
            .filter(|(i, (_, n))| *i == 0 || **n as f64 >= MIN_SHAPE_SHARE * c.count as f64)
            .map(|(_, (shape, n))| (*shape, **n))
            .collect();
        let dropped = c.count - kept.iter().map(|(_, n)| n).sum::<u64>();
        Shapes {
            miss,
            misses,
            kept,
            dropped,
        }
    }
}

impl Sections<'_> {
    /// The header's account of the inputs: files, window, counts, and what
    /// was clipped, dropped or corrected.
    fn header_inputs(&self, w: &mut String) {
        let (acc, meta) = (self.acc, self.meta);
        let _ = writeln!(
            w,
            "# {}: calibrated by `capsim calibrate` {} from OpenTelemetry spans",
            meta.name, meta.version
        );
        let _ = writeln!(w, "# (OTLP JSON); method and limits in docs/calibrate.md.");
        let _ = writeln!(w, "#");
        let _ = writeln!(w, "# Inputs:");
        for f in &acc.files {
            let _ = writeln!(
                w,
                "#   - {}: {} bytes, {} lines, {} spans ({} SERVER, {} CONSUMER, {} orphans)",
                f.path,
                count(f.bytes),
                count(f.lines),
                count(f.spans),
                count(f.server),
                count(f.consumer),
                count(f.orphans)
            );
        }
        let (first, last) = acc.server_starts();
        let _ = writeln!(
            w,
            "# Window: {:.3} s of SERVER span starts, from {} to {} ns since the epoch;",
            self.window_s, first, last
        );
        let gaps = (last - first) as f64 * 1e-9 - self.window_s;
        if gaps > 0.0 {
            let _ = writeln!(
                w,
                "# {gaps:.3} s in which no API process sent spans (between collection periods) left out;"
            );
        }
        let _ = writeln!(
            w,
            "# {} traces, {} requests in {} classes.",
            count(acc.traces),
            count(self.total),
            self.classes.len()
        );
        self.header_processes(w);
        let _ = writeln!(
            w,
            "# Children outside their root's interval (clipped): {}; spans under no request: {};",
            count(acc.outside),
            count(acc.unattached)
        );
        let _ = writeln!(
            w,
            "# traces flushed early by the buffer's size cap: {}.",
            count(acc.flushed_by_size)
        );
        if acc.loop_wait_spans > 0 {
            let _ = writeln!(
                w,
                "# Event-loop time removed from the requests' waits (other requests ran on the process's loop while the call\n\
                 # had returned, so that time is neither the call's service nor this request's CPU): {} of {} over {} spans ({:.1}%).",
                ms(acc.loop_wait_removed_s),
                ms(acc.loop_wait_raw_s),
                count(acc.loop_wait_spans),
                100.0 * acc.loop_wait_removed_s / acc.loop_wait_raw_s.max(1e-12)
            );
        }
    }

    /// The header's note on how service times are fitted and what is assumed.
    fn header_method(&self, w: &mut String) {
        let _ = writeln!(w, "#");
        let _ = writeln!(
            w,
            "# Service times: MLE fits (exponential, lognormal, gamma), the best by KS distance, used if KS <= {};",
            fit::KS_THRESHOLD
        );
        let _ = writeln!(
            w,
            "# otherwise {} empirical quantiles. Each fit's comment gives n, KS and p50/p95/p99 fitted vs measured.",
            fit::EMPIRICAL_POINTS
        );
        let _ = writeln!(
            w,
            "# Not in the spans, so set by assumption (edit them): simulation length, API cores, Postgres cores."
        );
    }

    fn scenario_table(&self, w: &mut String) {
        let _ = writeln!(w);
        let _ = writeln!(w, "[scenario]");
        let _ = writeln!(w, "name = \"{}\"", self.meta.name);
        let _ = writeln!(
            w,
            "description = \"Calibrated from {} spans ({} requests over {:.0} s)\"",
            count(self.acc.files.iter().map(|f| f.spans).sum()),
            count(self.total),
            self.window_s
        );
    }

    fn simulation_table(&self, w: &mut String) {
        let _ = writeln!(w);
        let _ = writeln!(w, "[simulation]");
        let _ = writeln!(
            w,
            "duration = \"10m\"            # assumed: long enough for tight CIs at these rates"
        );
        let _ = writeln!(w, "warmup = \"1m\"");
        let _ = writeln!(w, "replications = 5");
        let _ = writeln!(w, "seed = 1");
    }

    /// `[classes.NAME]`: the rate and the route, with the API CPU around the
    /// calls.
    fn class_table(&self, w: &mut String, name: &str, route: &str, c: &ClassAcc) {
        let _ = writeln!(w);
        let _ = writeln!(w, "[classes.{name}]  # {route}");
        let _ = writeln!(
            w,
            "rate_per_s = {:.4}  # {} SERVER spans \"{route}\" / {:.3} s; {:.1}% of requests; {} with status >= 500",
            c.count as f64 / self.window_s,
            count(c.count),
            self.window_s,
            100.0 * c.count as f64 / self.total as f64,
            count(c.errors)
        );
        let _ = writeln!(w, "route = [");
        // A coroutine that called out waits for the loop again to go on:
        // CPU after the first call is a second turn on the loop.
        let two_turns = self.acc.event_loop && c.cpu_rest.n > 0 && c.cpu_rest.mean() > 1e-6;
        self.first_cpu_step(w, c, two_turns);
        let shapes = Shapes::of(c);
        if c.gets > 0 {
            self.cache_note(w, c, &shapes);
        }
        self.dropped_enqueue_notes(w, &shapes);
        if shapes.kept.len() == 1 {
            self.single_route(w, c, &shapes);
        } else {
            self.branch_route(w, c, &shapes);
        }
        if two_turns {
            let (cpu, note) = fitted(&c.cpu_rest);
            let _ = writeln!(
                w,
                "  # second turn on the event loop: the rest of the self time, after the calls return, {note}"
            );
            let _ = writeln!(w, "  {{ cpu = {cpu} }},");
        }
        let _ = writeln!(w, "]");
    }

    /// The route's first step: the API CPU, all of it or its first turn.
    fn first_cpu_step(&self, w: &mut String, c: &ClassAcc, two_turns: bool) {
        let (cpu, note) = fitted(if two_turns { &c.cpu_first } else { &c.cpu });
        let _ = writeln!(
            w,
            "  # API CPU = SERVER span self time (duration minus the union of its waits: pool, Redis, Postgres, enqueue): {}",
            pcts(&c.cpu)
        );
        let _ = writeln!(w, "  # (SERVER span wall time: {})", pcts(&c.wall));
        if two_turns {
            let _ = writeln!(
                w,
                "  # first turn on the event loop: self time before the first wait, {note}"
            );
        } else {
            let _ = writeln!(w, "  # one CPU burst: {note}");
        }
        let _ = writeln!(w, "  {{ api = \"{API}\", cpu = {cpu} }},");
    }

    /// The class's own hit ratio and the on_miss blocks chosen.
    fn cache_note(&self, w: &mut String, c: &ClassAcc, shapes: &Shapes<'_>) {
        let mut blocks: Vec<_> = shapes.miss.iter().collect();
        blocks.sort_by_key(|(i, _)| **i);
        let best: Vec<String> = blocks
            .iter()
            .map(|(_, (b, n))| {
                format!(
                    "[{}] in {} of {} misses",
                    self.describe(b),
                    count(*n),
                    count(shapes.misses)
                )
            })
            .collect();
        let inferred = if c.hits_inferred > 0 {
            format!(
                "; {} GETs without capsim.cache.hit judged by a following SET",
                count(c.hits_inferred)
            )
        } else {
            String::new()
        };
        let _ = writeln!(
            w,
            "  # redis GET: {} hits of {} GETs in this class ({:.3}; the tier's hit_ratio is over all classes){inferred}; on a miss: {}",
            count(c.hits),
            count(c.gets),
            c.hits as f64 / c.gets as f64,
            if best.is_empty() {
                "nothing".into()
            } else {
                best.join("; ")
            }
        );
    }

    /// A comment for each enqueue of a job no worker file showed (its step
    /// is left out).
    fn dropped_enqueue_notes(&self, w: &mut String, shapes: &Shapes<'_>) {
        for (shape, _) in &shapes.kept {
            for t in shape.iter() {
                if let Tok::Enqueue { job } = t
                    && !self.job_known(*job)
                {
                    let _ = writeln!(
                        w,
                        "  # dropped: enqueue of job \"{}\" (no CONSUMER span of it in the inputs: pass the worker's span file too)",
                        self.acc.names.get(*job)
                    );
                }
            }
        }
    }

    /// One shape kept: its steps, in line.
    fn single_route(&self, w: &mut String, c: &ClassAcc, shapes: &Shapes<'_>) {
        let (shape, n) = shapes.kept[0];
        let _ = writeln!(
            w,
            "  # steps in span start order: [{}] in {} of {} requests{}",
            self.describe(shape),
            count(n),
            count(c.count),
            if shapes.dropped > 0 {
                format!(
                    "; {} requests of rarer shapes (< 1% each) not modelled",
                    count(shapes.dropped)
                )
            } else {
                String::new()
            }
        );
        for s in self.steps(shape, shapes) {
            let _ = writeln!(w, "  {s},");
        }
    }

    /// Several shapes kept: one `branch` step with their measured shares.
    fn branch_route(&self, w: &mut String, c: &ClassAcc, shapes: &Shapes<'_>) {
        let kept = &shapes.kept;
        let kept_total: u64 = kept.iter().map(|(_, n)| n).sum();
        let mut alts = Vec::new();
        let mut acc_p = 0.0;
        for (i, (shape, n)) in kept.iter().enumerate() {
            let _ = writeln!(
                w,
                "  # shape {}: [{}] in {} of {} requests",
                i + 1,
                self.describe(shape),
                count(*n),
                count(c.count)
            );
            // Rounded shares, the last one taking the remainder so they sum to 1.
            let p = if i + 1 == kept.len() {
                1.0 - acc_p
            } else {
                let p = (*n as f64 / kept_total as f64 * 1e6).round() / 1e6;
                acc_p += p;
                p
            };
            let mut steps = self.steps(shape, shapes);
            if steps.is_empty() {
                // A branch needs a step: a zero delay is "no call".
                steps.push("{ delay = { dist = \"deterministic\", value = \"0s\" } }".into());
            }
            alts.push(format!("{{ p = {p:.6}, route = [{}] }}", steps.join(", ")));
        }
        if shapes.dropped > 0 {
            let _ = writeln!(
                w,
                "  # {} requests of rarer shapes (< 1% each) not modelled",
                count(shapes.dropped)
            );
        }
        let _ = writeln!(w, "  {{ branch = [{}] }},", alts.join(", "));
    }

    /// "redis GET, postgresql SELECT items" or "no calls".
    fn describe(&self, shape: &[Tok]) -> String {
        if shape.is_empty() {
            return "no calls".into();
        }
        shape
            .iter()
            .map(|t| tok_name(t, self.acc))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// A shape's steps as TOML, each GET with its on_miss block.
    fn steps(&self, shape: &[Tok], shapes: &Shapes<'_>) -> Vec<String> {
        shape
            .iter()
            .enumerate()
            .filter_map(|(i, t)| self.step(t, shapes.miss.get(&i).map(|(b, _)| *b)))
            .collect()
    }

    /// One step as TOML; none for an enqueue of a job no worker file showed.
    fn step(&self, t: &Tok, miss: Option<&Vec<Tok>>) -> Option<String> {
        Some(match t {
            Tok::Get => match miss {
                Some(block) if !block.is_empty() => {
                    let inner: Vec<String> = block
                        .iter()
                        .filter_map(|b| plain_step(b, &self.resolved))
                        .collect();
                    format!(
                        "{{ cache = \"{CACHE}\", on_miss = [{}] }}",
                        inner.join(", ")
                    )
                }
                _ => format!("{{ cache = \"{CACHE}\" }}"),
            },
            Tok::Enqueue { job } if !self.job_known(*job) => return None,
            other => plain_step(other, &self.resolved)?,
        })
    }

    /// Whether the inputs have CONSUMER spans of the job.
    fn job_known(&self, job: u32) -> bool {
        self.acc.jobs.contains_key(&job)
    }

    /// With spans from more than one API process: each one's span of time,
    /// requests and mean self time, so that collection periods that
    /// disagree (a host that ran slower in one) show.
    fn header_processes(&self, w: &mut String) {
        let acc = self.acc;
        if acc.api_processes.len() < 2 {
            return;
        }
        let mut lives: Vec<_> = acc.api_processes.iter().collect();
        lives.sort_by_key(|&(&p, l)| (l.first_start, p));
        let first = lives[0].1.first_start;
        let _ = writeln!(
            w,
            "# API processes: {} sent SERVER spans, at most {} at once; each one's first and last request (s from the first),",
            lives.len(),
            self.api_processes()
        );
        let _ = writeln!(w, "# requests and mean self time (CPU) per request:");
        for (&p, l) in lives {
            let at = |t: u64| (t - first) as f64 * 1e-9;
            let _ = writeln!(
                w,
                "#   - {}: {:.1} to {:.1} s, {} requests, {:.3} ms",
                acc.names.get(p),
                at(l.first_start),
                at(l.last_start),
                count(l.roots),
                1e3 * l.self_s / l.roots as f64
            );
        }
    }

    /// API processes that sent SERVER spans at once (at least one).
    fn api_processes(&self) -> usize {
        ingest::at_once(self.acc.api_processes.values())
    }

    /// ", N in all" when more processes sent spans than were alive at once.
    fn in_all(at_once: usize, all: usize) -> String {
        if all > at_once {
            format!(", {all} in all")
        } else {
            String::new()
        }
    }

    fn api_tier(&self, w: &mut String) {
        let procs = self.api_processes();
        let _ = writeln!(w);
        let _ = writeln!(w, "[tiers.{API}]");
        let _ = writeln!(w, "kind = \"api\"");
        let _ = writeln!(
            w,
            "mode = \"async\"      # ASGI: an event loop per process, held only during CPU bursts"
        );
        let _ = writeln!(w, "instances = 1");
        let all = Self::in_all(procs, self.acc.api_processes.len());
        let _ = writeln!(
            w,
            "cores = {procs}           # {procs} {} sent SERVER spans at once (resource process.pid{all}); one core each assumed: edit if they share cores",
            if procs == 1 { "process" } else { "processes" }
        );
        let _ = writeln!(w, "workers = {procs}         # one event loop per process");
    }

    /// `[tiers.redis]`, if the spans have Redis GETs or SETs.
    fn cache_tier(&self, w: &mut String) {
        let acc = self.acc;
        if acc.gets.n + acc.sets.n == 0 {
            return;
        }
        let hits: u64 = acc.classes.values().map(|c| c.hits).sum();
        let gets: u64 = acc.classes.values().map(|c| c.gets).sum();
        let _ = writeln!(w);
        let _ = writeln!(w, "[tiers.{CACHE}]");
        let _ = writeln!(w, "kind = \"cache\"");
        let ratio = if gets > 0 {
            hits as f64 / gets as f64
        } else {
            0.0
        };
        let _ = writeln!(
            w,
            "hit_ratio = {ratio:.4}  # {} hits of {} redis GET spans, all classes",
            count(hits),
            count(gets)
        );
        let _ = writeln!(
            w,
            "rtt = \"0s\"          # the client spans include the round trip: it is inside the command times below"
        );
        for (key, s, span) in [
            ("get_service", &acc.gets, "redis GET"),
            ("set_service", &acc.sets, "redis SET"),
        ] {
            if s.n == 0 {
                continue;
            }
            let (d, note) = fitted(s);
            let _ = writeln!(w, "# {key}: CLIENT span \"{span}\" duration, {note}");
            let _ = writeln!(w, "{key} = {d}");
        }
    }

    /// `[tiers.postgres]`, if the spans have queries: cores, pool and one
    /// entry per query type.
    fn database_tier(&self, w: &mut String) {
        let acc = self.acc;
        if acc.queries.is_empty() {
            return;
        }
        let procs = self.api_processes();
        let pool = acc.pools.values().map(|p| p.size).max().unwrap_or(0);
        let size = if pool > 0 {
            pool as u64 * procs as u64
        } else {
            20
        };
        let _ = writeln!(w);
        let _ = writeln!(w, "[tiers.{DB}]");
        let _ = writeln!(w, "kind = \"database\"");
        let _ = writeln!(
            w,
            "primary = {{ cores = {size} }}  # not in the spans: as many cores as connections, so the pool is the only queue (edit to the server's cores)"
        );
        self.pool_line(w, pool, size);
        let _ = writeln!(
            w,
            "rtt = \"0s\"          # the client spans include the round trip: it is inside the query times below"
        );
        for (k, name) in &self.resolved.queries {
            let s = &acc.queries[k];
            let read = acc.read_ops.get(k).copied().unwrap_or(false);
            let (d, note) = fitted(s);
            let _ = writeln!(
                w,
                "# {name}: CLIENT span \"postgresql {} {}\" duration, {note}",
                acc.names.get(k.0),
                acc.names.get(k.1)
            );
            let _ = writeln!(
                w,
                "queries.{name} = {{ kind = \"{}\", cpu = {d} }}",
                if read { "read" } else { "write" }
            );
        }
    }

    /// The database pool: `size` connections, from the largest
    /// `capsim.pool.size` seen (`pool`, 0 if none) times the API processes.
    fn pool_line(&self, w: &mut String, pool: i64, size: u64) {
        let acc = self.acc;
        if pool > 0 {
            let mut waits = Series::default();
            for p in acc.pools.values() {
                for x in p.wait.sorted() {
                    waits.push(x);
                }
            }
            let n: u64 = acc.pools.values().map(|p| p.wait.n).sum();
            let _ = writeln!(
                w,
                "# pool: capsim.pool.size {pool} on \"pool.acquire\" spans x {} API processes; acquire waits seen over {} spans: {}",
                self.api_processes(),
                count(n),
                pcts(&waits)
            );
        } else {
            let _ = writeln!(
                w,
                "# pool: no \"pool.acquire\" spans: capsim's default size"
            );
        }
        let _ = writeln!(w, "pool = {{ size = {size}, acquire_timeout = \"30s\" }}");
    }

    /// `[tiers.workers]`, if the spans have jobs: workers, concurrency,
    /// queues and one entry per job.
    fn workers_tier(&self, w: &mut String) {
        let acc = self.acc;
        if acc.jobs.is_empty() {
            return;
        }
        let workers = ingest::at_once(acc.worker_processes.values());
        let all = Self::in_all(workers, acc.worker_processes.len());
        let conc = acc
            .jobs
            .values()
            .map(|j| j.concurrency)
            .max()
            .unwrap_or(0)
            .max(1);
        let _ = writeln!(w);
        let _ = writeln!(w, "[tiers.{WORKERS}]");
        let _ = writeln!(w, "kind = \"workers\"");
        let _ = writeln!(
            w,
            "workers = {workers}          # processes that sent CONSUMER spans at once{all}"
        );
        let _ = writeln!(
            w,
            "concurrency = {conc}      # capsim.worker.concurrency (max seen)"
        );
        let mut queues: Vec<String> = Vec::new();
        for job in self.resolved.jobs.keys() {
            let q = self.queue_of(*job);
            if !queues.contains(&q) {
                queues.push(q);
            }
        }
        queues.sort();
        for q in &queues {
            let _ = writeln!(w, "queues.{q} = {{}}");
        }
        for (job, name) in &self.resolved.jobs {
            self.job_entry(w, *job, name);
        }
    }

    /// The queue a job is enqueued on (from its PRODUCER spans), or "default".
    fn queue_of(&self, job: u32) -> String {
        self.acc.enqueues.get(&job).map_or_else(
            || "default".to_string(),
            |e| sanitize(self.acc.names.get(e.0)),
        )
    }

    /// `jobs.NAME`: the fitted service, with the self time, queries and
    /// queue wait seen.
    fn job_entry(&self, w: &mut String, job: u32, name: &str) {
        let acc = self.acc;
        let j = &acc.jobs[&job];
        let (d, note) = fitted(&j.duration);
        let _ = writeln!(
            w,
            "# {name}: duration of the CONSUMER spans of job \"{}\" (self time plus its queries: capsim's jobs hold a worker for both), {note}",
            acc.names.get(job)
        );
        let mut qs: Vec<String> = j
            .queries
            .iter()
            .map(|((op, table), (n, sum))| {
                format!(
                    "{} {} x{:.2} (mean {})",
                    acc.names.get(*op),
                    acc.names.get(*table),
                    *n as f64 / j.count as f64,
                    ms(sum / *n as f64)
                )
            })
            .collect();
        qs.sort();
        let _ = writeln!(
            w,
            "#   self time {}; queries per job: {}",
            pcts(&j.self_time),
            if qs.is_empty() {
                "none".into()
            } else {
                qs.join(", ")
            }
        );
        if j.queue_wait.n > 0 {
            let _ = writeln!(
                w,
                "#   queue wait (start - capsim.job.enqueue_time_unix_nano), a check on the model, not an input: {}{}",
                pcts(&j.queue_wait),
                if j.clock_skew > 0 {
                    format!(
                        "; {} started before their enqueue time (clock skew, counted 0)",
                        j.clock_skew
                    )
                } else {
                    String::new()
                }
            );
        }
        let _ = writeln!(
            w,
            "jobs.{name} = {{ queue = \"{}\", service = {d} }}",
            self.queue_of(job)
        );
    }
}

/// Scenario names of the queries and jobs.
struct Resolved {
    queries: BTreeMap<(u32, u32), String>,
    jobs: BTreeMap<u32, String>,
}

impl Resolved {
    /// Names the query types ("select_items") and jobs, in name order, each
    /// unique among both.
    fn of(acc: &Acc) -> Self {
        let names = &acc.names;
        let mut taken = HashMap::new();
        let mut queries = BTreeMap::new();
        let mut qkeys: Vec<_> = acc.queries.keys().copied().collect();
        qkeys.sort_by_key(|k| (names.get(k.0).to_string(), names.get(k.1).to_string()));
        for k in qkeys {
            let n = unique(
                sanitize(&format!("{} {}", names.get(k.0), names.get(k.1))),
                &mut taken,
            );
            queries.insert(k, n);
        }
        let mut jobs = BTreeMap::new();
        let mut jkeys: Vec<_> = acc.jobs.keys().copied().collect();
        jkeys.sort_by_key(|k| names.get(*k).to_string());
        for k in jkeys {
            jobs.insert(k, unique(sanitize(names.get(k)), &mut taken));
        }
        Resolved { queries, jobs }
    }
}

fn plain_step(t: &Tok, r: &Resolved) -> Option<String> {
    Some(match t {
        Tok::Get => format!("{{ cache = \"{CACHE}\" }}"),
        Tok::Set => format!("{{ cache = \"{CACHE}\", op = \"set\" }}"),
        Tok::Db { op, table } => {
            format!(
                "{{ db = \"{DB}\", query = \"{}\" }}",
                r.queries.get(&(*op, *table))?
            )
        }
        Tok::Enqueue { job } => format!(
            "{{ enqueue = \"{WORKERS}\", job = \"{}\" }}",
            r.jobs.get(job)?
        ),
    })
}

fn tok_name(t: &Tok, acc: &Acc) -> String {
    match t {
        Tok::Get => "redis GET".into(),
        Tok::Set => "redis SET".into(),
        Tok::Db { op, table } => format!(
            "postgresql {} {}",
            acc.names.get(*op),
            acc.names.get(*table)
        ),
        Tok::Enqueue { job } => format!("enqueue {}", acc.names.get(*job)),
    }
}

//! Random platforms within the validated ranges, and the property they must
//! hold once built, estimated and run under a budget. Shared by the proptest
//! in `structured` (stable, in the tests) and the cargo-fuzz target
//! `fuzz/fuzz_targets/structured.rs` (nightly, run by hand), which build a
//! [`Shape`] each their own way.

use capsim_models::RunControl;
use capsim_models::estimate::{PILOT_MAX_EVENTS, estimate};
use capsim_models::run::CHECK_EVERY;
use capsim_models::run_replications;
use capsim_scenarios::load_str;

/// Events a case may take, over both replications.
pub const BUDGET: u64 = 2_000_000;

/// A distribution by its mean in microseconds (100 µs to 2 s).
#[derive(Clone, Debug)]
pub enum Dist {
    Exponential(u32),
    Deterministic(u32),
    /// Mean and p99 as a multiple of it (2 to 9).
    Lognormal(u32, u32),
    /// Mean and k (1 to 19).
    Erlang(u32, u32),
}

#[derive(Clone, Debug)]
pub enum Tier {
    /// 1–63 servers; a capacity of the servers plus 1–999 waiting, or none.
    Station {
        servers: u32,
        service: Dist,
        waiting: Option<u32>,
    },
    /// 1–7 async instances of 1–3 cores.
    Api { instances: u32, cores: u32 },
}

/// A class: its rate in thousandths of a request a second (up to 5,000 a
/// second), the tiers it visits in order, its CPU on an API pool.
#[derive(Clone, Debug)]
pub struct Class {
    pub milli_rate: u32,
    pub visits: Vec<usize>,
    pub cpu: Dist,
}

/// 1–3 tiers, 1–2 classes, 10–119 s, perhaps a spike of 2–49x.
#[derive(Clone, Debug)]
pub struct Shape {
    pub tiers: Vec<Tier>,
    pub classes: Vec<Class>,
    pub duration_s: u32,
    pub spike: Option<u32>,
    pub seed: u32,
}

fn dist(d: &Dist) -> String {
    match *d {
        Dist::Exponential(m) => format!("{{ dist = \"exponential\", mean = \"{m}us\" }}"),
        Dist::Deterministic(m) => format!("{{ dist = \"deterministic\", value = \"{m}us\" }}"),
        Dist::Lognormal(m, k) => {
            format!(
                "{{ dist = \"lognormal\", mean = \"{m}us\", p99 = \"{}us\" }}",
                m * k
            )
        }
        Dist::Erlang(m, k) => format!("{{ dist = \"erlang\", k = {k}, mean = \"{m}us\" }}"),
    }
}

impl Shape {
    /// The scenario file.
    pub fn text(&self) -> String {
        let d = self.duration_s;
        let mut text = format!(
            "[scenario]\nname = \"random\"\n[simulation]\nduration = \"{d}s\"\nwarmup = \"{}s\"\nreplications = 2\nseed = {}\n",
            d / 4,
            self.seed
        );
        for (c, class) in self.classes.iter().enumerate() {
            // A route enters one API pool at most.
            let mut on_api = false;
            let steps: Vec<String> = class
                .visits
                .iter()
                .filter_map(|&t| match self.tiers[t] {
                    Tier::Station { .. } => Some(format!("\"t{t}\"")),
                    Tier::Api { .. } if on_api => None,
                    Tier::Api { .. } => {
                        on_api = true;
                        Some(format!("{{ api = \"t{t}\", cpu = {} }}", dist(&class.cpu)))
                    }
                })
                .collect();
            text += &format!(
                "[classes.c{c}]\nrate_per_s = {}\nroute = [{}]\n",
                class.milli_rate as f64 / 1000.0,
                steps.join(", ")
            );
            if let Some(m) = self.spike {
                text += &format!(
                    "profile = {{ kind = \"spike\", start = \"{}s\", rise = \"1s\", plateau = \"2s\", decay = \"1s\", multiplier = {m} }}\n",
                    d / 2
                );
            }
        }
        for (i, t) in self.tiers.iter().enumerate() {
            text += &match t {
                Tier::Station {
                    servers,
                    service,
                    waiting,
                } => {
                    let cap =
                        waiting.map_or(String::new(), |w| format!("capacity = {}\n", servers + w));
                    format!(
                        "[tiers.t{i}]\nkind = \"station\"\nservers = {servers}\nservice = {}\n{cap}",
                        dist(service)
                    )
                }
                Tier::Api { instances, cores } => format!(
                    "[tiers.t{i}]\nkind = \"api\"\ninstances = {instances}\ncores = {cores}\nmode = \"async\"\n"
                ),
            };
        }
        text
    }
}

/// Loads `text`, estimates it and runs it under [`BUDGET`]: it must load
/// (it is within the validated ranges), the pilot and the run must stay in
/// their bounds, and every replication that finished must conserve its
/// requests and keep utilisation within [0, 1] per tier.
pub fn check(text: &str) -> Result<(), String> {
    let s = load_str("random", text, &[]).map_err(|e| format!("refused: {e}"))?;
    let e = estimate(&s.runs(), s.seed, s.replications, 1);
    if !(e.events.is_finite() && e.events >= 0.0 && e.memory_bytes.is_finite()) {
        return Err(format!("estimate {e:?}"));
    }
    if e.pilot.events > PILOT_MAX_EVENTS + 2 * CHECK_EVERY {
        return Err(format!("pilot of {} events", e.pilot.events));
    }
    let control = RunControl::new();
    control.set_budget(Some(BUDGET), None);
    let results = run_replications(&s.platform, s.seed, s.replications, 1, &control)
        .map_err(|e| e.to_string())?;
    let handled = control.events.load(std::sync::atomic::Ordering::Relaxed);
    if handled > BUDGET + 2 * CHECK_EVERY {
        return Err(format!("{handled} events under a budget of {BUDGET}"));
    }
    for r in results.iter().flatten() {
        for c in &r.classes {
            if !c.counts.is_conserved() {
                return Err(format!("{}: not conserved: {:?}", c.name, c.counts));
            }
        }
        for t in &r.tiers {
            if let Some(u) = t.metric("utilization")
                && !(0.0..=1.0 + 1e-9).contains(&u)
            {
                return Err(format!("{} utilization {u}", t.name));
            }
        }
    }
    Ok(())
}

//! Random scenarios within the validated ranges, built, estimated and run
//! under a budget (issue 37): no panic, the estimate's pilot bounded, and in
//! every replication that finished, conservation (arrived = completed +
//! failed + rejected + in flight) and utilisation within [0, 1] per tier.
//! Where `perturb` breaks the text, this reaches past the parser into the
//! model. The seed is fixed; `PROPTEST_CASES` and `PROPTEST_RNG_SEED` search
//! further.

use capsim_models::RunControl;
use capsim_models::estimate::{PILOT_MAX_EVENTS, estimate};
use capsim_models::run::CHECK_EVERY;
use capsim_models::run_replications;
use capsim_scenarios::load_str;
use proptest::prelude::*;
use proptest::test_runner::RngSeed;

const CASES: u32 = 48;
/// Events a case may take, over both replications.
const BUDGET: u64 = 2_000_000;

fn dist() -> impl Strategy<Value = String> {
    let mean_us = 100u32..2_000_000;
    prop_oneof![
        mean_us
            .clone()
            .prop_map(|m| format!("{{ dist = \"exponential\", mean = \"{m}us\" }}")),
        mean_us
            .clone()
            .prop_map(|m| format!("{{ dist = \"deterministic\", value = \"{m}us\" }}")),
        (mean_us.clone(), 2u32..10).prop_map(|(m, k)| format!(
            "{{ dist = \"lognormal\", mean = \"{m}us\", p99 = \"{}us\" }}",
            m * k
        )),
        (mean_us, 1u32..20)
            .prop_map(|(m, k)| format!("{{ dist = \"erlang\", k = {k}, mean = \"{m}us\" }}")),
    ]
}

/// A tier named `t{i}`: a station, or an API pool.
fn tier(i: usize) -> impl Strategy<Value = String> {
    prop_oneof![
        (1u32..64, dist(), proptest::option::of(1u32..1000)).prop_map(
            move |(servers, service, capacity)| {
                // Capacity counts those in service too.
                let cap = capacity.map_or(String::new(), |c| format!("capacity = {}\n", servers + c));
                format!(
                    "[tiers.t{i}]\nkind = \"station\"\nservers = {servers}\nservice = {service}\n{cap}"
                )
            }
        ),
        (1u32..8, 1u32..4).prop_map(move |(instances, cores)| format!(
            "[tiers.t{i}]\nkind = \"api\"\ninstances = {instances}\ncores = {cores}\nmode = \"async\"\n"
        )),
    ]
}

/// A whole scenario: 1–3 tiers, 1–2 classes visiting some of them in order,
/// a rate up to 5,000 a second, perhaps a spike.
fn scenario() -> impl Strategy<Value = String> {
    (1usize..=3)
        .prop_flat_map(|n| {
            (
                proptest::collection::vec(tier(0), n).prop_flat_map(move |_| {
                    (0..n).map(tier).collect::<Vec<_>>()
                }),
                proptest::collection::vec(
                    (1u32..5_000_000, proptest::collection::vec(0..n, 1..=n), dist()),
                    1..=2,
                ),
                10u32..120,
                proptest::option::of(2u32..50),
                any::<u32>(),
            )
        })
        .prop_map(|(tiers, classes, duration_s, spike, seed)| {
            let mut text = format!(
                "[scenario]\nname = \"random\"\n[simulation]\nduration = \"{duration_s}s\"\nwarmup = \"{}s\"\nreplications = 2\nseed = {seed}\n",
                duration_s / 4
            );
            for (c, (milli_rate, visits, cpu)) in classes.iter().enumerate() {
                // A route enters one API pool at most.
                let mut on_api = false;
                let steps: Vec<String> = visits
                    .iter()
                    .filter_map(|&t| {
                        if !tiers[t].contains("kind = \"api\"") {
                            Some(format!("\"t{t}\""))
                        } else if on_api {
                            None
                        } else {
                            on_api = true;
                            Some(format!("{{ api = \"t{t}\", cpu = {cpu} }}"))
                        }
                    })
                    .collect();
                text += &format!(
                    "[classes.c{c}]\nrate_per_s = {}\nroute = [{}]\n",
                    *milli_rate as f64 / 1000.0,
                    steps.join(", ")
                );
                if let Some(m) = spike {
                    text += &format!(
                        "profile = {{ kind = \"spike\", start = \"{}s\", rise = \"1s\", plateau = \"2s\", decay = \"1s\", multiplier = {m} }}\n",
                        duration_s / 2
                    );
                }
            }
            for t in &tiers {
                text += t;
            }
            text
        })
}

fn config() -> ProptestConfig {
    let from_env = ProptestConfig::default();
    ProptestConfig {
        cases: if std::env::var_os("PROPTEST_CASES").is_some() {
            from_env.cases
        } else {
            CASES
        },
        failure_persistence: None,
        rng_seed: match from_env.rng_seed {
            RngSeed::Random => RngSeed::Fixed(37),
            given => given,
        },
        ..from_env
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn random_scenarios_build_estimate_and_run_within_their_budget(text in scenario()) {
        let s = match load_str("random", &text, &[]) {
            Ok(s) => s,
            // Every scenario generated is within the validated ranges.
            Err(e) => panic!("refused: {e}\n{text}"),
        };
        let e = estimate(&s.runs(), s.seed, s.replications, 1);
        prop_assert!(e.events.is_finite() && e.events >= 0.0, "{e:?}");
        prop_assert!(e.memory_bytes.is_finite() && e.memory_bytes > 0.0, "{e:?}");
        prop_assert!(e.pilot.events <= PILOT_MAX_EVENTS + 2 * CHECK_EVERY, "{e:?}");

        let control = RunControl::new();
        control.set_budget(Some(BUDGET), None);
        let results = run_replications(&s.platform, s.seed, s.replications, 1, &control).unwrap();
        let handled = control.events.load(std::sync::atomic::Ordering::Relaxed);
        prop_assert!(handled <= BUDGET + 2 * CHECK_EVERY, "{handled} events");
        for r in results.iter().flatten() {
            for c in &r.classes {
                prop_assert!(c.counts.is_conserved(), "{}: {:?}\n{text}", c.name, c.counts);
            }
            for t in &r.tiers {
                if let Some(u) = t.metric("utilization") {
                    prop_assert!((0.0..=1.0 + 1e-9).contains(&u), "{} utilization {u}\n{text}", t.name);
                }
            }
        }
    }
}

//! Random scenarios within the validated ranges, built, estimated and run
//! under a budget (issue 37): no panic, the estimate's pilot bounded, and in
//! every replication that finished, conservation (arrived = completed +
//! failed + rejected + in flight) and utilisation within [0, 1] per tier
//! (the property is `random_platform::check`). Where `perturb` breaks the
//! text, this reaches past the parser into the model. The seed is fixed;
//! `PROPTEST_CASES` and `PROPTEST_RNG_SEED` search further, and the
//! cargo-fuzz target `structured` searches the same space (fuzz/README.md).

use proptest::prelude::*;

use crate::common::proptest_config;
use crate::random_platform::{Class, Dist, Shape, Tier, check};

const CASES: u32 = 48;

fn dist() -> impl Strategy<Value = Dist> {
    let mean_us = 100u32..2_000_000;
    prop_oneof![
        mean_us.clone().prop_map(Dist::Exponential),
        mean_us.clone().prop_map(Dist::Deterministic),
        (mean_us.clone(), 2u32..10).prop_map(|(m, k)| Dist::Lognormal(m, k)),
        (mean_us, 1u32..20).prop_map(|(m, k)| Dist::Erlang(m, k)),
    ]
}

fn tier() -> impl Strategy<Value = Tier> {
    prop_oneof![
        (1u32..64, dist(), proptest::option::of(1u32..1000)).prop_map(
            |(servers, service, waiting)| Tier::Station {
                servers,
                service,
                waiting
            }
        ),
        (1u32..8, 1u32..4).prop_map(|(instances, cores)| Tier::Api { instances, cores }),
    ]
}

fn shape() -> impl Strategy<Value = Shape> {
    (1usize..=3).prop_flat_map(|n| {
        (
            proptest::collection::vec(tier(), n),
            proptest::collection::vec(
                (
                    1u32..5_000_000,
                    proptest::collection::vec(0..n, 1..=n),
                    dist(),
                )
                    .prop_map(|(milli_rate, visits, cpu)| Class {
                        milli_rate,
                        visits,
                        cpu,
                    }),
                1..=2,
            ),
            10u32..120,
            proptest::option::of(2u32..50),
            any::<u32>(),
        )
            .prop_map(|(tiers, classes, duration_s, spike, seed)| Shape {
                tiers,
                classes,
                duration_s,
                spike,
                seed,
            })
    })
}

proptest! {
    #![proptest_config(proptest_config(CASES, 37))]

    #[test]
    fn random_scenarios_build_estimate_and_run_within_their_budget(s in shape()) {
        let text = s.text();
        if let Err(why) = check(&text) {
            prop_assert!(false, "{why}\n{text}");
        }
    }
}

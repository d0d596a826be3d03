//! Fuzzes past the parser: the input picks a random platform within the
//! validated ranges (the same space as the proptest in
//! scenarios/tests/it/structured.rs, whose `Shape` and property this
//! shares), which must load, estimate within the pilot's bound, and run
//! under a budget with conservation and utilisation in [0, 1]. See
//! ../README.md.

#![no_main]

use arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;

#[path = "../../scenarios/tests/it/random_platform.rs"]
mod random_platform;

use random_platform::{Class, Dist, Shape, Tier, check};

fn dist(u: &mut Unstructured) -> Result<Dist> {
    let mean = u.int_in_range(100..=1_999_999)?;
    Ok(match u.int_in_range(0..=3)? {
        0 => Dist::Exponential(mean),
        1 => Dist::Deterministic(mean),
        2 => Dist::Lognormal(mean, u.int_in_range(2..=9)?),
        _ => Dist::Erlang(mean, u.int_in_range(1..=19)?),
    })
}

fn shape(u: &mut Unstructured) -> Result<Shape> {
    let n = u.int_in_range(1..=3usize)?;
    let mut tiers = Vec::with_capacity(n);
    for _ in 0..n {
        tiers.push(if u.arbitrary()? {
            Tier::Station {
                servers: u.int_in_range(1..=63)?,
                service: dist(u)?,
                waiting: if u.arbitrary()? {
                    Some(u.int_in_range(1..=999)?)
                } else {
                    None
                },
            }
        } else {
            Tier::Api {
                instances: u.int_in_range(1..=7)?,
                cores: u.int_in_range(1..=3)?,
            }
        });
    }
    let mut classes = Vec::new();
    for _ in 0..u.int_in_range(1..=2)? {
        let mut visits = Vec::new();
        for _ in 0..u.int_in_range(1..=n)? {
            visits.push(u.int_in_range(0..=n - 1)?);
        }
        classes.push(Class {
            milli_rate: u.int_in_range(1..=4_999_999)?,
            visits,
            cpu: dist(u)?,
        });
    }
    Ok(Shape {
        tiers,
        classes,
        duration_s: u.int_in_range(10..=119)?,
        spike: if u.arbitrary()? {
            Some(u.int_in_range(2..=49)?)
        } else {
            None
        },
        seed: u.arbitrary()?,
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(s) = shape(&mut Unstructured::new(data)) else {
        return;
    };
    let text = s.text();
    if let Err(why) = check(&text) {
        panic!("{why}\n{text}");
    }
});

//! Named random streams.
//!
//! Every source of randomness in a model (one class's arrivals, one class's
//! service demands, one tier's routing choices, failure injection, ...) draws
//! from its own stream. A stream is a xoshiro256++ generator whose state is
//! derived from `(master seed, replication index, stream name)` alone:
//!
//! ```text
//!   key   = mix(mix(master) ^ mix(replication + G)) ^ fnv1a64(name)   (then mix)
//!   state = four successive SplitMix64 outputs seeded with key
//! ```
//!
//! where `mix` is the SplitMix64 finaliser and `G` the 64-bit golden ratio. Nothing
//! depends on the order streams are created in or on which other streams exist,
//! so adding a replica, a class or a policy never shifts the numbers another
//! component sees. That makes comparisons between policies paired (common random
//! numbers). No OS entropy is used anywhere; the seed is an input and is written
//! to every output.
//!
//! The derivation and the generator are fixed by golden-value tests: changing
//! either changes every result capsim has ever printed for a seed.

use std::convert::Infallible;

use rand::{Rng, SeedableRng, TryRng};

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// The SplitMix64 output function (Steele, Lea & Flood 2014).
#[inline]
const fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[inline]
fn splitmix_next(state: &mut u64) -> u64 {
    *state = state.wrapping_add(GOLDEN);
    mix(*state)
}

/// 64-bit FNV-1a over the name's bytes: stable across platforms and releases,
/// unlike `std`'s hashers.
fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xCBF2_9CE4_8422_2325;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01B3);
    }
    h
}

/// Derives the 64-bit key of a stream.
pub fn stream_key(master_seed: u64, replication: u64, name: &str) -> u64 {
    let base = mix(mix(master_seed) ^ mix(replication.wrapping_add(GOLDEN)));
    mix(base ^ fnv1a64(name.as_bytes()))
}

/// One random stream: a xoshiro256++ generator (Blackman & Vigna 2019), period
/// 2^256 − 1, passing BigCrush; fast enough that drawing is not the bottleneck.
#[derive(Clone, Debug)]
pub struct StreamRng {
    s: [u64; 4],
}

impl StreamRng {
    /// A stream from an explicit key (see [`stream_key`]).
    pub fn from_key(key: u64) -> Self {
        let mut sm = key;
        let mut s = [0u64; 4];
        for word in &mut s {
            *word = splitmix_next(&mut sm);
        }
        if s == [0; 4] {
            // The all-zero state is the generator's one fixed point.
            s[0] = GOLDEN;
        }
        StreamRng { s }
    }

    /// The stream named `name` of replication `replication` under `master_seed`.
    pub fn new(master_seed: u64, replication: u64, name: &str) -> Self {
        Self::from_key(stream_key(master_seed, replication, name))
    }

    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// Uniform on [0, 1) with 53 random bits.
    #[inline]
    pub fn uniform(&mut self) -> f64 {
        uniform01(self)
    }

    /// Uniform on the open interval (0, 1): safe to take the logarithm of.
    #[inline]
    pub fn open01(&mut self) -> f64 {
        open01(self)
    }

    /// Uniform integer in `0..n`.
    #[inline]
    pub fn below(&mut self, n: u64) -> u64 {
        below(self, n)
    }

    /// True with probability `p`.
    #[inline]
    pub fn bernoulli(&mut self, p: f64) -> bool {
        self.uniform() < p
    }
}

/// Uniform on [0, 1) with 53 random bits, from any generator.
#[inline]
pub fn uniform01<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// Uniform on the open interval (0, 1), from any generator.
#[inline]
pub fn open01<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    ((rng.next_u64() >> 11) as f64 + 0.5) * (1.0 / (1u64 << 53) as f64)
}

/// Uniform integer in `0..n` (Lemire's nearly-divisionless method, exact).
#[inline]
pub fn below<R: Rng + ?Sized>(rng: &mut R, n: u64) -> u64 {
    assert!(n > 0, "below(0)");
    let mut m = (rng.next_u64() as u128) * (n as u128);
    if (m as u64) < n {
        let threshold = n.wrapping_neg() % n;
        while (m as u64) < threshold {
            m = (rng.next_u64() as u128) * (n as u128);
        }
    }
    (m >> 64) as u64
}

/// A standard exponential variate (mean 1), by the ziggurat method.
#[inline]
pub fn exp1<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    rand_distr::Distribution::<f64>::sample(&rand_distr::Exp1, rng)
}

/// Derives an independent sub-key from `key` and an index: used to give each
/// step of a request its own draws, so a branch taken at one step never shifts
/// the numbers of another.
#[inline]
pub fn sub_key(key: u64, index: u64) -> u64 {
    let salt = match SALTS.get(index as usize) {
        Some(&s) => s,
        None => mix(index.wrapping_add(GOLDEN)),
    };
    mix(key ^ salt)
}

/// `mix(index + GOLDEN)` of the small indices (a route's ops draw with
/// their op number), computed at compile time: one mix less per step.
const SALTS: [u64; 64] = {
    let mut t = [0; 64];
    let mut i = 0;
    while i < 64 {
        t[i] = mix((i as u64).wrapping_add(GOLDEN));
        i += 1;
    }
    t
};

/// `rand`'s generator trait for a type with an inherent `next_u64`.
macro_rules! try_rng_from_next_u64 {
    ($t:ty) => {
        impl TryRng for $t {
            type Error = Infallible;

            #[inline]
            fn try_next_u32(&mut self) -> Result<u32, Infallible> {
                Ok((self.next_u64() >> 32) as u32)
            }

            #[inline]
            fn try_next_u64(&mut self) -> Result<u64, Infallible> {
                Ok(self.next_u64())
            }

            fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
                for chunk in dst.chunks_mut(8) {
                    let bytes = self.next_u64().to_le_bytes();
                    chunk.copy_from_slice(&bytes[..chunk.len()]);
                }
                Ok(())
            }
        }
    };
}

try_rng_from_next_u64!(StreamRng);

impl SeedableRng for StreamRng {
    type Seed = [u8; 8];

    fn from_seed(seed: [u8; 8]) -> Self {
        Self::from_key(u64::from_le_bytes(seed))
    }
}

/// A short-lived generator for the few draws of one request step: SplitMix64
/// (Steele, Lea & Flood 2014) started from a key. Cheap to create (no state
/// expansion) and of full quality for the handful of numbers one step needs;
/// long-lived streams use [`StreamRng`].
#[derive(Clone, Debug)]
pub struct KeyedRng {
    state: u64,
}

impl KeyedRng {
    #[inline]
    pub fn new(key: u64) -> Self {
        KeyedRng { state: key }
    }

    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        splitmix_next(&mut self.state)
    }

    /// Uniform on [0, 1).
    #[inline]
    pub fn uniform01(&mut self) -> f64 {
        uniform01(self)
    }
}

try_rng_from_next_u64!(KeyedRng);

/// Hands out the named streams of one replication.
#[derive(Clone, Copy, Debug)]
pub struct Streams {
    master_seed: u64,
    replication: u64,
}

impl Streams {
    pub fn new(master_seed: u64, replication: u64) -> Self {
        Streams {
            master_seed,
            replication,
        }
    }

    pub fn master_seed(&self) -> u64 {
        self.master_seed
    }

    pub fn replication(&self) -> u64 {
        self.replication
    }

    /// The stream called `name`, e.g. `"arrivals/checkout"`.
    pub fn stream(&self, name: &str) -> StreamRng {
        StreamRng::new(self.master_seed, self.replication, name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn golden_values_pin_the_derivation() {
        // Changing these values changes every published result for a seed.
        let mut r = StreamRng::new(42, 0, "arrivals/api");
        let first: Vec<u64> = (0..3).map(|_| r.next_u64()).collect();
        assert_eq!(first, GOLDEN_ARRIVALS);
        assert_eq!(stream_key(1, 2, "x"), GOLDEN_KEY);
    }

    #[test]
    fn sub_keys_are_the_same_with_and_without_the_table() {
        // Pinned for a small index (from the table) and a large one
        // (computed); the values come from a separate implementation of
        // mix(key ^ mix(index + G)).
        assert_eq!(sub_key(7, 3), 6_480_866_302_467_822_589);
        assert_eq!(sub_key(7, 0xB0FF_0001), 17_180_459_283_104_582_941);
        for index in 0..200u64 {
            for key in [0, 1, 7, u64::MAX, 0x1234_5678_9ABC_DEF0] {
                assert_eq!(
                    sub_key(key, index),
                    mix(key ^ mix(index.wrapping_add(GOLDEN))),
                    "key {key}, index {index}"
                );
            }
        }
    }

    // Computed once from this implementation and frozen.
    const GOLDEN_ARRIVALS: [u64; 3] = [
        18_017_233_944_142_257_343,
        17_742_648_324_359_478_567,
        2_620_956_137_290_280_325,
    ];
    const GOLDEN_KEY: u64 = 16_163_899_918_510_553_873;

    #[test]
    fn keyed_rng_is_splitmix64() {
        // Reference output of SplitMix64 seeded with 1234567 (from the
        // authors' C implementation, as used in Vigna's test vectors).
        let mut r = KeyedRng::new(1_234_567);
        let expected: [u64; 3] = [
            6_457_827_717_110_365_317,
            3_203_168_211_198_807_973,
            9_817_491_932_198_370_423,
        ];
        for e in expected {
            assert_eq!(r.next_u64(), e);
        }
    }

    #[test]
    fn xoshiro_matches_reference_vector() {
        // Reference output of xoshiro256++ for state [1, 2, 3, 4] (from the
        // authors' C implementation).
        let mut r = StreamRng { s: [1, 2, 3, 4] };
        let expected: [u64; 4] = [41943041, 58720359, 3588806011781223, 3591011842654386];
        for e in expected {
            assert_eq!(r.next_u64(), e);
        }
    }

    #[test]
    fn adding_a_stream_does_not_change_existing_draws() {
        // Draws of "arrivals/a" interleaved with nothing...
        let streams = Streams::new(7, 3);
        let mut a = streams.stream("arrivals/a");
        let alone: Vec<u64> = (0..100).map(|_| a.next_u64()).collect();
        // ...and the same after other streams were created and used first.
        let mut b = streams.stream("arrivals/b");
        let mut c = streams.stream("demands/new-class");
        for _ in 0..50 {
            b.next_u64();
            c.next_u64();
        }
        let mut a2 = streams.stream("arrivals/a");
        let with_others: Vec<u64> = (0..100).map(|_| a2.next_u64()).collect();
        assert_eq!(alone, with_others);
    }

    #[test]
    fn streams_differ_by_name_replication_and_seed() {
        let first = |seed, rep, name: &str| StreamRng::new(seed, rep, name).next_u64();
        let base = first(1, 0, "s");
        assert_ne!(base, first(1, 0, "t"));
        assert_ne!(base, first(1, 1, "s"));
        assert_ne!(base, first(2, 0, "s"));
        // Swapping seed and replication must not collide.
        assert_ne!(first(1, 2, "s"), first(2, 1, "s"));
    }

    #[test]
    fn uniform_ranges_and_moments() {
        let mut r = StreamRng::new(1, 0, "u");
        let n = 200_000;
        let mut sum = 0.0;
        let mut sum_sq = 0.0;
        for _ in 0..n {
            let u = r.open01();
            assert!(u > 0.0 && u < 1.0);
            sum += u;
            sum_sq += u * u;
        }
        let mean = sum / n as f64;
        let var = sum_sq / n as f64 - mean * mean;
        assert!((mean - 0.5).abs() < 0.005, "mean {mean}");
        assert!((var - 1.0 / 12.0).abs() < 0.002, "var {var}");
    }

    #[test]
    fn below_is_unbiased_over_small_ranges() {
        let mut r = StreamRng::new(5, 0, "b");
        let mut counts = [0u32; 6];
        for _ in 0..60_000 {
            counts[r.below(6) as usize] += 1;
        }
        for c in counts {
            assert!((9_400..10_600).contains(&c), "{counts:?}");
        }
    }

    #[test]
    fn works_as_a_rand_rng() {
        let mut r = StreamRng::new(9, 0, "rand");
        let x: u32 = r.next_u32();
        let mut buf = [0u8; 13];
        r.fill_bytes(&mut buf);
        assert!(x != 0 || buf.iter().any(|&b| b != 0));
    }
}

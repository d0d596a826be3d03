//! Fuzzes the scenario loader: any UTF-8 text either loads or is rejected
//! with a `ScenarioError`; it must never panic, overflow (debug assertions
//! are on) or hang. See ../README.md.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = capsim_scenarios::load_str("fuzz.toml", text, &[]);
    }
});

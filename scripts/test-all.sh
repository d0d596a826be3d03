#!/usr/bin/env bash
# Runs every test capsim has: formatting and lints, the Rust unit and
# integration tests (including the queueing-theory validation suite and the
# end-to-end tests of the capsim binary), doc tests, and a one-iteration smoke
# run of every benchmark. CI (.ci/run) runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo test (unit, validation against theory, CLI end to end, benchmark smoke runs)"
cargo test --workspace --all-targets --locked

step "doc tests"
cargo test --workspace --doc --locked

printf '\nAll tests passed.\n'

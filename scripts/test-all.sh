#!/usr/bin/env bash
# Runs every test capsim has: formatting and lints, the Rust unit and
# integration tests (including the queueing-theory validation suite and the
# end-to-end tests of the capsim binary), doc tests, a one-iteration smoke
# run of every benchmark, and every Jupyter notebook in notebooks/ executed
# headless against the release binary (needs python3 >= 3.11 with venv; the
# Python packages are pinned in notebooks/requirements.txt and installed into
# .venv/). CI (.ci/run) runs exactly this.
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

step "notebooks (release build, .venv from notebooks/requirements.txt, every notebooks/*.ipynb executed headless)"
cargo build --release --locked --bin capsim
CAPSIM_BIN="$PWD/target/release/capsim" ./scripts/notebooks.sh

printf '\nAll tests passed.\n'

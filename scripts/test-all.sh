#!/usr/bin/env bash
# Runs every test capsim has: formatting and lints, the Rust unit and
# integration tests (including the queueing-theory validation suite and the
# end-to-end tests of the capsim binary), doc tests, a one-iteration smoke
# run of every benchmark, the Python package's tests (scripts/python.sh),
# every Jupyter notebook in notebooks/ executed headless, and the real-stack
# tests (scripts/validation.sh: PostgreSQL and Redis from Debian packages,
# the validation app in validation/.venv, the short form of the
# predicted-vs-measured experiment; root for apt-get), and the scale-out
# files in deploy/ (scripts/deploy-tests.sh: linters, and a sharded sweep on a
# one-node Slurm cluster from Debian packages).
# The Python package and the notebooks need python3 >= 3.11 with venv; their
# Python packages are pinned in notebooks/requirements.txt and
# python/requirements-dev.txt and installed into .venv/, with the package's
# wheel (scripts/python.sh; the `wheel` profile, the test profile's
# optimisation). The package's tests and the experiment run against the
# capsim binary the tests just built and ran end to end (target/debug/capsim,
# test profile: opt-level 3 with debug assertions): a separate fat-LTO
# release build would add ~3.5 minutes on two cores, and its results are
# byte-identical. CI (.ci/run) runs exactly this.
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

step "python package (python/: its wheel built with maturin and installed into .venv/, pytest comparing it with the binary cargo test built)"
# `cargo test` builds the binary for the CLI end-to-end tests with the
# workspace's unified features; `cargo build --profile test` would not be a
# no-op, so use that very file.
CAPSIM_BIN="${CARGO_TARGET_DIR:-$PWD/target}/debug/capsim" ./scripts/python.sh

step "notebooks (the Python package in .venv/, every notebooks/*.ipynb executed headless)"
./scripts/notebooks.sh

step "real stack (validation/: PostgreSQL, Redis, a uvicorn API and an arq worker installed and started here, stopped after; smoke test and the short predicted-vs-measured experiment)"
CAPSIM_BIN="${CARGO_TARGET_DIR:-$PWD/target}/debug/capsim" ./scripts/validation.sh

step "deploy/ (the workflow, Kubernetes manifests, Dockerfile and Slurm scripts by their linters, pinned in deploy/.venv; a sharded sweep on a one-node Slurm cluster installed and started here, stopped after, merged and compared byte for byte with an unsharded one)"
CAPSIM_BIN="${CARGO_TARGET_DIR:-$PWD/target}/debug/capsim" ./scripts/deploy-tests.sh

printf '\nAll tests passed.\n'

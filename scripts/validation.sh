#!/usr/bin/env bash
# The real-stack tests: installs what validation/ needs (PostgreSQL, Redis,
# the app's pinned venv), runs the stack's smoke test, then the short form of
# the predicted-vs-measured experiment with its error bounds
# (validation/tests/short-bounds.json). Everything runs on loopback ports of
# its own (not the defaults, so a stack a developer left running is not
# touched) and in target/validation/, and is stopped afterwards, also on
# failure or interrupt.
#
#   scripts/validation.sh            # CAPSIM_BIN or target/debug/capsim
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
bin=${CAPSIM_BIN:-$repo/target/debug/capsim}
[[ -x "$bin" ]] || { echo "error: no capsim binary at $bin (cargo build, or set CAPSIM_BIN)" >&2; exit 2; }
export CAPSIM_BIN=$(realpath "$bin")
out=$repo/target/validation
export CAPSIM_STACK_PG_PORT=${CAPSIM_STACK_PG_PORT:-55442}
export CAPSIM_STACK_REDIS_PORT=${CAPSIM_STACK_REDIS_PORT:-56389}
export CAPSIM_STACK_API_PORT=${CAPSIM_STACK_API_PORT:-58010}

validation/install.sh
rm -rf "$out"
mkdir -p "$out"
CAPSIM_STACK_STATE=$out/smoke-state validation/tests/smoke.sh

export CAPSIM_STACK_STATE=$out/state
trap 'validation/stop.sh >/dev/null 2>&1 || true' EXIT INT TERM
validation/.venv/bin/python validation/experiment.py --short \
  --out "$out/short" --doc "$out/short/validation.md" \
  --check validation/tests/short-bounds.json

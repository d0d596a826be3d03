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
# Ports below the kernel's ephemeral range (net.ipv4.ip_local_port_range), so
# no outgoing connection (a notebook kernel's, pip's) can hold one while the
# experiment restarts the API; each is the first free port from its default.
ephemeral_low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
pick_port() {
  local p=$1
  while [ -n "$(ss -Hant "sport = :$p" 2>/dev/null)" ]; do p=$((p + 1)); done
  ((p < ephemeral_low)) || { echo "error: no free port from $1 below $ephemeral_low" >&2; exit 1; }
  echo "$p"
}
export CAPSIM_STACK_PG_PORT=${CAPSIM_STACK_PG_PORT:-$(pick_port 25442)}
export CAPSIM_STACK_REDIS_PORT=${CAPSIM_STACK_REDIS_PORT:-$(pick_port 26389)}
export CAPSIM_STACK_API_PORT=${CAPSIM_STACK_API_PORT:-$(pick_port 28010)}
echo "validation: ports postgres $CAPSIM_STACK_PG_PORT, redis $CAPSIM_STACK_REDIS_PORT, api $CAPSIM_STACK_API_PORT"

validation/install.sh
rm -rf "$out"
mkdir -p "$out"
CAPSIM_STACK_STATE=$out/smoke-state validation/tests/smoke.sh

export CAPSIM_STACK_STATE=$out/state
trap 'validation/stop.sh >/dev/null 2>&1 || true' EXIT INT TERM
validation/.venv/bin/python validation/experiment.py --short \
  --out "$out/short" --doc "$out/short/validation.md" \
  --check validation/tests/short-bounds.json

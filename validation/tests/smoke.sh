#!/usr/bin/env bash
# Smoke test of the validation stack (< 1 min): install if needed -> start -> 15 s of open-loop load
# at a low rate -> the span files follow the contract -> stop -> no process or port left.
# Uses its own state dir (not the default one), so it does not disturb a running stack.
set -euo pipefail
V=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export CAPSIM_STACK_STATE=${CAPSIM_STACK_STATE:-$(mktemp -d /tmp/capsim-smoke.XXXXXX)}
OUT="$CAPSIM_STACK_STATE/out"; mkdir -p "$OUT"
export CAPSIM_SPANS_DIR="$OUT/spans"
source "$V/env.sh"
fail() { echo "smoke: FAIL: $*" >&2; exit 1; }
cleanup() { "$V/stop.sh" >/dev/null 2>&1 || true; }
trap cleanup EXIT

[ -x "$V/.venv/bin/python" ] && [ -x "$PG_BIN/initdb" ] || "$V/install.sh"
"$V/start.sh"
"$V/start.sh" >/dev/null   # idempotent: a second start leaves the running stack alone
cd "$V"
pin "$CAPSIM_STACK_AUX_CPUS" "$PY" -m loadgen --rate "${SMOKE_RATE:-40}" --duration "${SMOKE_SECONDS:-15}" \
  --out "$OUT/load" --seed 7 --timeout 5
"$PY" - "$OUT/load/summary.json" <<'PYEOF' || fail "load summary"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["requests"] > 100, s["requests"]
assert s["error_count"] == 0, s["errors"]
for c, st in s["classes"].items():
    assert st["n"] > 0 and st["p50_ms"] < 1000, (c, st)
print(f"smoke: load ok ({s['requests']} requests, achieved {s['achieved_rate_per_s']:.1f}/s of {s['asked_rate_per_s']:.1f}/s)")
PYEOF
"$V/stop.sh" || fail "stop.sh"
"$PY" -m tools.spans check "$CAPSIM_SPANS_DIR" || fail "span files do not follow the contract"
for f in "$CAPSIM_SPANS_DIR"/*.jsonl; do [ -z "$(tail -c1 "$f")" ] || fail "$f: last line incomplete"; done
ls "$CAPSIM_SPANS_DIR"/api-*.jsonl "$CAPSIM_SPANS_DIR"/worker-*.jsonl >/dev/null || fail "missing api/worker span file"
for port in "$CAPSIM_STACK_API_PORT" "$CAPSIM_STACK_REDIS_PORT" "$CAPSIM_STACK_PG_PORT"; do
  [ -z "$(ss -Hltn "sport = :$port")" ] || fail "port $port still listening after stop.sh"
done
for f in "$RUN"/*.pid; do [ -e "$f" ] || continue; kill -0 "$(cat "$f")" 2>/dev/null && fail "process of $f still alive"; done
if pgrep -f "$CAPSIM_STACK_STATE" >/dev/null; then fail "processes still running from $CAPSIM_STACK_STATE"; fi
"$V/stop.sh" || fail "second stop.sh"   # idempotent
trap - EXIT
[ "${SMOKE_KEEP:-0}" = 1 ] || rm -rf "$CAPSIM_STACK_STATE"
echo "smoke: OK"

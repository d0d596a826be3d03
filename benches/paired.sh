#!/usr/bin/env bash
# Paired whole-process timing of two commands on a noisy host: one warm-up
# of each, then N rounds of A then B (alternating, so drift hits both), each
# run timed by /usr/bin/time (user + sys CPU seconds, wall seconds, peak RSS).
# Prints the median of each and the median and range of the per-round ratios
# A/B: the ratio is the figure to compare, not either time.
#
#   benches/paired.sh N 'COMMAND A' 'COMMAND B'
#
# The commands are split into words as a shell would (no pipes or
# redirections); their output is discarded.
set -euo pipefail
[[ $# -eq 3 && $1 =~ ^[0-9]+$ && $1 -ge 1 ]] || {
  echo "usage: $0 ROUNDS 'COMMAND A' 'COMMAND B'" >&2
  exit 2
}
n=$1 a=$2 b=$3
[[ -x /usr/bin/time ]] || { echo "error: needs /usr/bin/time (Debian: apt-get install time)" >&2; exit 2; }
log=$(mktemp)
trap 'rm -f "$log"' EXIT
one() { # label command
  # shellcheck disable=SC2086
  /usr/bin/time -f "$1 %U %S %e %M" -a -o "$log" $2 >/dev/null 2>&1 || true
}
one warmup "$a"
one warmup "$b"
for _ in $(seq "$n"); do
  one A "$a"
  one B "$b"
done
python3 - "$log" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.split() and l.split()[0] in ("A", "B")]
runs = {k: [(float(u) + float(s), float(e), int(m)) for t, u, s, e, m in rows if t == k] for k in "AB"}
for k in "AB":
    cpu, wall, rss = zip(*runs[k])
    print(f"{k}: cpu {statistics.median(cpu):.3f} s, wall {statistics.median(wall):.3f} s, "
          f"peak RSS {statistics.median(rss):.0f} KB (medians of {len(cpu)})")
for i, name in ((0, "cpu"), (1, "wall")):
    r = [x[i] / y[i] for x, y in zip(runs["A"], runs["B"]) if y[i] > 0]
    if r:
        print(f"A/B {name}: median {statistics.median(r):.3f} (pairs {min(r):.3f} - {max(r):.3f})")
PY

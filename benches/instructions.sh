#!/usr/bin/env bash
# Instruction counts of the benchmark commands under callgrind: the figures
# that do not drift with a shared host's load. Counts each command, divides
# by its unit (customers, simulated events, point-replications) and compares
# with the stored baseline (benches/instructions.baseline), so a change
# says by how much it moved each figure.
#
#   benches/instructions.sh            # build, count, compare with the baseline
#   benches/instructions.sh --update   # ... and store the counts as the new baseline
#   benches/instructions.sh --only kernel,hand
#
# Needs valgrind (Debian: apt-get install valgrind). Counts compare only
# between release builds of the same command; callgrind runs a command
# about 50 times slower, so the whole set takes a few minutes.
set -euo pipefail
cd "$(dirname "$0")/.."

update=0 only=""
while [[ $# -gt 0 ]]; do
  case $1 in
    --update) update=1 ;;
    --only) only=${2:?--only needs a list of names}; shift ;;
    *) echo "usage: $0 [--update] [--only NAME,NAME]" >&2; exit 2 ;;
  esac
  shift
done
[[ $update == 1 && -n $only ]] && { echo "error: --update stores every case: run it without --only" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "error: needs valgrind (Debian: apt-get install valgrind)" >&2; exit 2; }

baseline=benches/instructions.baseline
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cargo build --release --quiet -p capsim --bin capsim -p capsim-benches --bin mmc_memory
capsim=target/release/capsim mmc=target/release/mmc_memory

# name | unit | command. The unit count of each is computed below.
cases=(
  "hand|customer|$mmc 1000000 hand"
  "kernel|customer|$mmc 1000000 kernel"
  "mmc-cli|event|$capsim run mmc-reference --replications 2 --threads 1 --quiet --force --out $work/mmc-cli"
  "full-stack|event|$capsim run benches/scenarios/full-stack-hour.toml --threads 1 --quiet --force --set simulation.duration=3m --set simulation.warmup=30s"
  "sweep|point-replication|$capsim sweep benches/scenarios/full-stack-hour.toml --param tiers.web.instances=6,8,10 --replications 2 --set simulation.duration=2m --set simulation.warmup=30s --threads 1 --quiet --force --out $work/sweep"
)

# The number of units a case's run went through.
units() { # name
  case $1 in
    hand | kernel) echo 1050000 ;; # 50,000 warm-up and 1,000,000 measured departures
    mmc-cli)
      python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["engine"]["events"])' "$work/$1/summary.json" ;;
    full-stack) # benches/README's reference command writes no files: count its events apart
      # shellcheck disable=SC2086
      ${cmd/--quiet/--json} | python3 -c 'import json,sys; print(json.load(sys.stdin)["engine"]["events"])' ;;
    sweep) echo 6 ;; # 3 points x 2 replications
  esac
}

base() { # name -> "instructions" from the baseline, or nothing
  [[ -f $baseline ]] && awk -v n="$1" '$1 == n { print $2 }' "$baseline" || true
}

printf '%-11s %16s %12s %-18s %16s %9s\n' case instructions units per-unit baseline change
new=()
for c in "${cases[@]}"; do
  IFS='|' read -r name unit cmd <<<"$c"
  if [[ -n $only && ",$only," != *",$name,"* ]]; then continue; fi
  # shellcheck disable=SC2086
  valgrind --tool=callgrind --callgrind-out-file="$work/$name.cg" $cmd >/dev/null 2>"$work/$name.err" || {
    echo "error: $name failed:" >&2; cat "$work/$name.err" >&2; exit 1
  }
  count=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$work/$name.err")
  n=$(units "$name")
  was=$(base "$name")
  change=$([[ -n $was ]] && awk -v a="$count" -v b="$was" 'BEGIN { printf "%+.2f%%", 100 * (a - b) / b }' || echo "-")
  printf '%-11s %16s %12s %-18s %16s %9s\n' "$name" "$count" "$n" \
    "$(awk -v a="$count" -v b="$n" 'BEGIN { printf "%.0f", a / b }')/$unit" "${was:--}" "$change"
  new+=("$name $count $n $unit")
done

if [[ $update == 1 ]]; then
  {
    echo "# Instructions (callgrind) of benches/instructions.sh's commands, release build:"
    echo "# name instructions units unit. Rewritten by benches/instructions.sh --update."
    printf '%s\n' "${new[@]}"
  } >"$baseline.tmp"
  mv "$baseline.tmp" "$baseline"
  echo "wrote $baseline"
fi

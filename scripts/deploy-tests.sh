#!/usr/bin/env bash
# Tests of the scale-out files in deploy/:
#
# 1. Validators, from deploy/requirements-lint.txt in deploy/.venv (created,
#    and re-installed when that file changes): the GitHub Actions workflow by
#    jactionlint (actionlint's checks; shellcheck checks its run: scripts),
#    the Kubernetes manifests by kubernetes-validate (the Kubernetes OpenAPI
#    schemas, strict, bundled in the package: no network), the Dockerfile by
#    hadolint, the Slurm scripts by shellcheck. The Dockerfile is linted, not
#    built: no container engine runs here.
# 2. Slurm for real: slurmctld, slurmd and munge from Debian (installed with
#    apt-get when missing; root), a one-node cluster configured in
#    target/deploy-tests/slurm/ on loopback ports of its own, started here and
#    stopped afterwards, also on failure or interrupt. deploy/slurm/submit.sh
#    submits a small sweep as 3 shards and the merge; the merged directory
#    must equal an unsharded sweep of the same spec, byte for byte.
#
#   scripts/deploy-tests.sh            # CAPSIM_BIN or target/debug/capsim
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
bin=${CAPSIM_BIN:-$repo/target/debug/capsim}
[[ -x "$bin" ]] || { echo "error: no capsim binary at $bin (cargo build, or set CAPSIM_BIN)" >&2; exit 2; }
bin=$(realpath "$bin")
out=$repo/target/deploy-tests

# --- validators ---------------------------------------------------------------
venv=$repo/deploy/.venv
requirements=deploy/requirements-lint.txt
# shellcheck source=scripts/venv.sh
source scripts/venv.sh
ensure_venv "$venv" "$requirements"
PATH=$venv/bin:$PATH

echo "jactionlint $(jactionlint --version | head -1): deploy/github/capsim-sweep.yml (with shellcheck $(shellcheck --version | sed -n 's/^version: //p'))"
jactionlint --no-online --profile pedantic deploy/github/capsim-sweep.yml
echo "kubernetes-validate $(kubernetes-validate --version), strict, Kubernetes 1.29 and 1.37: deploy/kubernetes/*.yaml"
for k in 1.29 1.37; do kubernetes-validate --strict --quiet -k "$k" deploy/kubernetes/*.yaml; done
# The shard count is written twice in each Job (completions, SHARDS); they must agree.
"$venv/bin/python" - <<'PY'
import sys
import yaml

def shards_env(job):
    (container,) = job["spec"]["template"]["spec"]["containers"]
    return int(next(e["value"] for e in container["env"] if e["name"] == "SHARDS"))

shards = yaml.safe_load(open("deploy/kubernetes/shards-job.yaml"))
merge = yaml.safe_load(open("deploy/kubernetes/merge-job.yaml"))
n = shards["spec"]["completions"]
if not shards_env(shards) == shards_env(merge) == n:
    sys.exit(f"error: deploy/kubernetes: completions {n}, SHARDS {shards_env(shards)} (shards Job) "
             f"and {shards_env(merge)} (merge Job) must be equal")
print(f"deploy/kubernetes: {n} shards in completions and both Jobs' SHARDS")
PY
echo "$(hadolint --version): deploy/Dockerfile (linted; not built: no container engine here)"
hadolint deploy/Dockerfile
echo "shellcheck: deploy/slurm/*, scripts/deploy-tests.sh, scripts/venv.sh, benches/*.sh"
shellcheck -x deploy/slurm/* scripts/deploy-tests.sh scripts/venv.sh benches/*.sh

# --- Slurm ----------------------------------------------------------------------
export DEBIAN_FRONTEND=noninteractive
pkgs=(munge slurmctld slurmd slurm-client)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  [[ $(id -u) -eq 0 ]] || { echo "error: need root to apt-get install ${missing[*]}" >&2; exit 1; }
  # Keep the packages' maintainer scripts from starting system daemons
  # (exit 101 = action forbidden); this test runs its own.
  added_policy=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    added_policy=1
  fi
  echo "installing ${missing[*]}"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}" >/dev/null
  ((added_policy)) && rm -f /usr/sbin/policy-rc.d
fi

rm -rf "$out"
scratch=$out/slurm
mkdir -p "$scratch"/{state,spool,munge}
chmod 0755 "$scratch/munge"

# Ports below the kernel's ephemeral range, each the first free one from its
# default (not Slurm's own 6817/6818, so a cluster on this machine is not touched).
ephemeral_low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
pick_port() {
  local p=$1
  while [[ -n "$(ss -Hant "sport = :$p" 2>/dev/null)" ]]; do p=$((p + 1)); done
  ((p < ephemeral_low)) || { echo "error: no free port from $1 below $ephemeral_low" >&2; exit 1; }
  echo "$p"
}
ctld_port=$(pick_port 26817)
slurmd_port=$(pick_port $((ctld_port + 1)))

# One node, loopback only, no cgroups (a container may have none to give):
# linuxproc tracks a job's processes, task/none binds nothing; cons_tres
# schedules cores, not memory.
cat >"$scratch/slurm.conf" <<EOF
ClusterName=capsimtest
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$scratch/munge/munge.socket
StateSaveLocation=$scratch/state
SlurmdSpoolDir=$scratch/spool
SlurmctldPidFile=$scratch/slurmctld.pid
SlurmdPidFile=$scratch/slurmd.pid
SlurmctldLogFile=$scratch/slurmctld.log
SlurmdLogFile=$scratch/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
SlurmdParameters=config_overrides
MinJobAge=600
NodeName=localhost NodeAddr=127.0.0.1 CPUs=2 State=UNKNOWN
PartitionName=capsim Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$scratch/slurm.conf

pids=()
array_job='' merge_job=''
stop_cluster() {
  local rc=$?
  set +e
  for job in $array_job $merge_job; do scancel "$job" 2>/dev/null; done
  # The daemons in reverse order of start, each by the id it was started with.
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill "${pids[i]}" 2>/dev/null; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
  done
  exit "$rc"
}
trap stop_cluster EXIT
trap 'exit 130' INT TERM
show_logs() {
  for f in slurmctld.log slurmd.log munged.log; do
    echo "--- $scratch/$f (last 40 lines)"
    tail -n 40 "$scratch/$f" 2>/dev/null
  done
  for f in "$out"/results/logs/*; do
    [[ -f "$f" ]] && { echo "--- $f"; cat "$f"; }
  done
}
fail() {
  echo "FAILED: $*" >&2
  show_logs >&2
  exit 1
}

dd if=/dev/urandom of="$scratch/munge/munge.key" bs=1024 count=1 status=none
chmod 0400 "$scratch/munge/munge.key"
# --force: munged refuses to run as root otherwise.
munged --foreground --force --key-file="$scratch/munge/munge.key" \
  --socket="$scratch/munge/munge.socket" --pid-file="$scratch/munge/munged.pid" \
  --seed-file="$scratch/munge/munged.seed" --log-file="$scratch/munged.log" 2>>"$scratch/munged.log" &
pids+=($!)
for _ in $(seq 50); do [[ -S "$scratch/munge/munge.socket" ]] && break; sleep 0.1; done
[[ -S "$scratch/munge/munge.socket" ]] || fail "munged did not start"

slurmctld -D -f "$SLURM_CONF" >>"$scratch/slurmctld.log" 2>&1 &
pids+=($!)
slurmd -D -N localhost -f "$SLURM_CONF" >>"$scratch/slurmd.log" 2>&1 &
pids+=($!)
echo "slurm $(sinfo --version | cut -d' ' -f2): slurmctld on 127.0.0.1:$ctld_port, slurmd on :$slurmd_port, state in $scratch"
# Slurm's clients retry a controller that does not answer for minutes: each
# call here has a time limit, and a daemon that exited ends the wait.
alive() {
  local pid
  for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null || fail "a daemon exited (pid $pid)"; done
}
state=''
for _ in $(seq 120); do
  alive
  state=$(timeout 10 sinfo -h -n localhost -o '%t' 2>/dev/null || true)
  [[ "$state" == idle ]] && break
  sleep 0.5
done
[[ "$state" == idle ]] || fail "the node is not idle after 60 s (sinfo: '${state:-no answer}')"

# The sweep: deploy/sweep.toml cut to 90 minutes and 2 replications, 7
# points, as 3 shards of one core each.
sweep_args=(--replications 2 --set simulation.duration=90m)
results=$out/results
submitted=$(CAPSIM="$bin" CAPSIM_SBATCH_OPTS="--cpus-per-task=1 --time=00:10:00" \
  timeout 60 deploy/slurm/submit.sh deploy/sweep.toml 3 "$results" "${sweep_args[@]}")
echo "$submitted"
array_job=$(sed -n 's/^array_job=//p' <<<"$submitted")
merge_job=$(sed -n 's/^merge_job=//p' <<<"$submitted")
[[ -n "$array_job" && -n "$merge_job" ]] || fail "submit.sh printed no job ids"

job_state() { timeout 10 scontrol -o show job "$1" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p' | sort -u | tr '\n' ' '; }
merge_state=''
for _ in $(seq 600); do
  alive
  merge_state=$(job_state "$merge_job")
  case $merge_state in
    "COMPLETED " | *FAILED* | *CANCELLED* | *TIMEOUT* | *NODE_FAIL* | *OUT_OF_MEMORY* | *BOOT_FAIL* | *DEADLINE* | *PREEMPTED*) break ;;
  esac
  sleep 0.5
done
array_state=$(job_state "$array_job")
echo "array job $array_job: $array_state; merge job $merge_job: $merge_state"
timeout 10 scontrol -o show job "$array_job" >"$out/array-job.txt" || true
sed -n 's/.*ArrayTaskId=\([0-9]*\).*JobState=\([A-Z_]*\).*ExitCode=\([0-9:]*\).*/  shard \1: \2, exit \3/p' "$out/array-job.txt" | sort -n -k2
[[ "$array_state" == "COMPLETED " ]] || fail "the shards did not all complete ($array_state)"
[[ "$merge_state" == "COMPLETED " ]] || fail "the merge job did not complete (${merge_state:-still pending or running after 300 s})"
for k in 1 2 3; do
  echo "  shard-$k: $(find "$results/shard-$k/points" -name '*.json' | wc -l) point files"
done
echo "--- merge job's log ($results/logs/merge.out)"
cat "$results/logs/merge.out"

# The same sweep unsharded, on this machine, outside Slurm.
"$bin" sweep deploy/sweep.toml "${sweep_args[@]}" --out "$out/whole" --quiet
if diff -r "$out/whole" "$results/merged"; then
  echo "merged == unsharded: $(find "$out/whole" -type f | wc -l) files identical byte for byte (diff -r)"
else
  fail "the merged sweep differs from the unsharded one"
fi

#!/usr/bin/env bash
# Submits a capsim sweep to Slurm as an array of N shards and a merge that
# starts when every shard has succeeded; prints the two job ids.
#
#   deploy/slurm/submit.sh SPEC N RESULTS [capsim sweep options...]
#   deploy/slurm/submit.sh deploy/sweep.toml 8 /scratch/$USER/sweep --replications 5
#
# RESULTS must be on a file system every node sees; it gets shard-1 ... shard-N,
# merged/ and logs/. The capsim binary is $CAPSIM, else capsim on PATH; its
# absolute path is passed to the jobs, so it too must be where every node sees
# it. CAPSIM_SBATCH_OPTS adds sbatch options to both jobs (split on spaces),
# e.g. "--partition=short --account=perf --cpus-per-task=8".
#
# Output: a line for each job, then `array_job=ID` and `merge_job=ID` for
# scripts.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

usage() {
  echo "usage: $0 SPEC N RESULTS [capsim sweep options...]" >&2
  exit 2
}
(($# >= 3)) || usage
spec=$1 shards=$2 results=$3
shift 3
[[ "$shards" =~ ^[1-9][0-9]*$ ]] || { echo "error: N must be a whole number of shards, 1 or more, not '$shards'" >&2; exit 2; }
# A bundled scenario's name is passed as it is; a file by its absolute path,
# since the jobs may start in another directory.
if [[ -e "$spec" ]]; then spec=$(realpath "$spec"); fi
capsim=${CAPSIM:-capsim}
capsim_path=$(command -v "$capsim") || { echo "error: no capsim binary '$capsim' (put it on PATH or set CAPSIM)" >&2; exit 2; }
capsim_path=$(realpath "$capsim_path")
command -v sbatch >/dev/null || { echo "error: sbatch not found: run this on a Slurm login node" >&2; exit 2; }
# Slurm opens a job's output file before the job runs: the directory must exist.
mkdir -p "$results/logs"
results=$(realpath "$results")
read -r -a opts <<<"${CAPSIM_SBATCH_OPTS:-}"

# --parsable prints "ID" or "ID;CLUSTER".
array_job=$(sbatch --parsable --array="1-$shards" \
  --output="$results/logs/shard-%a.out" \
  --export="ALL,CAPSIM=$capsim_path,CAPSIM_SHARDS=$shards" \
  "${opts[@]}" "$here/capsim-sweep.sbatch" "$spec" "$results" "$@")
array_job=${array_job%%;*}
# --kill-on-invalid-dep: if a shard fails, the merge is cancelled rather than
# left pending for ever. Resubmit the failed shard, then the merge by hand
# (see docs/distributed-sweeps.md).
merge_job=$(sbatch --parsable --dependency="afterok:$array_job" --kill-on-invalid-dep=yes \
  --output="$results/logs/merge.out" \
  --export="ALL,CAPSIM=$capsim_path" \
  "${opts[@]}" "$here/capsim-merge.sbatch" "$spec" "$results" "$shards" "$@")
merge_job=${merge_job%%;*}

echo "submitted shards 1-$shards as array job $array_job: $results/shard-K, logs in $results/logs/"
echo "submitted merge as job $merge_job (after every shard succeeds): $results/merged"
echo "array_job=$array_job"
echo "merge_job=$merge_job"

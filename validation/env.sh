# Configuration of the validation stack, sourced by start.sh / stop.sh / tests. Every value can be
# overridden from the environment.
VALIDATION_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export CAPSIM_STACK_STATE=${CAPSIM_STACK_STATE:-$VALIDATION_DIR/.state}
export CAPSIM_STACK_PG_PORT=${CAPSIM_STACK_PG_PORT:-25432}
export CAPSIM_STACK_REDIS_PORT=${CAPSIM_STACK_REDIS_PORT:-26379}
export CAPSIM_STACK_API_PORT=${CAPSIM_STACK_API_PORT:-28000}
export CAPSIM_STACK_CPU_MS=${CAPSIM_STACK_CPU_MS:-4}            # CPU work per API request (ms)
export CAPSIM_STACK_JOB_CPU_MS=${CAPSIM_STACK_JOB_CPU_MS:-2}    # CPU work per worker job (ms)
export CAPSIM_STACK_POOL_SIZE=${CAPSIM_STACK_POOL_SIZE:-8}      # asyncpg pool size per API process
export CAPSIM_STACK_WORKER_JOBS=${CAPSIM_STACK_WORKER_JOBS:-4}  # arq max_jobs
export CAPSIM_STACK_POLL_MS=${CAPSIM_STACK_POLL_MS:-5}          # arq poll_delay (ms)
export CAPSIM_STACK_UVICORN_WORKERS=${CAPSIM_STACK_UVICORN_WORKERS:-1}
export CAPSIM_STACK_ITEMS=${CAPSIM_STACK_ITEMS:-100000}         # rows in the seeded items table
export CAPSIM_STACK_HOT=${CAPSIM_STACK_HOT:-1000}               # ids 1..HOT are pre-warmed in Redis (no TTL)
export CAPSIM_STACK_CACHE_TTL=${CAPSIM_STACK_CACHE_TTL:-30}     # TTL (s) of entries set on a miss
export CAPSIM_STACK_API_CPUS=${CAPSIM_STACK_API_CPUS:-1}        # taskset list for uvicorn
export CAPSIM_STACK_AUX_CPUS=${CAPSIM_STACK_AUX_CPUS:-0}        # taskset list for postgres, redis, worker, load generator
export CAPSIM_STACK_SPINNER=${CAPSIM_STACK_SPINNER:-0}          # 1: SCHED_IDLE spinner on the API CPUs
export CAPSIM_SPANS_DIR=${CAPSIM_SPANS_DIR:-$CAPSIM_STACK_STATE/spans}
export CAPSIM_STACK_DSN="postgresql://capsim@127.0.0.1:$CAPSIM_STACK_PG_PORT/capsim"
export CAPSIM_STACK_REDIS_URL="redis://127.0.0.1:$CAPSIM_STACK_REDIS_PORT/0"
PY="$VALIDATION_DIR/.venv/bin/python"
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
RUN="$CAPSIM_STACK_STATE/run"
pin() { # pin CPULIST cmd...: run under taskset when the CPUs exist
  local cpus=$1; shift
  if command -v taskset >/dev/null && taskset -c "$cpus" true 2>/dev/null; then taskset -c "$cpus" "$@"; else "$@"; fi
}

#!/usr/bin/env bash
# Start the validation stack (idempotent): a private PostgreSQL cluster (127.0.0.1:25432), Redis
# (127.0.0.1:26379, no persistence), the seeded `items` table, the arq worker and the uvicorn API
# (127.0.0.1:28000), then wait until /health answers. Components already running are left alone.
# CPU placement (2 cores): API on CAPSIM_STACK_API_CPUS (1); Postgres, Redis, worker on
# CAPSIM_STACK_AUX_CPUS (0), where the load generator also runs. Config: see env.sh.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$VALIDATION_DIR"
[ -x "$PY" ] || { echo "start.sh: no venv at $VALIDATION_DIR/.venv: run validation/install.sh" >&2; exit 1; }
[ -x "$PG_BIN/initdb" ] || { echo "start.sh: PostgreSQL not installed: run validation/install.sh" >&2; exit 1; }
mkdir -p "$CAPSIM_STACK_STATE" "$RUN" "$CAPSIM_STACK_STATE/log" "$CAPSIM_STACK_STATE/redis" "$CAPSIM_SPANS_DIR"
chmod 755 "$CAPSIM_STACK_STATE" "$RUN"
[ "$(id -u)" -eq 0 ] && chown postgres "$RUN"  # holds the Postgres unix socket
LOG="$CAPSIM_STACK_STATE/log"
alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# ---- PostgreSQL ----
PGDATA="$CAPSIM_STACK_STATE/pg"
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
if [ ! -f "$PGDATA/PG_VERSION" ]; then
  rm -rf "$PGDATA"; mkdir -p "$PGDATA"
  [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$PGDATA"
  chmod 700 "$PGDATA"
  as_pg "$PG_BIN/initdb" -D "$PGDATA" -U capsim --auth=trust -E UTF8 --locale=C.UTF-8 >"$LOG/initdb.log" 2>&1 \
    || as_pg "$PG_BIN/initdb" -D "$PGDATA" -U capsim --auth=trust -E UTF8 >"$LOG/initdb.log" 2>&1
  cat >>"$PGDATA/postgresql.conf" <<CONF
# capsim validation stack
listen_addresses = '127.0.0.1'
port = $CAPSIM_STACK_PG_PORT
unix_socket_directories = '$RUN'
max_connections = 100
shared_buffers = 128MB
synchronous_commit = off   # the host disk is shared and noisy; commits stay durable at checkpoints
logging_collector = off
CONF
fi
if ! as_pg "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$CAPSIM_STACK_PG_PORT"; then
  touch "$LOG/postgres.log"; [ "$(id -u)" -eq 0 ] && chown postgres "$LOG/postgres.log"
  as_pg taskset -c "$CAPSIM_STACK_AUX_CPUS" "$PG_BIN/pg_ctl" -D "$PGDATA" -l "$LOG/postgres.log" -w -t 60 start >/dev/null
  head -1 "$PGDATA/postmaster.pid" > "$RUN/postgres.pid"
fi
as_pg "$PG_BIN/psql" -h 127.0.0.1 -p "$CAPSIM_STACK_PG_PORT" -U capsim -d postgres -tAc \
  "SELECT 1 FROM pg_database WHERE datname='capsim'" | grep -q 1 \
  || as_pg "$PG_BIN/createdb" -h 127.0.0.1 -p "$CAPSIM_STACK_PG_PORT" -U capsim capsim

# ---- Redis ----
if ! redis-cli -h 127.0.0.1 -p "$CAPSIM_STACK_REDIS_PORT" ping >/dev/null 2>&1; then
  pin "$CAPSIM_STACK_AUX_CPUS" redis-server --bind 127.0.0.1 --port "$CAPSIM_STACK_REDIS_PORT" \
    --save "" --appendonly no --daemonize yes --pidfile "$RUN/redis.pid" \
    --logfile "$LOG/redis.log" --dir "$CAPSIM_STACK_STATE/redis" --protected-mode yes
  for _ in $(seq 100); do redis-cli -h 127.0.0.1 -p "$CAPSIM_STACK_REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
fi

# ---- seed (table once; hot cache every start, Redis keeps nothing) ----
pin "$CAPSIM_STACK_AUX_CPUS" "$PY" -m app.seed >>"$LOG/seed.log" 2>&1 || { cat "$LOG/seed.log" >&2; exit 1; }

# ---- CPU work calibration: measured once per state dir, on the API's CPU ----
if [ -z "${CAPSIM_STACK_CPU_ITERS_PER_MS:-}" ]; then
  [ -s "$CAPSIM_STACK_STATE/iters_per_ms" ] || pin "$CAPSIM_STACK_API_CPUS" "$PY" -m app.cpuwork > "$CAPSIM_STACK_STATE/iters_per_ms"
  export CAPSIM_STACK_CPU_ITERS_PER_MS=$(cat "$CAPSIM_STACK_STATE/iters_per_ms")
fi

# ---- optional SCHED_IDLE spinner keeping the API's core awake ----
if [ "$CAPSIM_STACK_SPINNER" = 1 ] && ! alive "$RUN/spinner.pid"; then
  nohup chrt --idle 0 taskset -c "$CAPSIM_STACK_API_CPUS" sh -c 'while :; do :; done' >/dev/null 2>&1 &
  echo $! > "$RUN/spinner.pid"
fi

# ---- arq worker ----
if ! alive "$RUN/worker.pid"; then
  nohup taskset -c "$CAPSIM_STACK_AUX_CPUS" "$PY" -m app.worker \
    >"$LOG/worker.log" 2>&1 &
  echo $! > "$RUN/worker.pid"
fi

# ---- API ----
if ! alive "$RUN/api.pid"; then
  nohup taskset -c "$CAPSIM_STACK_API_CPUS" "$VALIDATION_DIR/.venv/bin/uvicorn" app.main:app \
    --host 127.0.0.1 --port "$CAPSIM_STACK_API_PORT" --workers "$CAPSIM_STACK_UVICORN_WORKERS" \
    --loop uvloop --http httptools --no-access-log --log-level warning --timeout-graceful-shutdown 5 \
    >"$LOG/api.log" 2>&1 &
  echo $! > "$RUN/api.pid"
fi

for i in $(seq 300); do
  if curl -fsS -m 2 "http://127.0.0.1:$CAPSIM_STACK_API_PORT/health" >/dev/null 2>&1; then
    alive "$RUN/worker.pid" || { echo "start.sh: worker died:" >&2; tail -20 "$LOG/worker.log" >&2; exit 1; }
    echo "start.sh: stack up (api :$CAPSIM_STACK_API_PORT pid $(cat "$RUN/api.pid"), workers=$CAPSIM_STACK_UVICORN_WORKERS, cpu_ms=$CAPSIM_STACK_CPU_MS, iters/ms=$CAPSIM_STACK_CPU_ITERS_PER_MS, pool=$CAPSIM_STACK_POOL_SIZE, spans=$CAPSIM_SPANS_DIR)"
    exit 0
  fi
  if ! alive "$RUN/api.pid"; then
    echo "start.sh: API died:" >&2; tail -30 "$LOG/api.log" >&2
    echo "start.sh: sockets on :$CAPSIM_STACK_API_PORT:" >&2; ss -Hanp "sport = :$CAPSIM_STACK_API_PORT" >&2 || true
    exit 1
  fi
  sleep 0.2
done
echo "start.sh: API not healthy after 60 s" >&2; tail -30 "$LOG/api.log" >&2; exit 1

#!/usr/bin/env bash
# Stop everything start.sh started (idempotent, also after a crash): by pid files, then whatever
# still listens on the stack's ports; waits until the ports are free.
#   stop.sh            everything
#   stop.sh --app      only the API, the worker and the spinner (Postgres and Redis keep running)
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
APP_ONLY=0; [ "${1:-}" = "--app" ] && APP_ONLY=1

term_wait() { # pid [seconds]
  local pid=$1 t=${2:-10}
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null
  for _ in $(seq $((t * 10))); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  pkill -KILL -P "$pid" 2>/dev/null; kill -KILL "$pid" 2>/dev/null; sleep 0.2
}
stop_pidfile() { local f="$RUN/$1.pid"; [ -f "$f" ] && { term_wait "$(cat "$f")" "${2:-10}"; rm -f "$f"; }; }
port_pids() { ss -Hltnp "sport = :$1" 2>/dev/null | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u; }
free_port() {
  local port=$1
  for pid in $(port_pids "$port"); do term_wait "$pid" 5; done
  for _ in $(seq 100); do [ -z "$(port_pids "$port")" ] && return 0; sleep 0.1; done
  echo "stop.sh: port $port still in use" >&2; return 1
}

stop_pidfile api 15
stop_pidfile worker 15
stop_pidfile spinner 2
stop_pidfile sampler 2
rc=0
free_port "$CAPSIM_STACK_API_PORT" || rc=1
[ "$APP_ONLY" = 1 ] && exit $rc

redis-cli -h 127.0.0.1 -p "$CAPSIM_STACK_REDIS_PORT" shutdown nosave >/dev/null 2>&1
stop_pidfile redis 5
PGDATA="$CAPSIM_STACK_STATE/pg"
if [ -f "$PGDATA/postmaster.pid" ]; then
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PGDATA" -m fast -w -t 20 stop >/dev/null 2>&1
  else "$PG_BIN/pg_ctl" -D "$PGDATA" -m fast -w -t 20 stop >/dev/null 2>&1; fi
fi
stop_pidfile postgres 10
for p in "$CAPSIM_STACK_REDIS_PORT" "$CAPSIM_STACK_PG_PORT"; do free_port "$p" || rc=1; done
exit $rc

#!/usr/bin/env bash
# `make bench`: run the hub as in production (DEBUG off, PostgreSQL, Redis cache and broker,
# gunicorn) on 127.0.0.1 and drive it with wrk: (a) a registration storm, then the same MACs
# twice at once, (b) a reboot storm (topics, config, config with If-None-Match), (c) the
# trivial endpoint as the ceiling. Prints and saves the figures; exits 1 if a target is missed.
#
#   ./bench/run.sh            the benchmark (bench/README.md says what is measured and why)
#   ./bench/run.sh servers    the ceiling under each candidate HTTP server, to choose one
#   ./bench/run.sh cost       CPU time per request in-process (bench/cost.py): for comparing
#                             changes to the hot path on a busy machine
#
# Every knob below can be set from the environment.
set -euo pipefail
cd "$(dirname "$0")/.."

MODE=${1:-bench}
PY=${PY:-.venv/bin/python}
PORT=${BENCH_PORT:-8100}
DB_NAME=${BENCH_DB:-sb_bench}
PG_ADMIN_URL=${BENCH_PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
# The bench owns this Redis database: it is emptied before and after the run.
REDIS_DB_URL=${BENCH_REDIS_URL:-redis://127.0.0.1:6379/3}
DEVICES=${BENCH_DEVICES:-5000}
RACE_DEVICES=${BENCH_RACE_DEVICES:-1000}
CONNECTIONS=${BENCH_CONNECTIONS:-16}
# One wrk thread drives 16 connections easily and leaves more CPU to the server.
THREADS=${BENCH_THREADS:-1}
DURATION=${BENCH_DURATION:-8}
ROUNDS=${BENCH_ROUNDS:-2}
# A quota run (registrations, the cold pass) ends when done; this only bounds a stuck one.
QUOTA_DEADLINE=${BENCH_QUOTA_DEADLINE:-300}

RUN_DIR=bench/results/$(date +%Y%m%d-%H%M%S)-$MODE
mkdir -p "$RUN_DIR"
ln -sfn "$(basename "$RUN_DIR")" bench/results/latest

# The hub's production settings (config/settings.py, config/gunicorn.conf.py).
source bench/lib.sh
LUA_DIR=bench/lua
production_env sb-bench
# Each device's last_seen is written once per resolution: here in the cold pass of (b). With the
# default minute, the marks would expire in the middle of a later run, and some random share of
# those writes would land in whichever run that is.
export DEVICES_LAST_SEEN_RESOLUTION_SECONDS=3600
BASE_URL=http://127.0.0.1:$PORT

ensure_wrk

server_pid=""
stop_server() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid"
    for _ in $(seq 1 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  server_pid=""
}

# start_server LABEL COMMAND...: start an HTTP server in the background, wait until it answers.
start_server() {
  local label=$1
  shift
  log "server: $label"
  if curl -s -o /dev/null "$BASE_URL/"; then
    echo "something already answers on $BASE_URL: set BENCH_PORT" >&2
    exit 1
  fi
  "$@" >"$RUN_DIR/server-$label.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 150); do
    curl -fs "$BASE_URL/health/live/" >/dev/null 2>&1 && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$RUN_DIR/server-$label.log" >&2; exit 1; }
    sleep 0.2
  done
  # Warm-up: first requests import lazily and open connection pools.
  wrk -t 1 -c 4 -d 2s "$BASE_URL/health/live/" >/dev/null
}

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  stop_server
  if [ -z "${BENCH_KEEP:-}" ]; then
    redis-cli -u "$REDIS_DB_URL" flushdb >/dev/null || true
    psql -q "$PG_ADMIN_URL" -c "DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE)" || true
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A failed check leaves nothing sound to measure: print what there is, and stop.
stop_with_report() {
  "$PY" bench/report.py "$RUN_DIR" || true
  exit 1
}

GUNICORN=(.venv/bin/gunicorn config.wsgi:application -c config/gunicorn.conf.py)

log "fresh database $DB_NAME, empty Redis $REDIS_DB_URL"
psql -q "$PG_ADMIN_URL" -c "DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE)" -c "CREATE DATABASE $DB_NAME"
redis-cli -u "$REDIS_DB_URL" flushdb >/dev/null
"$PY" manage.py migrate --noinput >"$RUN_DIR/migrate.log" 2>&1 || { cat "$RUN_DIR/migrate.log" >&2; exit 1; }

case $MODE in
cost)
  shift
  "$PY" bench/cost.py "$@" | tee "$RUN_DIR/cost.txt"
  exit
  ;;
servers)
  # uvicorn is not a dependency of the hub: installed beside the results, only to compare.
  if ! PYTHONPATH=bench/results/.uvicorn "$PY" -c 'import uvicorn' 2>/dev/null; then
    .venv/bin/pip install -q --target bench/results/.uvicorn "uvicorn==${BENCH_UVICORN_VERSION:-0.54.0}"
  fi
  for workers in 2 3 5; do
    GUNICORN_WORKERS=$workers start_server "gunicorn-sync-$workers" "${GUNICORN[@]}"
    scenario "gunicorn-sync-$workers" ping.lua 200 "$DURATION"
    stop_server
  done
  GUNICORN_WORKERS=2 GUNICORN_WORKER_CLASS=gthread GUNICORN_THREADS=4 \
    start_server gunicorn-gthread-2x4 "${GUNICORN[@]}"
  scenario gunicorn-gthread-2x4 ping.lua 200 "$DURATION"
  stop_server
  start_server daphne .venv/bin/daphne -b 127.0.0.1 -p "$PORT" config.asgi:application
  scenario daphne ping.lua 200 "$DURATION"
  stop_server
  PYTHONPATH=bench/results/.uvicorn start_server uvicorn-2 "$PY" -m uvicorn config.asgi:application \
    --host 127.0.0.1 --port "$PORT" --workers 2 --no-access-log --log-level warning
  scenario uvicorn-2 ping.lua 200 "$DURATION"
  stop_server
  log "summary ($RUN_DIR/summary.txt)"
  "$PY" bench/report.py --table-only "$RUN_DIR"
  exit
  ;;
bench) ;;
*)
  echo "usage: $0 [bench|servers|cost]" >&2
  exit 2
  ;;
esac

SECRET=$("$PY" bench/fleet.py owner bench)
start_server gunicorn "${GUNICORN[@]}"
curl -fsS "$BASE_URL/health/" >"$RUN_DIR/health.json" || { echo "GET /health/ is not 200" >&2; exit 1; }

scenario register register.lua 201 "$QUOTA_DEADLINE" \
  BENCH_TOTAL="$DEVICES" BENCH_MAC_SERIES=1 BENCH_OWNER=bench BENCH_SECRET="$SECRET" \
  BENCH_KEYS="$RUN_DIR/keys"
"$PY" bench/fleet.py registered --expected "$DEVICES" --keys "$RUN_DIR"/keys.* \
  --devices "$RUN_DIR/devices.txt" --check "$RUN_DIR/check-1-registered.json" || stop_with_report

scenario register-race register.lua 200,201 "$QUOTA_DEADLINE" \
  BENCH_TOTAL="$RACE_DEVICES" BENCH_COPIES=2 BENCH_MAC_SERIES=2 BENCH_OWNER=bench BENCH_SECRET="$SECRET"
"$PY" bench/fleet.py race --expected-total $((DEVICES + RACE_DEVICES)) --expected "$RACE_DEVICES" \
  --series-prefix 02:02: --check "$RUN_DIR/check-2-race.json" || stop_with_report

# (b) The first fetch of each device after registering builds its cache record and marks it
# seen (one UPDATE); the later ones are what every further reboot of the fleet costs.
DEVICES_FILE=$RUN_DIR/devices.txt
scenario topics-first fetch.lua 200 "$QUOTA_DEADLINE" BENCH_FETCH=topics BENCH_ONE_PASS=1 BENCH_DEVICES="$DEVICES_FILE"
# (b) and (c) in interleaved rounds: a burst of load from elsewhere on the machine then hits
# every scenario alike, and the report sums the rounds of each.
for _ in $(seq 1 "$ROUNDS"); do
  scenario ceiling ping.lua 200 "$DURATION"
  scenario topics fetch.lua 200 "$DURATION" BENCH_FETCH=topics BENCH_DEVICES="$DEVICES_FILE"
  scenario config fetch.lua 200 "$DURATION" BENCH_FETCH=config BENCH_DEVICES="$DEVICES_FILE"
  scenario config-304 fetch.lua 304 "$DURATION" BENCH_FETCH=config-etag BENCH_DEVICES="$DEVICES_FILE"
done

"$PY" bench/fleet.py events --check "$RUN_DIR/check-3-events.json" || true  # reported below

log "summary ($RUN_DIR/summary.txt)"
"$PY" bench/report.py "$RUN_DIR"

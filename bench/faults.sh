#!/usr/bin/env bash
# `make faults`: run the hub as in production (DEBUG off, gunicorn with config/gunicorn.conf.py,
# a Celery worker with late acknowledgement and Celery beat) on 127.0.0.1, against a PostgreSQL
# cluster and a Redis of its own that it may stop, and break something under load:
#   worker    a worker killed with SIGKILL in the middle of FAULTS_REGISTRATIONS registrations,
#             then a fresh one started, as a supervisor would;
#   redis     Redis stopped for FAULTS_OUTAGE_SECONDS while devices register, then started empty;
#   postgres  PostgreSQL stopped for as long under the same load, then started again;
#   webhooks  a worker killed in the middle of FAULTS_WEBHOOKS signed webhook deliveries.
# A connection sends a message to a fake Telegram for every registration and every delivery; each
# message names its event. Per experiment one line: sent / acknowledged / errors / stored /
# processed / duplicated / lost / committed but answered an error / recovery time
# (bench/README.md, "Faults"). Raw figures in bench/results/<time>-faults/; exits 1 when anything
# was lost or duplicated, or answered an error although its work was committed.
#
#   ./bench/faults.sh                          all four experiments (~15 minutes)
#   FAULTS_EXPERIMENTS="redis" ./bench/faults.sh
#
# Isolation: its own redis-server and PostgreSQL cluster (initdb into a temporary directory),
# ports 8300 (hub), 8301 (fake Telegram), 6391 (Redis), 5491 (PostgreSQL), all on 127.0.0.1; the
# machine's shared PostgreSQL and Redis are never touched. Everything it starts is stopped on
# exit, Ctrl-C included. Every knob below can be set from the environment.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PY:-.venv/bin/python}
PORT=${FAULTS_PORT:-8300}
FAKE_PORT=${FAULTS_FAKE_PORT:-8301}
REDIS_PORT=${FAULTS_REDIS_PORT:-6391}
PG_PORT=${FAULTS_PG_PORT:-5491}
EXPERIMENTS=${FAULTS_EXPERIMENTS:-worker redis postgres webhooks}
REGISTRATIONS=${FAULTS_REGISTRATIONS:-1000}
REGISTER_RATE=${FAULTS_REGISTER_RATE:-40}
OUTAGE_RATE=${FAULTS_OUTAGE_RATE:-20}
OUTAGE_SECONDS=${FAULTS_OUTAGE_SECONDS:-15}
# Load before the outage starts and after it ends.
OUTAGE_BEFORE=${FAULTS_OUTAGE_BEFORE:-10}
OUTAGE_AFTER=${FAULTS_OUTAGE_AFTER:-10}
WEBHOOKS=${FAULTS_WEBHOOKS:-2000}
WEBHOOK_RATE=${FAULTS_WEBHOOK_RATE:-50}
# How long the supervisor takes to start a fresh worker after the kill.
RESTART_DELAY=${FAULTS_RESTART_DELAY:-2}
WORKER_CONCURRENCY=${FAULTS_WORKER_CONCURRENCY:-2}
# How long after the fault's end every owed message must have arrived; past it, a backlog
# still draining (a message in the last FAULTS_QUIET s) is waited for, up to FAULTS_MAX_WAIT s.
# Then how long the harness keeps listening after the last owed message, for duplicates.
DEADLINE=${FAULTS_DEADLINE:-180}
QUIET=${FAULTS_QUIET:-30}
MAX_WAIT=${FAULTS_MAX_WAIT:-600}
SETTLE=${FAULTS_SETTLE:-10}
# pg_ctl's shutdown mode for the PostgreSQL outage: fast (connections cut, a clean stop) or
# immediate (as a crash: recovery from the WAL at start).
PG_STOP_MODE=${FAULTS_PG_STOP_MODE:-fast}

RUN_DIR=bench/results/$(date +%Y%m%d-%H%M%S)-faults
mkdir -p "$RUN_DIR"
ln -sfn "$(basename "$RUN_DIR")" bench/results/faults-latest
RUN_DIR=$PWD/$RUN_DIR

source bench/lib.sh
DB_NAME=faults
PG_ADMIN_URL=postgres://postgres@127.0.0.1:$PG_PORT/postgres
REDIS_DB_URL=redis://127.0.0.1:$REDIS_PORT/0
production_env sb-faults
FAKE_URL=http://127.0.0.1:$FAKE_PORT
export INTEGRATIONS_TELEGRAM_API_URL=$FAKE_URL
# The shape of a real bot token (the outbound layer masks tokens of this shape in its logs).
export TELEGRAM_BOT_TOKEN=7000000001:AAFakeTokenForFaultBench_0123456789abc
BASE_URL=http://127.0.0.1:$PORT
export PYTHONUNBUFFERED=1

for port in "$PORT" "$FAKE_PORT" "$REDIS_PORT" "$PG_PORT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "something already listens on 127.0.0.1:$port: set FAULTS_*_PORT" >&2
    exit 1
  fi
done
command -v redis-server >/dev/null || { echo "redis-server is missing: run ./scripts/services.sh" >&2; exit 1; }
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$PG_BIN/initdb" ] || { echo "PostgreSQL's binaries are missing: run ./scripts/services.sh" >&2; exit 1; }

WORK_DIR=$(mktemp -d /tmp/sb-faults.XXXXXX)
chmod 755 "$WORK_DIR"
mkdir -p "$WORK_DIR/pg" "$WORK_DIR/redis"
# PostgreSQL refuses to run as root: as root, the cluster belongs to the postgres user.
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" = 0 ] && chown postgres "$WORK_DIR/pg"
PG_DATA=$WORK_DIR/pg/data

redis_pid="" fake_pid="" server_pid="" worker_pid="" beat_pid="" load_pid="" fg_pid="" pg_started=""

# run_fg COMMAND...: run it and wait for it, interruptibly: bash runs a trap (Ctrl-C, TERM) only
# once a foreground command ends, but at once during `wait`; the cleanup then stops the command.
run_fg() {
  "$@" &
  fg_pid=$!
  wait "$fg_pid"
  fg_pid=""
}

# stop PID [SIGNAL]: signal it (TERM by default), give it 15 s, then KILL; reap it.
stop() {
  local pid=$1 signal=${2:-TERM}
  [ -n "$pid" ] || return 0
  if kill -0 "$pid" 2>/dev/null; then
    kill -"$signal" "$pid" 2>/dev/null || true
    for _ in $(seq 1 75); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

# kill_worker: SIGKILL the worker and its pool processes at once, as `docker kill` or systemd's
# final SIGKILL of a control group does: nothing of it gets to say goodbye to the broker.
kill_worker() {
  local children
  children=$(pgrep -P "$worker_pid" || true)
  # shellcheck disable=SC2086
  kill -KILL "$worker_pid" $children 2>/dev/null || true
  wait "$worker_pid" 2>/dev/null || true
  worker_pid=""
}

stop_hub() {
  stop "$load_pid"; load_pid=""
  stop "$beat_pid"; beat_pid=""
  stop "$worker_pid"; worker_pid=""
  stop "$server_pid"; server_pid=""
  stop "$fake_pid"; fake_pid=""
}

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  stop "$fg_pid"
  stop_hub
  stop "$redis_pid"
  if [ -n "$pg_started" ]; then
    as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  cp "$WORK_DIR/pg/postgres.log" "$RUN_DIR/postgres.log" 2>/dev/null || true
  rm -rf "$WORK_DIR"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { date +%s.%N; }

start_redis() {
  # No persistence, as the development machine's Redis: a stop loses all it held.
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no --dir "$WORK_DIR/redis" \
    --logfile "$RUN_DIR/redis.log" &
  redis_pid=$!
  for _ in $(seq 1 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "redis-server did not start (see $RUN_DIR/redis.log)" >&2
  exit 1
}

stop_redis() { stop "$redis_pid"; redis_pid=""; }

start_pg() {
  as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$WORK_DIR/pg/postgres.log" -w -t 60 \
    -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=$WORK_DIR/pg" start >/dev/null
  pg_started=1
}

stop_pg() { as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m "$PG_STOP_MODE" -w -t 60 stop >/dev/null; }

psql_admin() { psql -q -v ON_ERROR_STOP=1 "$PG_ADMIN_URL" "$@"; }

# wait_for URL PID LOGFILE: until URL answers, or fail if the process died.
wait_for() {
  for _ in $(seq 1 150); do
    curl -fs "$1" >/dev/null 2>&1 && return 0
    kill -0 "$2" 2>/dev/null || { tail -n 30 "$3" >&2; exit 1; }
    sleep 0.2
  done
  echo "$1 did not answer" >&2
  exit 1
}

start_worker() {
  .venv/bin/celery -A config worker -l WARNING --concurrency "$WORKER_CONCURRENCY" >>"$EXP_DIR/worker.log" 2>&1 &
  worker_pid=$!
}

# start_hub: the fake Telegram, gunicorn, a worker and beat, on a fresh database and an empty Redis.
start_hub() {
  "$PY" bench/faults/fake_telegram.py --port "$FAKE_PORT" --log "$EXP_DIR/messages.jsonl" >"$EXP_DIR/fake.log" 2>&1 &
  fake_pid=$!
  wait_for "$FAKE_URL/_count" "$fake_pid" "$EXP_DIR/fake.log"
  .venv/bin/gunicorn config.wsgi:application -c config/gunicorn.conf.py >"$EXP_DIR/server.log" 2>&1 &
  server_pid=$!
  start_worker
  .venv/bin/celery -A config beat -l WARNING --schedule "$EXP_DIR/beat-schedule" >"$EXP_DIR/beat.log" 2>&1 &
  beat_pid=$!
  wait_for "$BASE_URL/health/live/" "$server_pid" "$EXP_DIR/server.log"
  # The worker is ready when it answers a ping through the broker.
  for _ in $(seq 1 150); do
    .venv/bin/celery -A config inspect ping --timeout 1 >/dev/null 2>&1 && break
    kill -0 "$worker_pid" 2>/dev/null || { tail -n 30 "$EXP_DIR/worker.log" >&2; exit 1; }
    sleep 0.2
  done
  curl -fsS "$BASE_URL/health/" >"$EXP_DIR/health.json" || { echo "GET /health/ is not 200" >&2; exit 1; }
}

# begin NAME: a fresh experiment — processes stopped, database cloned from the template, Redis empty.
EXP_DIR=""
begin() {
  stop_hub
  EXP_DIR=$RUN_DIR/$1
  mkdir -p "$EXP_DIR"
  export PROMETHEUS_MULTIPROC_DIR=$EXP_DIR/prometheus
  mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
  redis-cli -p "$REDIS_PORT" flushall >/dev/null
  log "$1"
  psql_admin -c "DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE)" -c "CREATE DATABASE $DB_NAME TEMPLATE ${DB_NAME}_template"
  start_hub
}

# load KIND COUNT RATE MARK [ARGS...]: the load generator in the background, its record in
# $EXP_DIR; `wait_mark` returns once MARK requests are sent.
load() {
  local kind=$1 count=$2 rate=$3 mark=$4
  shift 4
  "$PY" bench/faults/load.py "$kind" --base-url "$BASE_URL" --count "$count" --rate "$rate" \
    --mark "$mark" --mark-file "$EXP_DIR/mark" --out "$EXP_DIR/requests.jsonl" "$@" &
  load_pid=$!
  t_load_start=$(now)
}

wait_mark() {
  until [ -e "$EXP_DIR/mark" ]; do
    kill -0 "$load_pid" 2>/dev/null || { echo "the load ended before its mark" >&2; exit 1; }
    run_fg sleep 0.1
  done
}

# load_registrations COUNT RATE MARK SERIES
load_registrations() {
  load register "$1" "$2" "$3" --owner "$(setup_field owner)" --secret "$(setup_field owner_secret)" --series "$4"
}

setup_field() { "$PY" -c "import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$RUN_DIR/setup.json" "$1"; }

# finish KIND NAME FAULT: wait for the load, write the timeline, measure.
finish() {
  local kind=$1 name=$2 fault=$3
  wait "$load_pid"
  load_pid=""
  local t_load_end
  t_load_end=$(now)
  printf '{"fault": "%s", "load_start": %s, "fault_start": %s, "fault_end": %s, "load_end": %s}\n' \
    "$fault" "$t_load_start" "$t_fault_start" "$t_fault_end" "$t_load_end" >"$EXP_DIR/timeline.json"
  run_fg "$PY" bench/faults/hub.py measure --kind "$kind" --name "$name" --dir "$EXP_DIR" \
    --deadline "$DEADLINE" --quiet "$QUIET" --max-wait "$MAX_WAIT" --settle "$SETTLE"
}

# sleep_until BASE OFFSET: until OFFSET seconds after the time BASE (seconds since the epoch).
sleep_until() {
  local left
  left=$(awk -v b="$1" -v o="$2" -v n="$(now)" 'BEGIN { d = b + o - n; printf "%.3f", (d > 0 ? d : 0) }')
  run_fg sleep "$left"
}

# The fault of experiments 1 and 4: the worker killed, a fresh one started as a supervisor would.
worker_killed_and_restarted() {
  t_fault_start=$(now)
  kill_worker
  run_fg sleep "$RESTART_DELAY"
  start_worker
  t_fault_end=$(now)
  echo "  a fresh worker started"
}

experiment_worker() {
  begin 1-worker-killed
  load_registrations "$REGISTRATIONS" "$REGISTER_RATE" $((REGISTRATIONS / 2)) 1
  wait_mark
  echo "  SIGKILL to the worker, $((REGISTRATIONS / 2)) registrations sent"
  worker_killed_and_restarted
  finish devices "1 worker killed" "worker SIGKILL, restarted after ${RESTART_DELAY} s"
}

# experiment_outage NUMBER NAME STOP START SERIES
experiment_outage() {
  local number=$1 name=$2 stop_it=$3 start_it=$4 series=$5
  begin "$number-$name-stopped"
  local count
  count=$(awk -v r="$OUTAGE_RATE" -v s="$((OUTAGE_BEFORE + OUTAGE_SECONDS + OUTAGE_AFTER))" 'BEGIN { print int(r * s) }')
  load_registrations "$count" "$OUTAGE_RATE" "$(awk -v r="$OUTAGE_RATE" -v b="$OUTAGE_BEFORE" 'BEGIN { print int(r * b) }')" "$series"
  wait_mark
  echo "  $name stopped"
  t_fault_start=$(now)
  "$stop_it"
  sleep_until "$t_fault_start" "$OUTAGE_SECONDS"
  "$start_it"
  t_fault_end=$(now)
  echo "  $name started again"
  finish devices "$number $name stopped" "$name stopped for ${OUTAGE_SECONDS} s"
}

experiment_webhooks() {
  begin 4-webhooks-worker-killed
  load webhook "$WEBHOOKS" "$WEBHOOK_RATE" $((WEBHOOKS / 2)) --path "$(setup_field endpoint_path)" \
    --secret "$(setup_field endpoint_secret)" --run-id "faults$(date +%s)"
  wait_mark
  echo "  SIGKILL to the worker, $((WEBHOOKS / 2)) deliveries sent"
  worker_killed_and_restarted
  finish webhooks "4 webhooks, worker killed" "worker SIGKILL, restarted after ${RESTART_DELAY} s"
}

started=$(date +%s)
cut -d' ' -f1-3 /proc/loadavg >"$RUN_DIR/loadavg-start.txt"
log "private PostgreSQL on 127.0.0.1:$PG_PORT ($PG_BIN), private Redis on 127.0.0.1:$REDIS_PORT"
as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --auth=trust -E UTF8 >"$RUN_DIR/initdb.log" 2>&1 \
  || { cat "$RUN_DIR/initdb.log" >&2; exit 1; }
start_pg
start_redis

log "template database: migrations, owner, webhook endpoint, connections"
psql_admin -c "CREATE DATABASE ${DB_NAME}_template"
TEMPLATE_URL=${PG_ADMIN_URL%/*}/${DB_NAME}_template
DATABASE_URL=$TEMPLATE_URL run_fg "$PY" manage.py migrate --noinput >"$RUN_DIR/migrate.log" 2>&1 \
  || { cat "$RUN_DIR/migrate.log" >&2; exit 1; }
DATABASE_URL=$TEMPLATE_URL run_fg "$PY" bench/faults/hub.py setup --out "$RUN_DIR/setup.json"

for experiment in $EXPERIMENTS; do
  case $experiment in
    worker) experiment_worker ;;
    redis) experiment_outage 2 redis stop_redis start_redis 2 ;;
    postgres) experiment_outage 3 postgres stop_pg start_pg 3 ;;
    webhooks) experiment_webhooks ;;
    *) echo "unknown experiment '$experiment' (worker, redis, postgres, webhooks)" >&2; exit 2 ;;
  esac
done
stop_hub

cut -d' ' -f1-3 /proc/loadavg >"$RUN_DIR/loadavg-end.txt"
log "summary ($RUN_DIR/summary.txt), $(($(date +%s) - started)) s"
"$PY" bench/faults/hub.py summary "$RUN_DIR"

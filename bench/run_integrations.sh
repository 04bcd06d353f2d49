#!/usr/bin/env bash
# `make bench`, integrations part: run the hub as in production (DEBUG off, PostgreSQL, Redis
# cache and broker, gunicorn with config/gunicorn.conf.py) on 127.0.0.1 and measure
#   (a) signed webhook ingestion with wrk against the trivial endpoint as the ceiling, then prove
#       no event lost or duplicated: 202s = accepted entries in the inbox, re-sent ids answer 200,
#       a real Celery worker writes every entry once and processes each delivery exactly once;
#   (b) outbound calls through integrations.outbound against a local fake failing 30% of the
#       time, then failing 100% until the circuit breaker opens, tries and closes again;
#   (c) the cache hit path, in-process and through GET /api/v1/weather/<city>.
# Prints and saves the figures (bench/results/<time>-integrations/, bench/integrations/README.md);
# exits 1 if a correctness check fails or ingestion is under half the ceiling.
#
# Isolation: database sb_benchint, Redis DB 9, ports 8200 (hub) and 8201 (fake); all bounded
# to 127.0.0.1. Every knob below can be set from the environment.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PY:-.venv/bin/python}
PORT=${BENCH_INT_PORT:-8200}
FAKE_PORT=${BENCH_INT_FAKE_PORT:-8201}
DB_NAME=${BENCH_INT_DB:-sb_benchint}
PG_ADMIN_URL=${BENCH_PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
# The bench owns this Redis database: it is emptied before and after the run.
REDIS_DB_URL=${BENCH_INT_REDIS_URL:-redis://127.0.0.1:6379/9}
CONNECTIONS=${BENCH_CONNECTIONS:-16}
THREADS=${BENCH_THREADS:-1}
DURATION=${BENCH_INT_DURATION:-6}
# Webhook requests: about DURATION seconds of them at half the ceiling, within these bounds.
MIN_WEBHOOKS=${BENCH_INT_MIN_WEBHOOKS:-1000}
MAX_WEBHOOKS=${BENCH_INT_MAX_WEBHOOKS:-6000}
OUTBOUND_CALLS=${BENCH_INT_OUTBOUND_CALLS:-600}

RUN_DIR=bench/results/$(date +%Y%m%d-%H%M%S)-integrations
mkdir -p "$RUN_DIR"
ln -sfn "$(basename "$RUN_DIR")" bench/results/integrations-latest

# The hub's production settings (config/settings.py, config/gunicorn.conf.py).
source bench/lib.sh
LUA_DIR=bench/integrations/lua
production_env sb-benchint
# The weather integration talks to the fake, with a key from the environment, publicly.
FAKE_URL=http://127.0.0.1:$FAKE_PORT
export INTEGRATIONS_OPENWEATHERMAP_API_URL=$FAKE_URL OPENWEATHERMAP_API_KEY=bench-not-a-real-key WEATHER_API_PUBLIC=1
BASE_URL=http://127.0.0.1:$PORT

./scripts/services.sh >/dev/null
ensure_wrk

trap bench_cleanup EXIT
trap 'exit 130' INT TERM


# Others may share the machine: the load around the run says how far to trust the figures.
cut -d' ' -f1-3 /proc/loadavg >"$RUN_DIR/loadavg-start.txt"
log "fresh database $DB_NAME, empty Redis $REDIS_DB_URL"
psql -q "$PG_ADMIN_URL" -c "DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE)" -c "CREATE DATABASE $DB_NAME"
redis-cli -u "$REDIS_DB_URL" flushdb >/dev/null
"$PY" manage.py migrate --noinput >"$RUN_DIR/migrate.log" 2>&1 || { cat "$RUN_DIR/migrate.log" >&2; exit 1; }

log "fake service on $FAKE_URL"
"$PY" bench/integrations/fake_service.py --port "$FAKE_PORT" >"$RUN_DIR/fake.log" 2>&1 &
pids+=($!)
wait_for "$FAKE_URL/_stats" "${pids[-1]}" "$RUN_DIR/fake.log"

log "server: gunicorn (config/gunicorn.conf.py) on $BASE_URL"
.venv/bin/gunicorn config.wsgi:application -c config/gunicorn.conf.py >"$RUN_DIR/server.log" 2>&1 &
server_pid=$!
pids+=("$server_pid")
wait_for "$BASE_URL/health/live/" "${pids[-1]}" "$RUN_DIR/server.log"
curl -fsS "$BASE_URL/health/" >"$RUN_DIR/health.json" || { echo "GET /health/ is not 200" >&2; exit 1; }
# Warm-up: first requests import lazily and open connection pools.
wrk -t 1 -c 4 -d 2s "$BASE_URL/health/live/" >/dev/null

# (a) ingestion
scenario ceiling get.lua 200 "$DURATION" BENCH_PATH=/health/live/
COUNT=$("$PY" -c "import json, sys; rps = float(json.load(open(sys.argv[1]))['rps'])
print(max($MIN_WEBHOOKS, min($MAX_WEBHOOKS, int(rps * $DURATION / 2))))" "$SCENARIO_OUT")
"$PY" bench/integrations/webhooks.py prepare --count "$COUNT" \
  --requests "$RUN_DIR/webhook-requests.tsv" --out "$RUN_DIR/webhook-endpoint.json"
WEBHOOK_PATH=$("$PY" -c "import json, sys; print(json.load(open(sys.argv[1]))['path'])" "$RUN_DIR/webhook-endpoint.json")
# A quota run ends when its requests are answered; the deadline only bounds a stuck one.
scenario webhooks webhooks.lua 202 $((DURATION * 6)) \
  BENCH_REQUESTS="$RUN_DIR/webhook-requests.tsv" BENCH_PATH="$WEBHOOK_PATH" BENCH_TOTAL="$COUNT"
WEBHOOK_SCENARIO=$SCENARIO_OUT
# (c) through the API, between the two ceilings too: the first request fills the cache
# (source "api"), wrk reads it back.
curl -fsS "$BASE_URL/api/v1/weather/London" >"$RUN_DIR/weather-first.json" || true
scenario weather get.lua 200 "$DURATION" BENCH_PATH=/api/v1/weather/London 'BENCH_BODY_MATCH="source":"cache"'
curl -fsS "$FAKE_URL/_stats" >"$RUN_DIR/fake-stats-weather.json"
scenario ceiling-again get.lua 200 "$DURATION" BENCH_PATH=/health/live/

log "no event lost or duplicated"
"$PY" bench/integrations/webhooks.py ingested --endpoint "$RUN_DIR/webhook-endpoint.json" \
  --requests "$RUN_DIR/webhook-requests.tsv" --scenario "$WEBHOOK_SCENARIO" \
  --check "$RUN_DIR/check-a1-ingested.json" || true
"$PY" bench/integrations/webhooks.py resend --endpoint "$RUN_DIR/webhook-endpoint.json" \
  --requests "$RUN_DIR/webhook-requests.tsv" --base-url "$BASE_URL" --sample 300 \
  --check "$RUN_DIR/check-a2-resent.json" || true

log "Celery worker: process every accepted delivery"
PYTHONPATH=$PWD:$PWD/bench/integrations .venv/bin/celery -A worker_app worker -l WARNING -c 2 \
  -n "benchint@%h" --without-gossip --without-mingle --without-heartbeat >"$RUN_DIR/worker.log" 2>&1 &
pids+=($!)
"$PY" bench/integrations/webhooks.py processed --endpoint "$RUN_DIR/webhook-endpoint.json" \
  --scenario "$WEBHOOK_SCENARIO" --resent "$RUN_DIR/check-a2-resent.json" --redeliver 200 --deadline 75 --check "$RUN_DIR/check-a3-processed.json" || true
stop_pid "${pids[-1]}"
unset 'pids[-1]'

# (b) and (c) in-process. Shorter backoff than production's 0.5 s keeps the run bounded (the
# policy is the same); a 2 s reset timeout lets the breaker open, try and close within seconds.
log "outbound calls against the fake"
INTEGRATIONS_RETRY_BASE_WAIT_SECONDS=0.05 INTEGRATIONS_BREAKER_RESET_SECONDS=2 INTEGRATIONS_BREAKER_FAIL_MAX=5 \
  "$PY" bench/integrations/outbound_bench.py run --fake "$FAKE_URL" --run-dir "$RUN_DIR" \
  --calls "$OUTBOUND_CALLS" || true

cut -d' ' -f1-3 /proc/loadavg >"$RUN_DIR/loadavg-end.txt"
log "summary ($RUN_DIR/summary.txt)"
"$PY" bench/integrations/report.py "$RUN_DIR"

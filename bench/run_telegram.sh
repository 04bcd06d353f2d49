#!/usr/bin/env bash
# `make bench`, Telegram webhook part: run the hub as in production (DEBUG off, PostgreSQL, Redis
# cache and broker, gunicorn with config/gunicorn.conf.py) on 127.0.0.1 and measure
#   (b) Telegram update ingestion, POST /telegram-webhook, with wrk against the trivial endpoint
#       of the same server (/health/live/) as the ceiling (target: at least half of it), then
#       prove nothing lost or doubled: 200s = entries in the inbox, re-sent ids answer
#       "duplicate", a real Celery worker handles every update exactly once.
# Prints the figures and saves them in bench/results/<time>-telegram/; exits 1 when a check
# fails or ingestion is under half the ceiling.
#
# Isolation: database sb_benchtgw, Redis DB 3, port 8210 (hub), 8211 (fake Bot API); all bound to
# 127.0.0.1. Every knob below can be set from the environment.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PY:-.venv/bin/python}
PORT=${BENCH_TGW_PORT:-8210}
FAKE_PORT=${BENCH_TGW_FAKE_PORT:-8211}
DB_NAME=${BENCH_TGW_DB:-sb_benchtgw}
PG_ADMIN_URL=${BENCH_PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
REDIS_DB_URL=${BENCH_TGW_REDIS_URL:-redis://127.0.0.1:6379/3}
CONNECTIONS=${BENCH_CONNECTIONS:-16}
THREADS=${BENCH_THREADS:-1}
DURATION=${BENCH_TGW_DURATION:-6}
TOTAL=${BENCH_TGW_UPDATES:-4000}
FIRST_ID=1000000
TOKEN=123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11

RUN_DIR=bench/results/$(date +%Y%m%d-%H%M%S)-telegram
mkdir -p "$RUN_DIR"
ln -sfn "$(basename "$RUN_DIR")" bench/results/telegram-latest

source bench/lib.sh
LUA_DIR=bench/bots/lua
production_env sb-benchtgw
export INTEGRATIONS_TELEGRAM_API_URL=http://127.0.0.1:$FAKE_PORT
BASE_URL=http://127.0.0.1:$PORT

./scripts/services.sh >/dev/null
ensure_wrk

trap bench_cleanup EXIT
trap 'exit 130' INT TERM

cut -d' ' -f1-3 /proc/loadavg >"$RUN_DIR/loadavg-start.txt"
log "fresh database $DB_NAME, empty Redis $REDIS_DB_URL"
psql -q "$PG_ADMIN_URL" -c "DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE)" -c "CREATE DATABASE $DB_NAME"
redis-cli -u "$REDIS_DB_URL" flushdb >/dev/null
"$PY" manage.py migrate --noinput >"$RUN_DIR/migrate.log" 2>&1 || { cat "$RUN_DIR/migrate.log" >&2; exit 1; }
SECRET=$("$PY" bench/bots/telegram_ingestion.py prepare --token "$TOKEN")

log "fake Bot API on $INTEGRATIONS_TELEGRAM_API_URL"
"$PY" -m tests.fakes.telegram_bot_api --port "$FAKE_PORT" --token "$TOKEN" >"$RUN_DIR/fake.log" 2>&1 &
pids+=($!)
wait_for "$INTEGRATIONS_TELEGRAM_API_URL/_stats" "${pids[-1]}" "$RUN_DIR/fake.log"

log "server: gunicorn (config/gunicorn.conf.py) on $BASE_URL"
.venv/bin/gunicorn config.wsgi:application -c config/gunicorn.conf.py >"$RUN_DIR/server.log" 2>&1 &
server_pid=$!
pids+=("$server_pid")
wait_for "$BASE_URL/health/live/" "${pids[-1]}" "$RUN_DIR/server.log"
wrk -t 1 -c 4 -d 2s "$BASE_URL/health/live/" >/dev/null

scenario ceiling ../../integrations/lua/get.lua 200 "$DURATION" BENCH_PATH=/health/live/
CEILING=$SCENARIO_OUT
scenario telegram-updates telegram_updates.lua 200 $((DURATION * 6)) \
  BENCH_SECRET="$SECRET" BENCH_TOTAL="$TOTAL" BENCH_FIRST_ID="$FIRST_ID"
UPDATES=$SCENARIO_OUT
scenario ceiling-again ../../integrations/lua/get.lua 200 "$DURATION" BENCH_PATH=/health/live/
CEILING_AGAIN=$SCENARIO_OUT

log "nothing lost or doubled"
checks=0
"$PY" bench/bots/telegram_ingestion.py ingested --total "$TOTAL" --first "$FIRST_ID" --scenario "$UPDATES" \
  | tee "$RUN_DIR/check-ingested.json" || checks=1
"$PY" bench/bots/telegram_ingestion.py resend --total "$TOTAL" --first "$FIRST_ID" --base-url "$BASE_URL" \
  --secret "$SECRET" | tee "$RUN_DIR/check-resent.json" || checks=1
log "Celery worker: handle every update"
.venv/bin/celery -A config worker -l WARNING -c 2 -n "benchtg@%h" --without-gossip --without-mingle \
  --without-heartbeat >"$RUN_DIR/worker.log" 2>&1 &
pids+=($!)
# The drains the ingestion scheduled wait in the queue for this worker.
"$PY" bench/bots/telegram_ingestion.py handled --total "$TOTAL" --first "$FIRST_ID" --deadline 180 \
  | tee "$RUN_DIR/check-handled.json" || checks=1

cut -d' ' -f1-3 /proc/loadavg >"$RUN_DIR/loadavg-end.txt"
log "summary"
"$PY" - "$CEILING" "$UPDATES" "$CEILING_AGAIN" <<'PYEOF' | tee "$RUN_DIR/summary.txt"
import json, sys
ceiling, updates, again = (json.load(open(p)) for p in sys.argv[1:])
best = max(float(ceiling["rps"]), float(again["rps"]))
ratio = float(updates["rps"]) / best
print(f"ceiling /health/live/: {float(ceiling['rps']):,.0f} and {float(again['rps']):,.0f} req/s")
print(f"POST /telegram-webhook: {float(updates['rps']):,.0f} req/s = {ratio:.0%} of the higher ceiling (target 50%)")
print(f"latency p50/p99 ms: {updates.get('p50_ms')} / {updates.get('p99_ms')}")
sys.exit(0 if ratio >= 0.5 else 1)
PYEOF
[ "$checks" = 0 ]

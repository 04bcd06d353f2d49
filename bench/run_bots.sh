#!/usr/bin/env bash
# `make bench`, bots part: (a) a notification storm — 5,000 registrations through the device
# service, told by Celery worker processes to 20 subscribed chats (10 private, 10 groups) of a
# fake Bot API process that enforces Telegram's limits (tests/fakes/telegram_bot_api). Prints
# sendMessage calls, the highest rate per chat and overall, 429s (must be 0), events covered per
# chat (all, each once) and the time until every chat was told everything (bench/telegram_storm.py);
# exits 1 if a check fails.
#
# Isolation: database sb_benchtg, Redis DB 9 (emptied before and after: the benches run one after
# another), fake on port 8302; all on 127.0.0.1. Every knob below can be set from the environment.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PY:-.venv/bin/python}
PORT=${BENCH_TG_PORT:-8300}
FAKE_PORT=${BENCH_TG_FAKE_PORT:-8302}
DB_NAME=${BENCH_TG_DB:-sb_benchtg}
PG_ADMIN_URL=${BENCH_PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
REDIS_DB_URL=${BENCH_TG_REDIS_URL:-redis://127.0.0.1:6379/9}
DEVICES=${BENCH_TG_DEVICES:-5000}
WORKERS=${BENCH_TG_WORKERS:-2}
CONCURRENCY=${BENCH_TG_CONCURRENCY:-4}

RUN_DIR=bench/results/$(date +%Y%m%d-%H%M%S)-bots
mkdir -p "$RUN_DIR"
ln -sfn "$(basename "$RUN_DIR")" bench/results/bots-latest

source bench/lib.sh
production_env sb-benchtg
FAKE_URL=http://127.0.0.1:$FAKE_PORT
TOKEN=123456:bench-not-a-real-token
export INTEGRATIONS_TELEGRAM_API_URL=$FAKE_URL TELEGRAM_BOT_TOKEN=$TOKEN

./scripts/services.sh >/dev/null

trap bench_cleanup EXIT
trap 'exit 130' INT TERM

cut -d' ' -f1-3 /proc/loadavg >"$RUN_DIR/loadavg-start.txt"
log "fresh database $DB_NAME, empty Redis $REDIS_DB_URL"
psql -q "$PG_ADMIN_URL" -c "DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE)" -c "CREATE DATABASE $DB_NAME"
redis-cli -u "$REDIS_DB_URL" flushdb >/dev/null
"$PY" manage.py migrate --noinput >"$RUN_DIR/migrate.log" 2>&1 || { cat "$RUN_DIR/migrate.log" >&2; exit 1; }

log "fake Bot API on $FAKE_URL (Telegram's limits)"
"$PY" -m tests.fakes.telegram_bot_api --port "$FAKE_PORT" --token "$TOKEN" --log "$RUN_DIR/messages.jsonl" \
  >"$RUN_DIR/fake.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 50); do curl -fs "$FAKE_URL/_stats" >/dev/null 2>&1 && break; sleep 0.2; done

log "$WORKERS Celery workers, $CONCURRENCY processes each"
for n in $(seq 1 "$WORKERS"); do
  .venv/bin/celery -A config worker -l WARNING -c "$CONCURRENCY" -n "benchtg$n@%h" \
    --without-gossip --without-mingle >"$RUN_DIR/worker-$n.log" 2>&1 &
  pids+=($!)
done
# The storm starts when every worker answers: their start-up is not the notifications' time.
for _ in $(seq 1 60); do
  online=$(.venv/bin/celery -A config inspect ping --timeout 1 2>/dev/null | grep -c "pong" || true)
  [ "$online" -ge "$WORKERS" ] && break
  sleep 0.5
done

log "storm: $DEVICES registrations, 20 chats"
"$PY" bench/telegram_storm.py --fake-url "$FAKE_URL" --devices "$DEVICES" --out "$RUN_DIR/telegram-storm.json" \
  | tee "$RUN_DIR/telegram-storm.txt"

# Shared by bench/run.sh and bench/run_integrations.sh (sourced, not run).

log() { printf '\n== %s\n' "$*"; }

# production_env NAME: the hub's production settings (config/settings.py, gunicorn.conf.py) for a
# bench run that owns database $DB_NAME, Redis $REDIS_DB_URL, port $PORT and $RUN_DIR.
production_env() {
  local name=$1
  export DEBUG=0
  SECRET_KEY=$("$PY" -c 'import secrets; print(secrets.token_urlsafe(48))')
  INTEGRATIONS_ENCRYPTION_KEYS=$("$PY" -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')
  export SECRET_KEY INTEGRATIONS_ENCRYPTION_KEYS
  export ALLOWED_HOSTS=127.0.0.1,localhost
  export DATABASE_URL=${PG_ADMIN_URL%/*}/$DB_NAME
  export REDIS_URL=$REDIS_DB_URL CELERY_BROKER_URL=$REDIS_DB_URL
  export CELERY_TASK_DEFAULT_QUEUE=$name CACHE_KEY_PREFIX=$name CHANNELS_PREFIX=$name
  export LOG_LEVEL=WARNING
  export PROMETHEUS_MULTIPROC_DIR=$PWD/$RUN_DIR/prometheus
  mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
  export GUNICORN_BIND=127.0.0.1:$PORT
  export PGOPTIONS="-c client_min_messages=warning"
}

ensure_wrk() {
  if ! command -v wrk >/dev/null 2>&1; then
    log "installing wrk"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
  fi
}

# CPU seconds the server ($server_pid and its workers) has used so far, user + system. Per
# request, a figure that other load on the machine moves much less than requests per second.
server_cpu() {
  local ticks=0 child
  [ -n "${server_pid:-}" ] || { echo 0.00; return; }
  for child in "$server_pid" $(pgrep -P "$server_pid"); do
    # Fields 14 and 15 of /proc/PID/stat, counted after the ")" that ends the command name.
    ticks=$((ticks + $(sed 's/.*) //' "/proc/$child/stat" 2>/dev/null | awk '{print $12 + $13}' || echo 0)))
  done
  echo "$ticks $(getconf CLK_TCK)" | awk '{printf "%.2f", $1 / $2}'
}

# scenario NAME SCRIPT EXPECTED_STATUSES DURATION [VAR=value ...]: one wrk run of $LUA_DIR/SCRIPT
# (bench/lua/lib.lua), its JSON summary with the server's CPU seconds in $RUN_DIR, its path
# in $SCENARIO_OUT.
step=0
scenario() {
  local name=$1 script=$2 expect=$3 duration=$4
  shift 4
  step=$((step + 1))
  local tag
  tag=$(printf '%02d-%s' "$step" "$name")
  mkdir -p "$RUN_DIR/wrk/$tag"
  log "$name"
  local cpu_before
  cpu_before=$(server_cpu)
  env "$@" BENCH_NAME="$name" BENCH_EXPECT="$expect" BENCH_THREADS="$THREADS" \
    BENCH_RUN_DIR="$RUN_DIR/wrk/$tag" BENCH_OUT="$RUN_DIR/scenario-$tag.json" \
    wrk -t "$THREADS" -c "$CONNECTIONS" -d "${duration}s" --timeout 10s -s "$LUA_DIR/$script" "$BASE_URL" \
    | tee "$RUN_DIR/wrk/$tag/wrk.txt" | grep -E 'Requests/sec|requests in|errors|Non-2xx' || true
  SCENARIO_OUT=$RUN_DIR/scenario-$tag.json
  test -s "$SCENARIO_OUT" || { echo "wrk wrote no summary for $name" >&2; exit 1; }
  local cpu
  cpu=$(awk -v a="$cpu_before" -v b="$(server_cpu)" 'BEGIN {printf "%.2f", b - a}')
  sed -i "s/^{/{\"server_cpu_seconds\": $cpu, /" "$SCENARIO_OUT"
}

# Processes a bench starts (`pids+=($!)`), stopped on exit; its database and Redis database are
# dropped then unless BENCH_KEEP is set. A bench script sets DB_NAME, REDIS_DB_URL and
# PG_ADMIN_URL, then `trap bench_cleanup EXIT; trap 'exit 130' INT TERM`.
pids=()
stop_pid() {
  local pid=$1
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

bench_cleanup() {
  local status=$?
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do stop_pid "$pid"; done
  if [ -z "${BENCH_KEEP:-}" ]; then
    redis-cli -u "$REDIS_DB_URL" flushdb >/dev/null || true
    psql -q "$PG_ADMIN_URL" -c "DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE)" || true
  fi
  exit "$status"
}

# wait_for URL PID LOGFILE: until URL answers, or fail (showing the log) if the process died.
wait_for() {
  for _ in $(seq 1 150); do
    curl -fs "$1" >/dev/null 2>&1 && return 0
    kill -0 "$2" 2>/dev/null || { cat "$3" >&2; exit 1; }
    sleep 0.2
  done
  echo "$1 did not answer" >&2
  exit 1
}

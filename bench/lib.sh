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

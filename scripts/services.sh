#!/usr/bin/env bash
# Make sure PostgreSQL, Redis and Mosquitto are installed and listening on 127.0.0.1, and that
# nginx and Debian's Chromium are installed (the proxy tests start their own nginx with
# deploy/nginx.conf, none is left running; Playwright drives Chromium in tests/browser/). Used by
# `make test` and the benchmark; installs from Debian's packages when missing.
set -euo pipefail

need_install=()
command -v pg_ctlcluster >/dev/null 2>&1 || need_install+=(postgresql)
command -v redis-server >/dev/null 2>&1 || need_install+=(redis-server)
command -v mosquitto >/dev/null 2>&1 || need_install+=(mosquitto)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need_install+=(nginx)
# Playwright drives this browser (it cannot download its own here); the fonts keep layouts measured
# in the tests the same on every machine.
[ -x /usr/bin/chromium ] || need_install+=(chromium fonts-liberation)
if [ ${#need_install[@]} -gt 0 ]; then
  echo "installing ${need_install[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Debian's packages start their service on install (nginx on port 80): a policy-rc.d that
  # answers 101 ("action forbidden") keeps them stopped; the code below starts what the tests use.
  policy=/usr/sbin/policy-rc.d
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy"
    trap 'rm -f "$policy"' EXIT
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_install[@]}" >/dev/null
fi

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if ! listening 5432; then
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  pg_ctlcluster --skip-systemctl-redirect "$version" main start
  # A fresh install asks for passwords on TCP; the test setup uses trust on 127.0.0.1.
  hba="/etc/postgresql/$version/main/pg_hba.conf"
  if ! grep -q "switchboard-trust" "$hba"; then
    sed -i '1i host all all 127.0.0.1/32 trust # switchboard-trust\nhost all all ::1/128 trust # switchboard-trust' "$hba"
    pg_ctlcluster --skip-systemctl-redirect "$version" main reload
  fi
fi
if ! listening 6379; then
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
fi
if ! listening 1883; then
  mosquitto -d -c /etc/mosquitto/mosquitto.conf
fi

for port in 5432 6379 1883; do
  for _ in $(seq 1 50); do listening "$port" && break; sleep 0.2; done
  listening "$port" || { echo "nothing listens on 127.0.0.1:$port" >&2; exit 1; }
done
echo "services up: postgresql :5432, redis :6379, mosquitto :1883"

"""Production settings of gunicorn, the hub's HTTP server; every value comes from the environment.

    gunicorn config.wsgi:application -c config/gunicorn.conf.py

Sync workers were measured fastest for this app (`./bench/run.sh servers`, figures in
bench/README.md): on 2 cores about 1.6 times gthread workers and ten times Django under daphne
or uvicorn. Requests are short CPU-bound Python, so a process per request in flight wins.
Sync workers must run behind a buffering proxy (deploy/nginx.conf, docs/deployment.md): a
worker reads a request itself, so a client that stalls mid-request (a Content-Length larger than
the body it sends) pins that worker until `timeout`, and a handful of them stop the hub. nginx
reads every request whole before gunicorn sees it. Websockets (`ws/events/`) are served by daphne.
"""

import multiprocessing
import os


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


# All interfaces by default, for the container behind nginx; set 127.0.0.1:8000 on a bare host.
bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000").split(",")
# Sync workers: about two per core keeps the CPUs busy while one waits on PostgreSQL or Redis.
workers = _env_int("GUNICORN_WORKERS", 2 * multiprocessing.cpu_count() + 1)
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "sync")
threads = _env_int("GUNICORN_THREADS", 1)
backlog = _env_int("GUNICORN_BACKLOG", 2048)
# A worker silent this long is killed and replaced: a request that hangs (or, without the proxy,
# a client that stalls) holds a worker at most this long. nginx waits a little longer
# (proxy_read_timeout 35s), so that gunicorn, which can free the worker, is the one to give up.
timeout = _env_int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _env_int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _env_int("GUNICORN_KEEPALIVE", 5)  # gthread only: sync workers close after each response
# Recycle workers now and then, so a slow leak in any library cannot grow without bound.
max_requests = _env_int("GUNICORN_MAX_REQUESTS", 100_000)
max_requests_jitter = _env_int("GUNICORN_MAX_REQUESTS_JITTER", 10_000)
# Import Django once in the master: workers fork with it loaded (faster start, shared memory).
preload_app = os.environ.get("GUNICORN_PRELOAD", "1") == "1"
# The heartbeat file on tmpfs, as gunicorn advises: on a disk-backed /tmp a worker can stall in fchmod.
_TMPFS = "/dev/shm"  # noqa: S108
worker_tmp_dir = os.environ.get("GUNICORN_WORKER_TMP_DIR") or (_TMPFS if os.path.isdir(_TMPFS) else None)
# The runtime control socket (gunicornc) is not used; without this every gunicorn of a user
# would share $HOME/.gunicorn/gunicorn.ctl.
control_socket_disable = True
# The proxies trusted for X-Forwarded-*: gunicorn reads FORWARDED_ALLOW_IPS itself.

# Request line and headers: wider than nginx's limits (deploy/nginx.conf: a request line or one
# header line up to 8,190 bytes, large_client_header_buffers 4 8k in all), so that whatever nginx
# lets through passes here too and nginx, which answers in JSON, is the one that refuses.
# Without the proxy these are gunicorn's own limits (its answers are JSON too, see below).
limit_request_line = _env_int("GUNICORN_LIMIT_REQUEST_LINE", 8190)  # the most gunicorn allows
# One header line as nginx forwards it: at most 8,190 bytes and its line break.
limit_request_field_size = _env_int("GUNICORN_LIMIT_REQUEST_FIELD_SIZE", 16 * 1024)
# nginx has no limit on the number of headers of its own (Debian's package adds one, of about
# 1,000): 32 KiB of the shortest header lines ("a:" and a line break) are some 11,000.
limit_request_fields = _env_int("GUNICORN_LIMIT_REQUEST_FIELDS", 11_000)

# Django logs requests that fail; an access line per request is opt-in ("-" = stdout).
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
# Both logs with the webhook receiver's URL token masked, as in Django's logs (config/logging.py).
logger_class = "config.gunicorn_logging.GunicornLogger"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
proc_name = "switchboard-web"


def when_ready(server):
    """With preload, import the URLconf and every view in the master too, before the first fork.

    Workers (and those respawned later) then start warm, share that memory, and all run the
    code the master loaded, whatever happens to the files on disk meanwhile.
    """
    if not preload_app:
        return
    from importlib import import_module

    from django.conf import settings
    from django.db import connections

    import_module(settings.ROOT_URLCONF)
    # No connection opened while importing may be shared by the forked workers.
    connections.close_all()


def post_worker_init(worker):
    """gunicorn's own error answers (a request it cannot parse) in JSON: config/gunicorn_errors.py."""
    from config import gunicorn_errors

    gunicorn_errors.install()


def child_exit(server, worker):
    """Prometheus multiprocess mode (PROMETHEUS_MULTIPROC_DIR): drop a dead worker's live gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)

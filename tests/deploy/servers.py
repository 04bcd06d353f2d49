"""A real gunicorn (config/gunicorn.conf.py) behind a real nginx (deploy/nginx.conf), for tests.

CI cannot pull container images, so nginx is Debian's package (scripts/services.sh installs
it), running the shipped server block with only its addresses and log directory rewritten,
inside a minimal main configuration of its own. Both run on free ports of 127.0.0.1, with their
logs in a temporary directory that the tests read.
"""

import dataclasses
import http.client
import json
import os
import pathlib
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse

from django.conf import settings

BASE_DIR = pathlib.Path(settings.BASE_DIR)
NGINX_CONF = BASE_DIR / "deploy" / "nginx.conf"
GUNICORN_CONF = BASE_DIR / "config" / "gunicorn.conf.py"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(check, *, timeout: float, what: str, process: subprocess.Popen | None = None, log=None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{what}: the process exited ({process.returncode}).\n{log.read() if log else ''}")
        if check():
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what}: not ready after {timeout} s.\n{log.read() if log else ''}")


def accepts_connections(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except OSError:
        return False
    return True


@dataclasses.dataclass
class LogFile:
    """A log a server writes; `mark()` and `since(mark)` give one test the lines it caused."""

    path: pathlib.Path

    def read(self) -> str:
        return self.path.read_text(errors="replace") if self.path.exists() else ""

    def mark(self) -> int:
        return self.path.stat().st_size if self.path.exists() else 0

    def since(self, mark: int) -> str:
        if not self.path.exists():
            return ""
        with self.path.open("rb") as file:
            file.seek(mark)
            return file.read().decode(errors="replace")

    def wait_for(self, *texts: str, since: int = 0, timeout: float = 5.0) -> str:
        """The log since `since`, once it contains every one of `texts`: servers write a line
        when they are done with a request, which may be just after the client has its answer."""
        deadline = time.monotonic() + timeout
        while True:
            written = self.since(since)
            if all(text in written for text in texts) or time.monotonic() > deadline:
                return written
            time.sleep(0.05)


# --------------------------------------------------------------------------------- nginx


def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None)
    if found is None:
        raise RuntimeError(
            "nginx is not installed. The proxy tests run the shipped deploy/nginx.conf with Debian's "
            "nginx package: run scripts/services.sh (make test does), which installs it."
        )
    return found


def _replace(text: str, old: str, new: str, *, count: int) -> str:
    found = text.count(old)
    if found != count:
        raise AssertionError(f"deploy/nginx.conf: expected {count}× {old!r}, found {found}; update the test's rewrite")
    return text.replace(old, new)


def nginx_server_config(*, listen_port: int, web_port: int, asgi_port: int, log_dir: pathlib.Path) -> str:
    """deploy/nginx.conf with only what differs between the compose network and this test:
    the listen address, the two upstream addresses and the log directory."""
    text = NGINX_CONF.read_text()
    text = _replace(text, "listen 8080;", f"listen 127.0.0.1:{listen_port};", count=1)
    text = _replace(text, "server web:8000;", f"server 127.0.0.1:{web_port};", count=1)
    text = _replace(text, "server asgi:8001;", f"server 127.0.0.1:{asgi_port};", count=1)
    found = text.count("/var/log/nginx/")
    if found == 0:
        raise AssertionError("deploy/nginx.conf: no log under /var/log/nginx/; update the test's rewrite")
    return text.replace("/var/log/nginx/", f"{log_dir}/")


def nginx_main_config(*, prefix: pathlib.Path, server_config: str) -> str:
    """A minimal main configuration around the server block, like the image's nginx.conf
    (which includes conf.d/*.conf inside `http`), with everything it writes under `prefix`."""
    # As root, nginx runs its workers as `nobody`, who could not enter the test's directories.
    user = f"user {pwd.getpwuid(os.geteuid()).pw_name};" if os.geteuid() == 0 else ""
    return f"""
{user}
daemon off;
worker_processes 1;
pid {prefix}/nginx.pid;
# The nginx image's level; Debian's default (error) logs less.
error_log {prefix}/logs/error.log notice;
events {{ worker_connections 256; }}
http {{
    default_type application/octet-stream;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
{server_config}
}}
"""


class Nginx:
    def __init__(self, *, prefix: pathlib.Path, web_port: int, asgi_port: int):
        self.prefix = prefix
        self.port = free_port()
        (prefix / "logs").mkdir(parents=True, exist_ok=True)
        self.conf = prefix / "nginx.conf"
        self.conf.write_text(
            nginx_main_config(
                prefix=prefix,
                server_config=nginx_server_config(
                    listen_port=self.port, web_port=web_port, asgi_port=asgi_port, log_dir=prefix / "logs"
                ),
            )
        )
        self.access_log = LogFile(prefix / "logs" / "access.log")
        self.error_log = LogFile(prefix / "logs" / "error.log")
        self.output = LogFile(prefix / "nginx.out")
        self.process: subprocess.Popen | None = None

    def _command(self, *extra: str) -> list[str]:
        return [nginx_binary(), "-p", str(self.prefix), "-c", str(self.conf), "-e", str(self.error_log.path), *extra]

    def start(self) -> None:
        checked = subprocess.run(self._command("-t"), capture_output=True, text=True, check=False)
        if checked.returncode != 0:
            raise RuntimeError(f"nginx refuses deploy/nginx.conf:\n{checked.stderr}")
        with self.output.path.open("ab") as out:
            self.process = subprocess.Popen(self._command(), stdout=out, stderr=subprocess.STDOUT)
        wait_until(
            lambda: accepts_connections(self.port),
            timeout=15,
            what="nginx",
            process=self.process,
            log=self.output,
        )

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)  # graceful: finish what is in flight
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


# ------------------------------------------------------------------------------ gunicorn


def database_url_for_tests() -> str:
    """DATABASE_URL pointing at pytest-django's test database (the fixture has set it up)."""
    url = urllib.parse.urlsplit(os.environ["DATABASE_URL"])
    return urllib.parse.urlunsplit(url._replace(path="/" + settings.DATABASES["default"]["NAME"]))


class Gunicorn:
    """config/gunicorn.conf.py with one sync worker, the test settings from the environment and
    pytest-django's test database; its access log enabled, Django's logs (JSON) on stderr."""

    def __init__(self, *, prefix: pathlib.Path):
        self.prefix = prefix
        self.port = free_port()
        self.access_log = LogFile(prefix / "gunicorn-access.log")
        self.output = LogFile(prefix / "gunicorn.out")  # gunicorn's error log and Django's logs
        self.process: subprocess.Popen | None = None

    def environment(self) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if key != "PROMETHEUS_MULTIPROC_DIR"}
        env.update(
            DATABASE_URL=database_url_for_tests(),
            GUNICORN_BIND=f"127.0.0.1:{self.port}",
            GUNICORN_WORKERS="1",
            GUNICORN_WORKER_CLASS="sync",
            GUNICORN_ACCESS_LOG=str(self.access_log.path),
            LOG_FORMAT="json",
            LOG_LEVEL="INFO",
        )
        return env

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        command = [sys.executable, "-m", "gunicorn", "config.wsgi:application", "-c", str(GUNICORN_CONF)]
        with self.output.path.open("ab") as out:
            self.process = subprocess.Popen(
                command, cwd=BASE_DIR, env=self.environment(), stdout=out, stderr=subprocess.STDOUT
            )
        wait_until(
            lambda: _answers(self.port, "/health/live/"),
            timeout=90,
            what="gunicorn",
            process=self.process,
            log=self.output,
        )

    def ensure_running(self) -> None:
        if not self.running:
            self.start()

    def stop(self) -> None:
        if self.running:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


def _answers(port: int, path: str) -> bool:
    try:
        return get(port, path, timeout=2).status == 200
    except OSError:
        return False


# ------------------------------------------------------------------------------ requests


@dataclasses.dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def content_type(self) -> str | None:
        return self.headers.get("Content-Type")

    def json(self):
        return json.loads(self.body)


def exchange(port: int, raw: bytes, *, timeout: float = 10) -> Response:
    """Send `raw` bytes as they are (malformed requests included) and read one answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(raw)
        answer = http.client.HTTPResponse(sock)
        answer.begin()
        return Response(answer.status, answer.headers, answer.read())


def request(
    port: int, method: str, path: str, *, body: bytes = b"", headers: dict | None = None, timeout: float = 10
) -> Response:
    headers = {"Host": f"127.0.0.1:{port}", "Connection": "close", **(headers or {})}
    lines = [f"{method} {path} HTTP/1.1"] + [f"{name}: {value}" for name, value in headers.items()]
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    return exchange(port, ("\r\n".join(lines) + "\r\n\r\n").encode() + body, timeout=timeout)


def get(port: int, path: str, **kwargs) -> Response:
    return request(port, "GET", path, **kwargs)

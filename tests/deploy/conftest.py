"""The production HTTP stack on 127.0.0.1: gunicorn (one sync worker) behind nginx, started
once per module; a test that stops gunicorn leaves it to be started again by the next one."""

import dataclasses
import pathlib
import shutil
import tempfile

import pytest

from tests.deploy.servers import Gunicorn, Nginx, free_port, nginx_binary


@pytest.fixture(scope="module")
def servers_dir():
    try:
        nginx_binary()
    except RuntimeError as exc:
        pytest.fail(str(exc))
    path = pathlib.Path(tempfile.mkdtemp(prefix="switchboard-proxy-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def gunicorn_server(django_db_setup, servers_dir):
    server = Gunicorn(prefix=servers_dir)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def nginx_server(gunicorn_server, servers_dir):
    # Nothing listens on the asgi upstream's port: these tests do not open websockets.
    server = Nginx(prefix=servers_dir, web_port=gunicorn_server.port, asgi_port=free_port())
    server.start()
    yield server
    server.stop()


@dataclasses.dataclass
class Hub:
    nginx: Nginx
    gunicorn: Gunicorn


@pytest.fixture
def hub(nginx_server, gunicorn_server) -> Hub:
    gunicorn_server.ensure_running()
    return Hub(nginx=nginx_server, gunicorn=gunicorn_server)

"""Calls released together from several threads, against the real database."""

import threading
from concurrent.futures import ThreadPoolExecutor

from django.db import connection

THREADS = 8


def all_at_once(call, n: int = THREADS) -> list:
    """Run `call` in n threads released together; each thread closes its own connection."""
    barrier = threading.Barrier(n)

    def run(_):
        try:
            barrier.wait()
            return call()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(run, range(n)))

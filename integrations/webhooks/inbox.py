"""The inbox: where received deliveries wait, a fraction of a second, to be written to the
database in batches (docs/webhooks.md, "Ingestion").

The receiving URL is what senders hammer. A row INSERT per delivery, with its commit, and a
Celery publish per delivery cost several times what the rest of the request does; one Redis
round trip instead — a Lua script that decides "duplicate or not", appends the delivery to a
stream and says whether a drain must be scheduled — lets one web process take several times
more deliveries. A Celery task (`drain_webhook_inbox`) then reads the stream through a
consumer group, writes each batch in one transaction and acknowledges it afterwards: a worker
that dies mid-batch leaves its entries pending, and the next drain claims them again
(`WebhookDelivery.inbox_id` makes writing them twice a no-op).

The inbox lives in the broker's Redis (WEBHOOKS_INBOX_URL, by default CELERY_BROKER_URL),
not in the cache's: a cache may evict keys under memory pressure, a broker must not, and it is
the Redis that runs with an append-only file in docker-compose.yml.
"""

import dataclasses
import functools
import json
import logging
import os
import socket

import redis
from django.conf import settings

logger = logging.getLogger(__name__)

GROUP = "persist"
# An entry a drain read but did not acknowledge this long ago belongs to a dead worker.
CLAIM_IDLE_MS = 60_000
# How long "a drain is scheduled" holds without one starting: a lost task costs this much delay
# at most, and the beat's periodic drain catches the rest.
DRAIN_SCHEDULED_SECONDS = 10

# KEYS: stream, drain-scheduled flag, seen-id key ("" when the delivery is not deduplicated).
# ARGV: the record (JSON), how long the id counts as seen, how long the drain flag holds, the
# most entries the inbox may hold (0: no limit).
# Returns {outcome, schedule a drain}, outcome 0 recorded, 1 duplicate (recorded as such), -1
# not recorded: the inbox is full. Deciding it all in one atomic step means two copies of a
# delivery cannot both be accepted, an id is never marked seen without its delivery recorded,
# and no entry waits for a drain that already finished (a drain clears the flag before it reads).
_PUSH = """
local schedule = 0
if redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[3]) then
  schedule = 1
end
local limit = tonumber(ARGV[4])
if limit > 0 and redis.call('XLEN', KEYS[1]) >= limit then
  return {-1, schedule}
end
local duplicate = 0
if KEYS[3] ~= '' and not redis.call('SET', KEYS[3], '1', 'NX', 'EX', ARGV[2]) then
  duplicate = 1
end
redis.call('XADD', KEYS[1], '*', 'r', ARGV[1], 'dup', duplicate)
return {duplicate, schedule}
"""


@dataclasses.dataclass(frozen=True)
class Pushed:
    recorded: bool  # False: the inbox is full (WEBHOOKS_INBOX_MAX_WAITING), nothing was written
    duplicate: bool
    drain_needed: bool


@dataclasses.dataclass(frozen=True)
class Entry:
    """One delivery read back from the stream: its stream id and the record as pushed."""

    entry_id: str
    record: dict | None  # None: unreadable, acknowledged without being written
    duplicate: bool


class RedisInbox:
    def __init__(self, url: str, prefix: str):
        self.client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5, decode_responses=True)
        self.stream = f"{prefix}:inbox"
        self.drain_flag = f"{prefix}:inbox:drain-scheduled"
        self.dead_letters = f"{prefix}:inbox:dead-letters"
        self.seen_prefix = f"{prefix}:seen:"
        self._push = self.client.register_script(_PUSH)
        self._group_ready = False

    def push(self, record: dict, *, seen_key: str = "", seen_seconds: int = 0) -> Pushed:
        """Append a record; with `seen_key`, as a duplicate when that key was seen within
        `seen_seconds`."""
        keys = [self.stream, self.drain_flag, self.seen_prefix + seen_key if seen_key else ""]
        outcome, drain_needed = self._push(
            keys=keys,
            args=[
                json.dumps(record, separators=(",", ":")),
                seen_seconds,
                DRAIN_SCHEDULED_SECONDS,
                settings.WEBHOOKS_INBOX_MAX_WAITING,
            ],
        )
        return Pushed(recorded=outcome >= 0, duplicate=outcome == 1, drain_needed=bool(drain_needed))

    def drain_unscheduled(self) -> None:
        """Called first by a drain: from now on a push schedules the next one."""
        self.client.delete(self.drain_flag)

    def forget_seen(self, seen_key: str) -> None:
        self.client.delete(self.seen_prefix + seen_key)

    def claim(self, *, count: int) -> list[Entry]:
        """Up to `count` entries for this consumer: first those a dead consumer left pending,
        then new ones."""
        self._group_ensure()
        try:
            stale = self.client.xautoclaim(self.stream, GROUP, _consumer(), CLAIM_IDLE_MS, "0-0", count=count)[1]
            raw = stale or [
                entry
                for _, entries in self.client.xreadgroup(GROUP, _consumer(), {self.stream: ">"}, count=count) or []
                for entry in entries
            ]
        except redis.ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            # The stream was deleted (emptied by hand, or a fresh Redis): start over.
            self._group_ready = False
            return self.claim(count=count)
        return [_entry(entry_id, fields) for entry_id, fields in raw]

    def ack(self, entry_ids: list[str]) -> None:
        """Acknowledge and delete written entries: the stream holds only what is still waiting."""
        if not entry_ids:
            return
        pipe = self.client.pipeline(transaction=False)
        pipe.xack(self.stream, GROUP, *entry_ids)
        pipe.xdel(self.stream, *entry_ids)
        pipe.execute()

    def dead_letter(self, entry: Entry) -> None:
        """Set aside an entry the database refuses, for an admin to look at; the drain goes on."""
        self.client.xadd(self.dead_letters, {"entry": entry.entry_id, "r": json.dumps(entry.record)})

    def waiting(self) -> int:
        """Entries not yet written to the database (read or not)."""
        return self.client.xlen(self.stream)

    def backlog(self) -> tuple[int, float]:
        """Entries waiting, and the age in seconds of the oldest (0 when none): a drain that
        stopped shows as a growing age."""
        pipe = self.client.pipeline(transaction=False)
        pipe.xlen(self.stream)
        pipe.xrange(self.stream, count=1)
        pipe.time()
        waiting, oldest, (seconds, micros) = pipe.execute()
        if not oldest:
            return waiting, 0.0
        # A stream entry id starts with its Redis-clock milliseconds: compared with Redis's clock.
        pushed_ms = int(oldest[0][0].split("-")[0])
        return waiting, max(0.0, seconds + micros / 1e6 - pushed_ms / 1000)

    def _group_ensure(self) -> None:
        if self._group_ready:
            return
        try:
            # From the start of the stream: entries pushed before the group existed count too.
            self.client.xgroup_create(self.stream, GROUP, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._group_ready = True


def _entry(entry_id: str, fields: dict) -> Entry:
    try:
        return Entry(entry_id=entry_id, record=json.loads(fields["r"]), duplicate=fields.get("dup") == "1")
    except (KeyError, TypeError, ValueError):
        # Nothing we push looks like this: say so, and let it not hold up every later drain.
        logger.error("webhook inbox entry unreadable, skipped", extra={"entry": entry_id})
        return Entry(entry_id=entry_id, record=None, duplicate=False)


def _consumer() -> str:
    # Not cached: a forked worker is a consumer of its own.
    return f"{socket.gethostname()}-{os.getpid()}"


@functools.cache
def _inbox_for(url: str, prefix: str) -> RedisInbox:
    return RedisInbox(url, prefix)


def inbox_get() -> RedisInbox | None:
    """This process's inbox, or None when WEBHOOKS_INBOX_URL is empty (no Redis: the embedded
    defaults), in which case each delivery is written to the database as it arrives."""
    url = settings.WEBHOOKS_INBOX_URL
    return _inbox_for(url, settings.WEBHOOKS_INBOX_PREFIX) if url else None

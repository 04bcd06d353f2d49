"""A circuit breaker per integration, its state shared by every process through Redis.

Closed: calls go through; each failed call (a retried call counts once) adds to a counter of
consecutive failures, a success resets it. At `INTEGRATIONS_BREAKER_FAIL_MAX` the circuit
opens: calls are refused without reaching the service until
`INTEGRATIONS_BREAKER_RESET_SECONDS` have passed. Then one caller, in any process, gets a
trial call (half-open) while the others are still refused; its success closes the circuit, its
failure opens it again. A trial whose process died is handed to another caller after a lease.

Why not pybreaker's CircuitRedisStorage: `CircuitBreaker.call` holds a process-wide lock for
the whole guarded call (danielfm/pybreaker#3, #55), which would serialize every concurrent
call to an integration within a process; it has no asyncio support (python-telegram-bot is
async); and its half-open state lets every process through at once. Here each transition is
one Lua script, atomic in Redis, and the happy path costs a single round trip.

Without REDIS_URL (embedded mode) the state lives in process memory, with the same rules.
If Redis fails, the breaker lets calls through (it must never be the outage itself).
"""

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import redis
from django.conf import settings
from prometheus_client.core import GaugeMetricFamily
from redis.backoff import NoBackoff
from redis.retry import Retry

from integrations.outbound import metrics

logger = logging.getLogger("integrations.outbound")

CLOSED = "closed"
HALF_OPEN = "half_open"
OPEN = "open"
STATE_VALUES = {CLOSED: 0, HALF_OPEN: 1, OPEN: 2}

# Breaker keys of an integration nobody calls any more disappear after this.
_KEY_TTL_SECONDS = 7 * 24 * 3600


@dataclass(frozen=True)
class Admission:
    """The breaker's answer to "may I call?"."""

    allowed: bool
    trial: bool = False
    # Refused: until when the circuit stays open (None: another caller's trial is running).
    open_until: float | None = None
    # Allowed while closed: consecutive failures so far (a success needs to reset them).
    failures: int = 0
    # The state this admission moved the circuit to, if it moved it.
    transition: str | None = None


class BreakerStore:
    """Where breaker states live; every method is one atomic step of the state machine."""

    def admit(self, integration: str, *, now: float, lease: float) -> Admission:
        raise NotImplementedError

    def success(self, integration: str, *, trial: bool) -> str | None:
        """Record a successful call; return the new state if the circuit changed."""
        raise NotImplementedError

    def failure(
        self, integration: str, *, now: float, fail_max: int, reset_seconds: float, trial: bool
    ) -> tuple[str, float] | None:
        """Record a failed call; return (new state, open until) if the circuit opened."""
        raise NotImplementedError

    def states(self) -> dict[str, str]:
        """State of every integration this store has seen (for the metrics gauge)."""
        raise NotImplementedError


class MemoryBreakerStore(BreakerStore):
    """Per-process state, for embedded mode (no Redis)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._circuits: dict[str, dict] = {}

    def _circuit(self, integration: str) -> dict:
        return self._circuits.setdefault(
            integration, {"state": CLOSED, "failures": 0, "open_until": 0.0, "trial_until": 0.0}
        )

    def admit(self, integration: str, *, now: float, lease: float) -> Admission:
        with self._lock:
            circuit = self._circuit(integration)
            if circuit["state"] == CLOSED:
                return Admission(allowed=True, failures=circuit["failures"])
            if circuit["state"] == OPEN:
                if now < circuit["open_until"]:
                    return Admission(allowed=False, open_until=circuit["open_until"])
                circuit.update(state=HALF_OPEN, trial_until=now + lease)
                return Admission(allowed=True, trial=True, transition=HALF_OPEN)
            if now < circuit["trial_until"]:
                return Admission(allowed=False)
            circuit["trial_until"] = now + lease
            return Admission(allowed=True, trial=True)

    def success(self, integration: str, *, trial: bool) -> str | None:
        with self._lock:
            circuit = self._circuit(integration)
            if circuit["state"] == CLOSED:
                circuit["failures"] = 0
            elif circuit["state"] == HALF_OPEN and trial:
                circuit.update(state=CLOSED, failures=0)
                return CLOSED
            return None

    def failure(
        self, integration: str, *, now: float, fail_max: int, reset_seconds: float, trial: bool
    ) -> tuple[str, float] | None:
        with self._lock:
            circuit = self._circuit(integration)
            open_until = now + reset_seconds
            if circuit["state"] == HALF_OPEN:
                if not trial:
                    return None
            elif circuit["state"] == OPEN:
                return None
            else:
                circuit["failures"] += 1
                if circuit["failures"] < fail_max:
                    return None
            circuit.update(state=OPEN, open_until=open_until)
            return OPEN, open_until

    def states(self) -> dict[str, str]:
        with self._lock:
            return {name: circuit["state"] for name, circuit in self._circuits.items()}


# KEYS[1] = the circuit's hash, KEYS[2] = the set of known integrations.
# ARGV: integration, now, lease, key ttl.
_ADMIT = """
redis.call('SADD', KEYS[2], ARGV[1])
local h = redis.call('HMGET', KEYS[1], 'state', 'failures', 'open_until', 'trial_until')
local state = h[1]
if not state or state == 'closed' then return {'closed', h[2] or '0'} end
local now = tonumber(ARGV[2])
if state == 'open' then
  if now < (tonumber(h[3]) or 0) then return {'open', h[3]} end
  redis.call('HSET', KEYS[1], 'state', 'half_open', 'trial_until', string.format('%.3f', now + tonumber(ARGV[3])))
  redis.call('EXPIRE', KEYS[1], ARGV[4])
  return {'trial', 'half_open'}
end
if now < (tonumber(h[4]) or 0) then return {'busy'} end
redis.call('HSET', KEYS[1], 'trial_until', string.format('%.3f', now + tonumber(ARGV[3])))
return {'trial'}
"""

# ARGV: trial ('1' or '0').
_SUCCESS = """
local h = redis.call('HMGET', KEYS[1], 'state', 'failures')
if not h[1] then return false end
if h[1] == 'closed' then
  if h[2] and h[2] ~= '0' then redis.call('HSET', KEYS[1], 'failures', 0) end
  return false
end
if h[1] == 'half_open' and ARGV[1] == '1' then
  redis.call('HSET', KEYS[1], 'state', 'closed', 'failures', 0)
  return 'closed'
end
return false
"""

# ARGV: now, reset seconds, fail max, trial ('1' or '0'), key ttl, integration.
_FAILURE = """
redis.call('SADD', KEYS[2], ARGV[6])
local state = redis.call('HGET', KEYS[1], 'state')
local open_until = string.format('%.3f', tonumber(ARGV[1]) + tonumber(ARGV[2]))
if state == 'open' then return false end
if state == 'half_open' then
  if ARGV[4] ~= '1' then return false end
else
  if not state then redis.call('HSET', KEYS[1], 'state', 'closed') end
  redis.call('EXPIRE', KEYS[1], ARGV[5])
  if redis.call('HINCRBY', KEYS[1], 'failures', 1) < tonumber(ARGV[3]) then return false end
end
redis.call('HSET', KEYS[1], 'state', 'open', 'open_until', open_until)
redis.call('EXPIRE', KEYS[1], ARGV[5])
return {'open', open_until}
"""


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class RedisBreakerStore(BreakerStore):
    """State shared by every process (gunicorn workers, Celery workers, bots) through Redis."""

    def __init__(self, client: redis.Redis, *, prefix: str = ""):
        self._redis = client
        self._prefix = f"{prefix}:outbound:" if prefix else "outbound:"
        self._admit = client.register_script(_ADMIT)
        self._success = client.register_script(_SUCCESS)
        self._failure = client.register_script(_FAILURE)

    def _key(self, integration: str) -> str:
        return f"{self._prefix}breaker:{integration}"

    @property
    def _known_key(self) -> str:
        return f"{self._prefix}breakers"

    def admit(self, integration: str, *, now: float, lease: float) -> Admission:
        try:
            answer = self._admit(
                keys=[self._key(integration), self._known_key],
                args=[integration, repr(now), repr(lease), _KEY_TTL_SECONDS],
            )
        except redis.RedisError as exc:
            logger.warning(
                "circuit breaker state unavailable, letting the call through: %s",
                exc.__class__.__name__,
                extra={"integration": integration},
            )
            return Admission(allowed=True)
        verdict = _text(answer[0])
        if verdict == "closed":
            return Admission(allowed=True, failures=int(_text(answer[1])))
        if verdict == "open":
            return Admission(allowed=False, open_until=float(_text(answer[1])))
        if verdict == "busy":
            return Admission(allowed=False)
        return Admission(allowed=True, trial=True, transition=_text(answer[1]) if len(answer) > 1 else None)

    def success(self, integration: str, *, trial: bool) -> str | None:
        try:
            answer = self._success(keys=[self._key(integration)], args=["1" if trial else "0"])
        except redis.RedisError:
            return None
        return _text(answer) if answer else None

    def failure(
        self, integration: str, *, now: float, fail_max: int, reset_seconds: float, trial: bool
    ) -> tuple[str, float] | None:
        try:
            answer = self._failure(
                keys=[self._key(integration), self._known_key],
                args=[
                    repr(now),
                    repr(float(reset_seconds)),
                    fail_max,
                    "1" if trial else "0",
                    _KEY_TTL_SECONDS,
                    integration,
                ],
            )
        except redis.RedisError:
            return None
        return (_text(answer[0]), float(_text(answer[1]))) if answer else None

    def states(self) -> dict[str, str]:
        names = sorted(_text(name) for name in self._redis.smembers(self._known_key))
        pipe = self._redis.pipeline(transaction=False)
        for name in names:
            pipe.hget(self._key(name), "state")
        return {name: _text(state) if state else CLOSED for name, state in zip(names, pipe.execute(), strict=True)}


def redis_client(url: str) -> redis.Redis:
    """Short timeouts and a single immediate retry: with Redis down, a call pays milliseconds
    for its breaker, not redis-py's default backoff of seconds."""
    return redis.Redis.from_url(
        url, socket_timeout=1.0, socket_connect_timeout=1.0, health_check_interval=30, retry=Retry(NoBackoff(), 1)
    )


_memory_store = MemoryBreakerStore()
_redis_stores: dict[str, RedisBreakerStore] = {}
_stores_lock = threading.Lock()


def get_store() -> BreakerStore:
    """The store of this process: Redis when REDIS_URL is set, process memory otherwise."""
    url = settings.REDIS_URL
    if not url:
        return _memory_store
    store = _redis_stores.get(url)
    if store is None:
        with _stores_lock:
            store = _redis_stores.get(url)
            if store is None:
                client = redis_client(url)
                prefix = settings.CACHES.get("default", {}).get("KEY_PREFIX", "")
                store = _redis_stores[url] = RedisBreakerStore(client, prefix=prefix)
    return store


class CircuitBreaker:
    """The breaker of one integration: a store, a clock and the settings, read at each call."""

    def __init__(self, integration: str, *, store: BreakerStore | None = None, clock: Callable[[], float] = time.time):
        self.integration = integration
        self._store = store
        self._clock = clock

    @property
    def store(self) -> BreakerStore:
        return self._store or get_store()

    def admit(self) -> Admission:
        admission = self.store.admit(
            self.integration, now=self._clock(), lease=float(settings.INTEGRATIONS_BREAKER_RESET_SECONDS)
        )
        if admission.transition:
            self._moved(admission.transition)
        return admission

    def record_success(self, admission: Admission) -> None:
        if not (admission.trial or admission.failures):
            return  # nothing to reset: saves a round trip on the happy path
        new_state = self.store.success(self.integration, trial=admission.trial)
        if new_state:
            self._moved(new_state)

    def record_failure(self, admission: Admission) -> None:
        opened = self.store.failure(
            self.integration,
            now=self._clock(),
            fail_max=max(1, settings.INTEGRATIONS_BREAKER_FAIL_MAX),
            reset_seconds=float(settings.INTEGRATIONS_BREAKER_RESET_SECONDS),
            trial=admission.trial,
        )
        if opened:
            self._moved(opened[0])

    def _moved(self, state: str) -> None:
        metrics.BREAKER_TRANSITIONS.labels(self.integration, state).inc()
        log = logger.warning if state == OPEN else logger.info
        log(
            "circuit of %s is now %s",
            self.integration,
            state,
            extra={"integration": self.integration, "breaker_state": state},
        )


class BreakerStateCollector:
    """switchboard_outbound_breaker_state{integration}: 0 closed, 1 half-open, 2 open.

    Read from the store when /metrics is scraped rather than kept as a per-process gauge: the
    state lives in Redis, so it is right whichever process serves /metrics, with no stale value
    left behind by an idle or dead worker."""

    def describe(self):
        # Registering calls describe(); without it the registry would call collect() at import.
        return [self._family()]

    def collect(self):
        family = self._family()
        try:
            states = get_store().states()
        except Exception as exc:  # a scrape must not fail because Redis does
            logger.warning("breaker states unavailable for /metrics: %s", exc.__class__.__name__)
            states = {}
        for integration, state in states.items():
            family.add_metric([integration], STATE_VALUES.get(state, 0))
        yield family

    @staticmethod
    def _family() -> GaugeMetricFamily:
        return GaugeMetricFamily(
            "switchboard_outbound_breaker_state",
            "Circuit breaker state per integration: 0 closed, 1 half-open, 2 open.",
            labels=["integration"],
        )


BREAKER_STATE = BreakerStateCollector()

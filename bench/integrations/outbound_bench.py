"""The outbound half of the integrations benchmark (bench/integrations/README.md): calls through
`integrations.outbound.request` against the local fake service (fake_service.py), with the real
Redis breaker and cache.

    python bench/integrations/outbound_bench.py run --fake http://127.0.0.1:8201 --run-dir DIR

(b1) mixed failures: calls from several processes × threads while the fake answers 30% 500,
     10% 429 (Retry-After 0 or 1), 2% 400: every call ends in a result or a clean
     OutboundError; the fake's log proves each attempt, retry and wait.
(b2) breaker: the fake fails 100% until the circuit has opened and a half-open trial has
     failed, then recovers: the timeline of transitions, the calls refused without reaching
     the fake, the single trial, the close.
(c)  cache hits: a cached read served from Redis, in-process, p50/p99.

The children (`mixed`, `breaker`) are this script started again: separate processes, as
gunicorn and Celery workers are, sharing the breaker only through Redis.
Writes check-*.json (figures + problems) and outbound-*.json (raw data) into the run dir;
exits 1 when a check fails.
"""

import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

import httpx  # noqa: E402
import redis  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.cache import cache  # noqa: E402

from integrations import outbound  # noqa: E402

MIXED, BREAKER, CACHED, UNCACHED = "bench_mixed", "bench_breaker", "bench_cache", "bench_nocache"
SCRIPT = Path(__file__).resolve()


# ----------------------------------------------------------------------------------- helpers


class _Transitions(logging.Handler):
    """Collects the breaker's own "circuit of X is now Y" records: exact transition times."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.seen: list[tuple[float, str, str]] = []

    def emit(self, record):
        state = getattr(record, "breaker_state", None)
        if state:
            self.seen.append((record.created, record.integration, state))


def _watch_transitions() -> _Transitions:
    handler = _Transitions()
    log = logging.getLogger("integrations.outbound")
    log.setLevel(logging.INFO)
    log.propagate = False  # one INFO line per call would flood the console
    log.handlers = [handler]
    return handler


def _call(integration: str, fake: str, route: str, call_id: str, **kwargs) -> dict:
    """One outbound call; how it ended, never an escaping exception."""
    started_at, started = time.time(), time.perf_counter()
    record = {"id": call_id, "start": started_at}
    try:
        result = outbound.request(
            integration=integration,
            operation="get",
            method="GET",
            url=f"{fake}{route}",
            params={"n": call_id},
            timeout=5,
            **kwargs,
        )
    except outbound.OutboundError as exc:
        record.update(outcome=type(exc).__name__, attempts=exc.attempts)
    except Exception as exc:  # what the layer must never let out
        record.update(outcome="unexpected", attempts=None, error=f"{type(exc).__name__}: {exc}"[:300])
    else:
        good = result.data == {"ok": True, "n": call_id}
        record.update(outcome="ok" if good else "wrong_data", attempts=result.attempts, source=result.source)
    record["end"] = time.time()
    record["ms"] = (time.perf_counter() - started) * 1000
    return record


def _control(fake: str, route: str, **mix) -> None:
    httpx.post(f"{fake}/_control", json={"route": route, **mix}, timeout=5).raise_for_status()


def _fake_log(fake: str, route: str) -> list:
    return httpx.get(f"{fake}/_log", params={"route": route}, timeout=30).json()


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


def _write_check(run_dir: Path, slug: str, name: str, figures: dict, problems: list[str]) -> bool:
    check = {"name": name, "ok": not problems, "figures": figures, "problems": problems}
    (run_dir / f"check-{slug}.json").write_text(json.dumps(check, indent=2) + "\n")
    print(f"{'ok  ' if not problems else 'FAIL'} {name}")
    for key, value in figures.items():
        print(f"     {key}: {value}")
    for problem in problems:
        print(f"     MISSED {problem}")
    return not problems


def _children(kind: str, fake: str, run_dir: Path, procs: int, extra: list[str]) -> list[dict]:
    outs = [run_dir / f"outbound-{kind}-{proc}.json" for proc in range(procs)]
    children = [
        subprocess.Popen(
            [sys.executable, str(SCRIPT), kind, "--fake", fake, "--proc", str(proc), "--out", str(out), *extra]
        )
        for proc, out in enumerate(outs)
    ]
    return [{"process": child, "out": out} for child, out in zip(children, outs, strict=True)]


def _collect(children: list[dict]) -> tuple[list[dict], list[tuple], list[str]]:
    calls, transitions, problems = [], [], []
    for child in children:
        code = child["process"].wait(timeout=120)
        if code != 0 or not child["out"].exists():
            problems.append(f"a child process exited with {code}")
            continue
        data = json.loads(child["out"].read_text())
        calls += data["calls"]
        transitions += [tuple(t) for t in data["transitions"]]
    return calls, sorted(transitions), problems


# ------------------------------------------------------------------------------ child modes


def child_mixed(args) -> int:
    watcher = _watch_transitions()
    ids = [f"m{args.proc}-{n}" for n in range(args.calls)]
    with ThreadPoolExecutor(max_workers=args.threads) as pool:
        calls = list(pool.map(lambda call_id: _call(MIXED, args.fake, "/svc/mixed", call_id), ids))
    args.out.write_text(json.dumps({"calls": calls, "transitions": watcher.seen}))
    return 0


def child_breaker(args) -> int:
    watcher = _watch_transitions()
    calls: list[dict] = []
    lock = threading.Lock()

    def loop(thread: int) -> None:
        n = 0
        while not args.stop_file.exists() and time.time() < args.deadline:
            record = _call(BREAKER, args.fake, "/svc/breaker", f"b{args.proc}-{thread}-{n}")
            with lock:
                calls.append(record)
            n += 1
            time.sleep(0.01)  # a steady stream of callers, not a busy loop on refusals

    threads = [threading.Thread(target=loop, args=(t,)) for t in range(args.threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    args.out.write_text(json.dumps({"calls": calls, "transitions": watcher.seen}))
    return 0


# ----------------------------------------------------------------------------------- (b1)


def bench_mixed(args) -> bool:
    _control(args.fake, "/svc/mixed", fail=0.30, rate_429=0.10, rate_400=0.02, retry_after=["0", "1"])
    started = time.perf_counter()
    children = _children(
        "mixed",
        args.fake,
        args.run_dir,
        args.procs,
        ["--calls", str(args.calls // args.procs), "--threads", str(args.threads)],
    )
    calls, transitions, problems = _collect(children)
    seconds = time.perf_counter() - started
    log = _fake_log(args.fake, "/svc/mixed")
    hits: dict[str, list] = defaultdict(list)
    for when, call_id, status, retry_after in log:
        hits[call_id].append((when, status, retry_after))

    outcomes = Counter(call["outcome"] for call in calls)
    attempts = Counter(call["attempts"] for call in calls if call["outcome"] != "unexpected")
    base = float(settings.INTEGRATIONS_RETRY_BASE_WAIT_SECONDS)
    max_attempts = int(settings.INTEGRATIONS_RETRY_ATTEMPTS)
    final_status = {
        "ok": 200,
        "IntegrationClientError": 400,
        "IntegrationServerError": 500,
        "IntegrationRateLimited": 429,
    }
    mismatched, waits_short, retry_after_waits, wrong_final = [], 0, [], 0
    for call in calls:
        seen = hits.get(call["id"], [])
        if call["attempts"] != len(seen):
            mismatched.append(call["id"])
            continue
        if seen and final_status.get(call["outcome"]) != seen[-1][1]:
            wrong_final += 1
        for k in range(1, len(seen)):
            gap = seen[k][0] - seen[k - 1][0]
            status, retry_after = seen[k - 1][1], seen[k - 1][2]
            if status == 429:
                wanted = float(retry_after)
                retry_after_waits.append((wanted, gap))
            else:
                wanted = base * 2 ** (k - 1)  # tenacity: base·2^(n-1) + jitter(0..base)
            if gap < wanted - 0.02:
                waits_short += 1
    retried_after = Counter(status for seen in hits.values() for _, status, _ in seen[:-1])
    waited_1s = [gap for wanted, gap in retry_after_waits if wanted == 1.0]
    figures = {
        "calls": len(calls),
        "processes x threads": f"{args.procs} x {args.threads}",
        "fake mix per attempt": "30% 500, 10% 429 (Retry-After 0|1), 2% 400, else 200",
        "outcomes": dict(outcomes.most_common()),
        "attempts per call": dict(sorted(attempts.items())),
        "retries": sum(n * (a - 1) for a, n in attempts.items() if a),
        "fake hits": len(log),
        "retried after status": dict(retried_after),
        "Retry-After 1 waits (min s)": round(min(waited_1s), 3) if waited_1s else None,
        "total s": round(seconds, 2),
        "calls/s": round(len(calls) / seconds, 1),
        "breaker transitions": [state for _, _, state in transitions],
    }
    if outcomes.get("unexpected"):
        samples = [call["error"] for call in calls if call["outcome"] == "unexpected"][:3]
        problems.append(f"{outcomes['unexpected']} calls raised something other than an OutboundError: {samples}")
    if outcomes.get("wrong_data"):
        problems.append(f"{outcomes['wrong_data']} calls returned another call's answer")
    if len(calls) != args.calls // args.procs * args.procs:
        problems.append(f"{len(calls)} calls reported")
    if mismatched:
        problems.append(f"{len(mismatched)} calls whose attempts differ from the fake's hits, e.g. {mismatched[:3]}")
    if wrong_final:
        problems.append(f"{wrong_final} calls whose outcome does not match the fake's last answer")
    if set(retried_after) - {500, 429}:
        problems.append(f"retried after {set(retried_after) - {500, 429}} (only 5xx and 429 may be retried)")
    if waits_short:
        problems.append(f"{waits_short} retries came sooner than the backoff or Retry-After asked")
    if max(attempts, default=0) > max_attempts:
        problems.append(f"a call made more than {max_attempts} attempts")
    if len(log) != sum(call["attempts"] or 0 for call in calls):
        problems.append(f"the fake saw {len(log)} requests, the calls report {sum(c['attempts'] or 0 for c in calls)}")
    return _write_check(args.run_dir, "b1-mixed", "outbound (b1): 30% failing service", figures, problems)


# ----------------------------------------------------------------------------------- (b2)


def _breaker_hash(client: redis.Redis) -> dict:
    """The circuit's state as the breaker keeps it in Redis (key layout: docs/outbound.md)."""
    prefix = settings.CACHES["default"].get("KEY_PREFIX", "")
    return client.hgetall(f"{prefix}:outbound:breaker:{BREAKER}")


def bench_breaker(args) -> bool:
    reset = float(settings.INTEGRATIONS_BREAKER_RESET_SECONDS)
    stop_file = args.run_dir / "breaker.stop"
    stop_file.unlink(missing_ok=True)
    _control(args.fake, "/svc/breaker", fail=1.0)
    t0 = time.time()
    children = _children(
        "breaker",
        args.fake,
        args.run_dir,
        args.procs,
        ["--threads", "3", "--stop-file", str(stop_file), "--deadline", str(t0 + 30)],
    )
    events = [(t0, "fake fails 100%")]
    client = redis.Redis.from_url(settings.REDIS_URL, decode_responses=True)
    opens, recovered_at, closed_at = set(), None, None
    while time.time() < t0 + 28:
        state = _breaker_hash(client)
        now = time.time()
        if state.get("state") == "open":
            opens.add(state.get("open_until"))
        if recovered_at is None and len(opens) >= 2:  # opened, and a half-open trial failed since
            _control(args.fake, "/svc/breaker", fail=0.0)
            recovered_at = now
            events.append((now, "fake recovers"))
        if recovered_at and closed_at is None and state.get("state") == "closed":
            closed_at = now
        if closed_at and now > closed_at + 1.0:
            break
        time.sleep(0.02)
    stop_file.touch()
    calls, transitions, problems = _collect(children)
    log = _fake_log(args.fake, "/svc/breaker")
    events.append((time.time(), "stop"))

    def hits_between(start: float, end: float) -> list:
        return [entry for entry in log if start < entry[0] < end]

    # A transition is logged by the caller that made it, after Redis changed and before that
    # caller's own request (a trial's hits come after its "half_open"). Fake hits are what
    # matter: none while open once earlier calls finished, one caller's while half-open.
    timeline = sorted([(t, f"circuit {state}") for t, _, state in transitions] + events)
    intervals = []
    for k, (t, _, state) in enumerate(transitions):
        end = transitions[k + 1][0] if k + 1 < len(transitions) else time.time()
        window = [c for c in calls if t <= c["start"] < end]
        entry = {"state": state, "at_s": round(t - t0, 3), "for_s": round(end - t, 3), "calls": len(window)}
        if state == "open":
            # Calls admitted before it opened finish their retries: the fake must then hear nothing.
            in_flight = [c["end"] for c in calls if c["start"] < t < c["end"]]
            settled = max([t, *in_flight])
            leaked = hits_between(settled, end)
            entry.update(
                refused=sum(1 for c in window if c["outcome"] == "IntegrationUnavailable"),
                in_flight_until_s=round(settled - t, 3),
                fake_hits_after=len(leaked),
            )
            if leaked:
                problems.append(f"the fake was called {len(leaked)} times while the circuit was open")
        elif state == "half_open":
            # The trial is the first caller the fake hears from; nobody else may reach it before
            # the trial's last attempt (only after its answer is the circuit closed or open).
            hits = hits_between(t, end + 0.5)
            trial_id = hits[0][1] if hits else None
            trial_hits = [hit for hit in hits if hit[1] == trial_id]
            others = [hit for hit in hits if hit[1] != trial_id and hit[0] < trial_hits[-1][0]] if hits else []
            trial = next((c for c in calls if c["id"] == trial_id), None)
            entry.update(
                trial_attempts=len(trial_hits),
                trial_outcome=trial["outcome"] if trial else None,
                other_callers_during_trial=len({hit[1] for hit in others}),
            )
            if not trial_hits:
                problems.append("a half-open period without a trial call")
            if others:
                problems.append(f"{len(others)} requests of other callers reached the fake during a half-open trial")
        intervals.append(entry)

    states = [state for _, _, state in transitions]
    outcomes = Counter(c["outcome"] for c in calls)
    after_close = [c for c in calls if transitions and states[-1] == "closed" and c["start"] > transitions[-1][0]]
    refused_ms = [c["ms"] for c in calls if c["outcome"] == "IntegrationUnavailable"]
    figures = {
        "fail max / reset s": f"{settings.INTEGRATIONS_BREAKER_FAIL_MAX} / {reset:g}",
        "callers": f"{args.procs} processes x 3 threads",
        "calls": len(calls),
        "outcomes": dict(outcomes.most_common()),
        "refused p50/p99 ms": f"{_percentile(refused_ms, 50):.2f} / {_percentile(refused_ms, 99):.2f}"
        if refused_ms
        else None,
        "fake hits / attempts": f"{len(log)} / {sum(c['attempts'] or 0 for c in calls)}",
        "transitions": " → ".join(states),
        "closed after recovery in s": round(transitions[-1][0] - recovered_at, 2)
        if recovered_at and transitions
        else None,
        "ok calls after close": sum(1 for c in after_close if c["outcome"] == "ok"),
    }
    if "open" not in states:
        problems.append("the circuit never opened while the service failed every call")
    if not any(a == "half_open" and b == "open" for a, b in zip(states, states[1:], strict=False)):
        problems.append("no failed half-open trial re-opened the circuit")
    if states[-2:] != ["half_open", "closed"]:
        problems.append(f"the circuit did not close after a half-open trial once the service recovered ({states[-2:]})")
    elif transitions[-1][0] - recovered_at > reset + 1.5:
        problems.append("the circuit closed later than its reset timeout after recovery")
    if any(c["outcome"] != "ok" for c in after_close) or not after_close:
        problems.append("calls after the circuit closed did not all succeed")
    if any(c["attempts"] for c in calls if c["outcome"] == "IntegrationUnavailable"):
        problems.append("a call refused by the breaker made an attempt")
    if outcomes.get("unexpected"):
        problems.append(f"{outcomes['unexpected']} calls raised something other than an OutboundError")
    if len(log) != sum(c["attempts"] or 0 for c in calls):
        problems.append("the fake's hits differ from the attempts the calls report")
    (args.run_dir / "outbound-breaker-timeline.json").write_text(
        json.dumps({"timeline": [(round(t - t0, 3), what) for t, what in timeline], "intervals": intervals}, indent=1)
    )
    print("breaker timeline (s since the fake started failing):")
    for t, what in timeline:
        print(f"     {t - t0:7.3f}  {what}")
    for entry in intervals:
        print(f"     {entry}")
    return _write_check(args.run_dir, "b2-breaker", "outbound (b2): circuit breaker", figures, problems)


# ------------------------------------------------------------------------------------ (c)


def bench_cache(args) -> bool:
    problems = []
    _control(args.fake, "/svc/cached")
    warm = _call(CACHED, args.fake, "/svc/cached", "c", cache_ttl=600)
    if warm.get("source") != "api":
        problems.append(f"the first call was not answered by the service: {warm}")
    latencies, sources = [], Counter()
    for _ in range(args.cache_calls):
        started = time.perf_counter()
        result = outbound.request(
            integration=CACHED,
            operation="get",
            method="GET",
            url=f"{args.fake}/svc/cached",
            params={"n": "c"},
            timeout=5,
            cache_ttl=600,
        )
        latencies.append((time.perf_counter() - started) * 1000)
        sources[(result.source, result.stale, result.data == {"ok": True, "n": "c"})] += 1
    # For scale: the same call uncached (breaker + HTTP to the fake), and a bare cache read.
    api_ms = [_call(UNCACHED, args.fake, "/svc/cached", f"u{n}")["ms"] for n in range(args.cache_calls // 10)]
    cache.set("benchint:probe", b"x" * 200, 60)
    bare_ms = []
    for _ in range(args.cache_calls):
        started = time.perf_counter()
        cache.get("benchint:probe")
        bare_ms.append((time.perf_counter() - started) * 1000)
    hits = httpx.get(f"{args.fake}/_stats", timeout=5).json()["hits"]
    figures = {
        "cache hits": args.cache_calls,
        "hit p50 / p99 / max ms": (
            f"{_percentile(latencies, 50):.3f} / {_percentile(latencies, 99):.3f} / {max(latencies):.3f}"
        ),
        "hit mean ms": round(statistics.fmean(latencies), 3),
        "uncached call p50 / p99 ms": f"{_percentile(api_ms, 50):.3f} / {_percentile(api_ms, 99):.3f}",
        "bare cache.get p50 / p99 ms": f"{_percentile(bare_ms, 50):.3f} / {_percentile(bare_ms, 99):.3f}",
        "fake hits for the cached read": hits.get("/svc/cached", 0) - len(api_ms),
    }
    if sources != Counter({("cache", False, True): args.cache_calls}):
        problems.append(f"cache hits answered {dict(sources)}")
    if hits.get("/svc/cached", 0) - len(api_ms) != 1:
        problems.append("the cached read reached the service more than once")
    (args.run_dir / "outbound-cache-latencies.json").write_text(json.dumps([round(v, 4) for v in latencies]))
    return _write_check(args.run_dir, "c-cache", "outbound (c): cache hit latency, in-process", figures, problems)


def run(args) -> int:
    args.run_dir.mkdir(parents=True, exist_ok=True)
    httpx.post(f"{args.fake}/_reset", timeout=5).raise_for_status()
    ok = bench_mixed(args)
    ok = bench_breaker(args) and ok
    ok = bench_cache(args) and ok
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("run")
    p.add_argument("--fake", required=True)
    p.add_argument("--run-dir", type=Path, required=True)
    p.add_argument("--calls", type=int, default=600)
    p.add_argument("--procs", type=int, default=2)
    p.add_argument("--threads", type=int, default=8)
    p.add_argument("--cache-calls", type=int, default=5000)
    p = sub.add_parser("mixed")
    p.add_argument("--fake", required=True)
    p.add_argument("--proc", type=int, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--calls", type=int, required=True)
    p.add_argument("--threads", type=int, required=True)
    p = sub.add_parser("breaker")
    p.add_argument("--fake", required=True)
    p.add_argument("--proc", type=int, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--stop-file", type=Path, required=True)
    p.add_argument("--deadline", type=float, required=True)
    args = parser.parse_args()
    return {"run": run, "mixed": child_mixed, "breaker": child_breaker}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())

"""The arithmetic of a fault experiment, from what was seen outside the hub (no Django here).

Three records go in, each kept by something that is not the hub's code:
- the load generator's line per request (`load.py`): its key (a MAC or a delivery id), its
  status or socket error;
- what the database holds at the end: which keys were committed, and the event each became
  (`committed`: key → event id; for devices the MAC → its device_id);
- what the fake Telegram received: every message's time and text, turned into the event it
  announces by the text template the connection renders (`messages`: event id → arrival times).

An event the hub owes a message for — a committed one, and for webhooks also every delivery
answered 2xx, whose sender will never send it again — is *expected*. It is *processed* with at
least one message, *duplicated* with more than one, *lost* with none once recovery had its time.
A request answered with anything but 2xx (or no answer at all) whose key was committed is
*committed but answered an error*: the client will retry, or give up on work that was done.
The converse, a 2xx whose key is not in the database at the end, is *acknowledged, not stored*.
"""

from collections import Counter


def is_success(status: int | None) -> bool:
    return status is not None and 200 <= status < 300


def experiment_figures(
    *,
    requests: list[dict],
    committed: dict[str, str],
    messages: dict[str, list[float]],
    unmatched_messages: int,
    acknowledged_is_commitment: bool,
    fault_end: float,
) -> dict:
    """Every figure of one experiment's line (see the module's docstring)."""
    acknowledged = [r for r in requests if is_success(r["status"])]
    errors = Counter(str(r["status"]) for r in requests if r["status"] is not None and not is_success(r["status"]))
    socket_errors = Counter(r["error"].split(":", 1)[0] for r in requests if r["status"] is None)

    expected = set(committed.values())
    if acknowledged_is_commitment:
        expected |= {committed.get(r["key"], r["key"]) for r in acknowledged}
    arrivals = {event: sorted(times) for event, times in messages.items() if times}
    processed = expected & set(arrivals)
    duplicated = {event for event in processed if len(arrivals[event]) > 1}
    lost = expected - processed
    unexpected = sum(len(times) for event, times in arrivals.items() if event not in expected) + unmatched_messages

    failed = [r for r in requests if not is_success(r["status"])]
    committed_but_error = [r for r in failed if r["key"] in committed]
    acknowledged_not_stored = [r for r in acknowledged if r["key"] not in committed]
    # Outstanding at the end of the fault: the events of the requests sent before it ended.
    sent_before_end = {committed.get(r["key"], r["key"]) for r in requests if r["sent"] <= fault_end}
    outstanding = expected & sent_before_end
    recovery = None
    if not lost:
        last = max((arrivals[event][0] for event in outstanding), default=fault_end)
        recovery = max(0.0, last - fault_end)
    sent_at = {committed.get(r["key"], r["key"]): r["sent"] for r in requests}
    delays = [arrivals[event][0] - sent_at[event] for event in processed if event in sent_at]
    last_message = max((times[-1] for times in arrivals.values()), default=None)
    span = max(r["sent"] for r in requests) - min(r["sent"] for r in requests) if requests else 0
    return {
        "sent": len(requests),
        "rate_achieved": round((len(requests) - 1) / span, 1) if span > 0 else None,
        "acknowledged": len(acknowledged),
        "errors": dict(sorted(errors.items())),
        "socket_errors": dict(sorted(socket_errors.items())),
        "stored": len(committed),
        "expected": len(expected),
        "processed": len(processed),
        "duplicated": len(duplicated),
        "extra_messages": sum(len(arrivals[event]) - 1 for event in duplicated),
        "unexpected_messages": unexpected,
        "lost": len(lost),
        "committed_but_error": len(committed_but_error),
        "acknowledged_not_stored": len(acknowledged_not_stored),
        "committed_but_error_statuses": dict(
            sorted(Counter(str(r["status"] or "socket error") for r in committed_but_error).items())
        ),
        "recovery_seconds": None if recovery is None else round(recovery, 1),
        "worst_delay_seconds": round(max(delays), 1) if delays else None,
        "last_message_after_fault_seconds": None if last_message is None else round(last_message - fault_end, 1),
        "lost_events": sorted(lost),
        "duplicated_events": sorted(duplicated),
        "committed_but_error_keys": sorted(r["key"] for r in committed_but_error),
    }


def _counts(counter: dict) -> str:
    return ", ".join(f"{label} × {n}" for label, n in counter.items()) or "none"


def experiment_line(name: str, figures: dict, *, waited: float) -> str:
    """The experiment's one printed line."""
    if figures["recovery_seconds"] is not None:
        recovery = f"recovery {figures['recovery_seconds']:g} s"
    else:
        recovery = f"recovery: not within {waited:g} s, {figures['lost']} still missing"
        if figures["last_message_after_fault_seconds"] is not None:
            recovery += f" (the last message came {figures['last_message_after_fault_seconds']:g} s after the fault)"
    parts = [
        f"sent {figures['sent']}",
        f"acknowledged {figures['acknowledged']}",
        f"errors {_counts(figures['errors'])}",
        f"socket errors {_counts(figures['socket_errors'])}",
        f"stored {figures['stored']}",
        f"processed {figures['processed']}",
        f"duplicated {figures['duplicated']}",
        f"lost {figures['lost']}",
        f"committed but answered an error {figures['committed_but_error']}",
        recovery,
    ]
    return f"{name}: " + " / ".join(parts)


def experiment_problems(figures: dict) -> list[str]:
    problems = []
    for name in ("lost", "duplicated", "committed_but_error", "unexpected_messages", "acknowledged_not_stored"):
        if figures[name]:
            problems.append(f"{name.replace('_', ' ')}: {figures[name]}")
    return problems

"""The fault harness's arithmetic (bench/faults/figures.py): what counts as lost, duplicated,
committed but answered an error, and when recovery ended. A harness that miscounts would pass
a hub that loses work, so its definitions are pinned here on hand-made records."""

import importlib.util
from pathlib import Path

import pytest

_PATH = Path(__file__).resolve().parents[2] / "bench" / "faults" / "figures.py"
_spec = importlib.util.spec_from_file_location("fault_figures", _PATH)
figures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(figures)

FAULT_END = 100.0


def request(key, status, sent=90.0, error=None):
    return {"i": 0, "key": key, "sent": sent, "done": sent + 0.1, "status": status, "error": error, "body": None}


def measure(requests, committed, messages, *, webhooks=False, unmatched=0):
    return figures.experiment_figures(
        requests=requests,
        committed=committed,
        messages=messages,
        unmatched_messages=unmatched,
        acknowledged_is_commitment=webhooks,
        fault_end=FAULT_END,
    )


def test_every_registration_stored_and_announced_once_is_clean():
    result = measure(
        [request("mac-a", 201), request("mac-b", 201)],
        {"mac-a": "dev-a", "mac-b": "dev-b"},
        {"dev-a": [95.0], "dev-b": [96.0]},
    )
    assert (result["sent"], result["acknowledged"], result["stored"], result["processed"]) == (2, 2, 2, 2)
    assert (result["lost"], result["duplicated"], result["committed_but_error"]) == (0, 0, 0)
    assert figures.experiment_problems(result) == []


def test_a_registration_answered_500_whose_device_exists_is_committed_but_error_and_still_owed_a_message():
    result = measure([request("mac-a", 500)], {"mac-a": "dev-a"}, {})
    assert result["errors"] == {"500": 1}
    assert result["committed_but_error"] == 1
    assert result["lost"] == 1
    assert result["recovery_seconds"] is None


def test_a_refused_registration_that_stored_nothing_is_owed_nothing():
    result = measure([request("mac-a", 500)], {}, {})
    assert (result["errors"], result["stored"], result["lost"], result["committed_but_error"]) == ({"500": 1}, 0, 0, 0)


def test_socket_errors_are_counted_apart_from_statuses_and_committed_work_behind_one_is_an_error():
    result = measure(
        [request("mac-a", None, error="ConnectionResetError: reset"), request("mac-b", None, error="timeout: x")],
        {"mac-a": "dev-a"},
        {"dev-a": [101.0]},
    )
    assert result["errors"] == {}
    assert result["socket_errors"] == {"ConnectionResetError": 1, "timeout": 1}
    assert result["committed_but_error_statuses"] == {"socket error": 1}


def test_two_messages_for_one_event_are_one_duplicated_event():
    result = measure([request("mac-a", 201)], {"mac-a": "dev-a"}, {"dev-a": [101.0, 130.0]})
    assert (result["processed"], result["duplicated"], result["extra_messages"]) == (1, 1, 1)
    assert figures.experiment_problems(result) == ["duplicated: 1"]


def test_a_webhook_acknowledged_but_never_stored_is_lost_and_flagged():
    result = measure(
        [request("msg-1", 202), request("msg-2", 202)], {"msg-1": "msg-1"}, {"msg-1": [99.0]}, webhooks=True
    )
    assert result["expected"] == 2
    assert (result["lost"], result["acknowledged_not_stored"]) == (1, 1)
    assert result["lost_events"] == ["msg-2"]


def test_messages_for_events_nobody_caused_are_unexpected():
    result = measure([request("mac-a", 201)], {"mac-a": "dev-a"}, {"dev-a": [99.0], "dev-z": [99.5]}, unmatched=1)
    assert result["unexpected_messages"] == 2


@pytest.mark.parametrize(
    ("arrivals", "recovery"),
    [
        ({"dev-a": [95.0], "dev-b": [97.0]}, 0.0),  # all announced before the fault ended
        ({"dev-a": [95.0], "dev-b": [142.25]}, 42.2),  # the last outstanding one, 42.25 s after
        ({"dev-a": [150.0, 103.0], "dev-b": [104.0]}, 4.0),  # the first arrival counts, not a duplicate
    ],
)
def test_recovery_ends_with_the_first_message_of_the_last_event_outstanding_at_the_fault_end(arrivals, recovery):
    result = measure([request("mac-a", 201), request("mac-b", 201)], {"mac-a": "dev-a", "mac-b": "dev-b"}, arrivals)
    assert result["recovery_seconds"] == recovery


def test_events_sent_after_the_fault_do_not_stretch_recovery_but_show_in_the_worst_delay():
    result = measure(
        [request("mac-a", 201, sent=90.0), request("mac-b", 201, sent=200.0)],
        {"mac-a": "dev-a", "mac-b": "dev-b"},
        {"dev-a": [110.0], "dev-b": [260.0]},
    )
    assert result["recovery_seconds"] == 10.0
    assert result["worst_delay_seconds"] == 60.0


def test_the_line_names_every_figure():
    result = measure([request("mac-a", 500)], {"mac-a": "dev-a"}, {})
    line = figures.experiment_line("2 redis stopped", result, waited=300)
    assert line == (
        "2 redis stopped: sent 1 / acknowledged 0 / errors 500 × 1 / socket errors none / stored 1 / processed 0 / "
        "duplicated 0 / lost 1 / committed but answered an error 1 / recovery: not within 300 s, 1 still missing"
    )


def test_a_line_that_gives_up_says_when_the_last_message_came():
    result = measure(
        [request("mac-a", 201), request("mac-b", 201)], {"mac-a": "dev-a", "mac-b": "dev-b"}, {"dev-a": [130.0]}
    )
    line = figures.experiment_line("1 worker killed", result, waited=240)
    assert line.endswith("recovery: not within 240 s, 1 still missing (the last message came 30 s after the fault)")

"""Print the benchmark's figures and verdict from a run directory, and save them there.

    python bench/report.py [--table-only] RUN_DIR

Reads the wrk summaries (scenario-*.json, written by bench/lua/lib.lua; several rounds of one
scenario are summed into one row) and the database checks
(check-*.json, written by bench/fleet.py); writes summary.txt and summary.json beside them.
"CPU µs" is the server's CPU time (its processes, user + system) per request: other load on the
machine moves it much less than requests per second, so its ratios are the steadier reading of
what an endpoint costs against the ceiling. The target is judged on requests per second.

Exits 1 when a target is missed. With --table-only (the server comparison) it prints the
figures and judges nothing.
"""

import argparse
import json
import os
import statistics
import sys
from pathlib import Path

TARGET_RATIO = float(os.environ.get("BENCH_TARGET_RATIO", "0.6"))
CEILING, CONFIG = "ceiling", "config"


def _load(run_dir: Path, pattern: str) -> list[dict]:
    return [json.loads(path.read_text()) for path in sorted(run_dir.glob(pattern))]


def _merge(runs: list[dict]) -> list[dict]:
    """One row per scenario: its rounds summed (rate over their total time); the median round's
    p50 and the worst round's p99 and max."""
    by_name: dict[str, list[dict]] = {}
    for run in runs:
        by_name.setdefault(run["name"], []).append(run)
    merged = []
    for name, rounds in by_name.items():
        seconds = sum(r["seconds"] for r in rounds)
        requests = sum(r["requests"] for r in rounds)
        statuses: dict[str, int] = {}
        socket_errors: dict[str, int] = {}
        for r in rounds:
            for code, n in r["statuses"].items():
                statuses[code] = statuses.get(code, 0) + n
            for kind, n in r["socket_errors"].items():
                socket_errors[kind] = socket_errors.get(kind, 0) + n
        quotas = [r["quota"] for r in rounds]
        cpu = sum(r.get("server_cpu_seconds", 0.0) for r in rounds)
        merged.append(
            {
                "name": name,
                "rounds": len(rounds),
                "seconds": round(seconds, 3),
                "requests": requests,
                "server_cpu_us": round(cpu / requests * 1e6) if requests else 0,
                "quota": None if None in quotas else sum(quotas),
                "rps": round(requests / seconds, 1) if seconds else 0.0,
                "p50_ms": statistics.median(r["p50_ms"] for r in rounds),
                "p99_ms": max(r["p99_ms"] for r in rounds),
                "max_ms": max(r["max_ms"] for r in rounds),
                "statuses": statuses,
                "unexpected": sum(r["unexpected"] for r in rounds),
                "socket_errors": socket_errors,
            }
        )
    return merged


def _socket_errors(scenario: dict) -> int:
    return sum(scenario["socket_errors"].values())


def _scenario_problems(scenario: dict) -> list[str]:
    problems = []
    if scenario["unexpected"]:
        problems.append(f"{scenario['unexpected']} responses with an unexpected status")
    if _socket_errors(scenario):
        problems.append(f"socket errors {scenario['socket_errors']}")
    if scenario["quota"] is not None and scenario["requests"] != scenario["quota"]:
        problems.append(f"{scenario['requests']} of {scenario['quota']} requests answered")
    if scenario["name"] == "register-race":
        # Each MAC twice at once: exactly one of the two creates it (201), the other finds it (200).
        pairs = scenario["quota"] // 2
        created, found = scenario["statuses"].get("201", 0), scenario["statuses"].get("200", 0)
        if (created, found) != (pairs, pairs):
            problems.append(f"{created} created + {found} found again, expected {pairs} + {pairs}")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--table-only", action="store_true")
    parser.add_argument("run_dir", type=Path)
    args = parser.parse_args()
    run_dir = args.run_dir
    runs = _load(run_dir, "scenario-*.json")
    scenarios = _merge(runs)
    checks = _load(run_dir, "check-*.json")
    lines = [
        f"{'scenario':<21}{'rounds':>7}{'requests':>9}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>8}"
        f"{'CPU µs':>8}  {'statuses':<21}{'unexpected':>11}{'sock.err':>9}",
    ]
    problems = []
    for s in scenarios:
        statuses = " ".join(f"{code}:{n}" for code, n in sorted(s["statuses"].items()))
        lines.append(
            f"{s['name']:<21}{s['rounds']:>7}{s['requests']:>9}{s['rps']:>8.0f}{s['p50_ms']:>9.2f}{s['p99_ms']:>9.2f}"
            f"{s['max_ms']:>8.1f}{s['server_cpu_us']:>8}  {statuses:<21}{s['unexpected']:>11}{_socket_errors(s):>9}"
        )
        problems += [f"{s['name']}: {problem}" for problem in _scenario_problems(s)]
    if args.table_only:
        text = "\n".join(lines) + "\n"
        print(text, end="")
        (run_dir / "summary.txt").write_text(text)
        return 0
    lines.append("")
    for check in checks:
        figures = ", ".join(f"{name} {value}" for name, value in check["figures"].items())
        lines.append(f"{'ok  ' if check['ok'] else 'FAIL'} {check['name']}: {figures}")
        problems += [f"{check['name']}: {problem}" for problem in check["problems"]]

    by_name = {s["name"]: s for s in scenarios}
    ratios = {}
    if CEILING in by_name and CONFIG in by_name:
        ceiling = by_name[CEILING]
        lines.append("")
        lines.append(
            f"ceiling (GET /health/live/): {ceiling['rps']:.0f} req/s, {ceiling['server_cpu_us']} µs of server CPU each"
        )
        lines.append(f"  {'':<11}   req/s   server CPU per request (ceiling's / this one's)")
        for name in ("topics", CONFIG, "config-304"):
            if name in by_name:
                ratios[name] = by_name[name]["rps"] / ceiling["rps"]
                cpu = by_name[name]["server_cpu_us"]
                cpu_ratio = f"{ceiling['server_cpu_us'] / cpu:.0%}" if cpu else "-"
                lines.append(f"  {name:<11} {ratios[name]:>6.0%}   {cpu_ratio:>6}")
        if ratios[CONFIG] < TARGET_RATIO:
            problems.append(f"config fetch at {ratios[CONFIG]:.0%} of the ceiling, target {TARGET_RATIO:.0%}")
    else:
        problems.append("the ceiling or the config fetch did not run")

    lines.append("")
    lines += [f"MISSED {problem}" for problem in problems] or ["all targets met"]
    text = "\n".join(lines) + "\n"
    print(text, end="")
    (run_dir / "summary.txt").write_text(text)
    summary = {"scenarios": scenarios, "runs": runs, "checks": checks, "ratios_to_ceiling": ratios}
    summary["problems"] = problems
    (run_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

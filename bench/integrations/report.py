"""Print the integrations benchmark's figures and verdict from a run directory, and save them.

    python bench/integrations/report.py RUN_DIR

Reads the wrk summaries (scenario-*.json, bench/lua/lib.lua) and the checks
(check-*.json, webhooks.py and outbound_bench.py); writes summary.txt and summary.json. Exits 1
when a check failed or is missing, or when webhook ingestion is under BENCH_INT_TARGET_RATIO
(0.5) of the ceiling.
"""

import argparse
import json
import os
import sys
from pathlib import Path

TARGET_RATIO = float(os.environ.get("BENCH_INT_TARGET_RATIO", "0.5"))
CHECKS = {
    "a1-ingested": "(a) 202 answers = accepted entries in the inbox, a drain scheduled",
    "a2-resent": "(a) re-sent ids answer 200 duplicate",
    "a3-processed": "(a) worker writes every entry once, processes each delivery once",
    "b1-mixed": "(b) calls against a 30% failing service",
    "b2-breaker": "(b) breaker opens, tries, closes",
    "c-cache": "(c) cache hit latency in-process",
}


def _load(run_dir: Path, pattern: str) -> list[dict]:
    return [json.loads(path.read_text()) for path in sorted(run_dir.glob(pattern))]


def _weather_problems(run_dir: Path, scenario: dict) -> list[str]:
    problems = []
    first = run_dir / "weather-first.json"
    if not first.exists() or json.loads(first.read_text() or "{}").get("source") != "api":
        problems.append("the first weather request was not answered by the service")
    if scenario["mismatched"]:
        problems.append(f"{scenario['mismatched']} weather answers not served from the cache")
    stats = json.loads((run_dir / "fake-stats-weather.json").read_text())
    calls = stats["hits"].get("/data/2.5/weather", 0)
    if calls != 1:
        problems.append(f"the weather service was called {calls} times, expected once")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("run_dir", type=Path)
    run_dir = parser.parse_args().run_dir
    scenarios = _load(run_dir, "scenario-*.json")
    checks = {path.stem.removeprefix("check-"): json.loads(path.read_text()) for path in run_dir.glob("check-*.json")}
    problems = []

    lines = [
        "(a) signed webhook ingestion, (c) weather cache hits through the API — wrk "
        "(1 thread, 16 connections, gunicorn as in production)",
        f"{'scenario':<16}{'requests':>9}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'CPU µs':>8}  "
        f"{'statuses':<24}{'unexpected':>10}{'sock.err':>9}",
    ]
    for s in scenarios:
        # The server's CPU per request: other load on the machine moves it far less than req/s.
        s["server_cpu_us"] = round(s.get("server_cpu_seconds", 0.0) / s["requests"] * 1e6) if s["requests"] else 0
        statuses = " ".join(f"{code}:{n}" for code, n in sorted(s["statuses"].items()))
        socket_errors = sum(s["socket_errors"].values())
        lines.append(
            f"{s['name']:<16}{s['requests']:>9}{s['rps']:>9.0f}{s['p50_ms']:>9.2f}{s['p99_ms']:>9.2f}"
            f"{s['max_ms']:>9.1f}{s['server_cpu_us']:>8}  {statuses:<24}{s['unexpected']:>10}{socket_errors:>9}"
        )
        if s["unexpected"]:
            problems.append(f"{s['name']}: {s['unexpected']} unexpected answers, first: {s['first_unexpected']}")
        if socket_errors:
            problems.append(f"{s['name']}: socket errors {s['socket_errors']}")
        if s["name"] == "weather":
            problems += [f"weather: {problem}" for problem in _weather_problems(run_dir, s)]

    by_name = {s["name"]: s for s in scenarios}
    ceilings = [s for s in scenarios if s["name"].startswith("ceiling")]
    ratios = {}
    if ceilings and "webhooks" in by_name:
        ceiling = sum(s["rps"] for s in ceilings) / len(ceilings)
        ceiling_cpu = sum(s["server_cpu_us"] for s in ceilings) / len(ceilings)
        lines.append("")
        lines.append(
            f"ceiling (mean of {len(ceilings)} runs of /health/live/): {ceiling:.0f} req/s, "
            f"{ceiling_cpu:.0f} µs of server CPU each"
        )
        lines.append("             req/s ÷ ceiling   server CPU per request (ceiling's ÷ this one's)")
        for name in ("webhooks", "weather"):
            if name in by_name:
                ratios[name] = by_name[name]["rps"] / ceiling
                cpu = by_name[name]["server_cpu_us"]
                cpu_ratio = f"{ceiling_cpu / cpu:.0%}" if cpu else "-"
                lines.append(f"  {name:<9}  {ratios[name]:>14.0%}   {cpu_ratio:>8}")
        if ratios["webhooks"] < TARGET_RATIO:
            problems.append(f"webhook ingestion at {ratios['webhooks']:.0%} of the ceiling, target {TARGET_RATIO:.0%}")
    else:
        problems.append("the ceiling or the webhook run did not run")

    for slug, title in CHECKS.items():
        lines.append("")
        check = checks.get(slug)
        if check is None:
            lines.append(f"FAIL {title}: did not run")
            problems.append(f"{title}: did not run")
            continue
        lines.append(f"{'ok  ' if check['ok'] else 'FAIL'} {title}")
        lines += [f"       {name}: {value}" for name, value in check["figures"].items()]
        problems += [f"{title}: {problem}" for problem in check["problems"]]
    timeline = run_dir / "outbound-breaker-timeline.json"
    if timeline.exists():
        lines.append("       timeline (s since the fake started failing):")
        lines += [f"         {t:7.3f}  {what}" for t, what in json.loads(timeline.read_text())["timeline"]]

    load = [run_dir / f"loadavg-{when}.txt" for when in ("start", "end")]
    if all(path.exists() for path in load):
        start, end = (path.read_text().strip() for path in load)
        lines.append("")
        lines.append(f"load average (1, 5, 15 min) at start: {start}, at end: {end} (2 cores: above 2, others ran too)")
    lines.append("")
    lines += [f"MISSED {problem}" for problem in problems] or ["all checks passed, all targets met"]
    text = "\n".join(lines) + "\n"
    print(text, end="")
    (run_dir / "summary.txt").write_text(text)
    summary = {"scenarios": scenarios, "checks": checks, "ratios_to_ceiling": ratios, "problems": problems}
    (run_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

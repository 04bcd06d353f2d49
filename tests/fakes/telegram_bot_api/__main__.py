"""python -m tests.fakes.telegram_bot_api --port 8302 --token T [--log messages.jsonl] [limits]"""

import argparse
import dataclasses
import signal
import threading

from . import DEFAULT_TOKEN, FakeTelegramBotAPI, Limits


def _limits(args: argparse.Namespace) -> Limits:
    if args.no_limits:
        return Limits.off()
    given = {f.name: getattr(args, f.name) for f in dataclasses.fields(Limits) if getattr(args, f.name) is not None}
    return Limits(**given)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.fakes.telegram_bot_api", description="A fake Bot API.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8302)
    parser.add_argument("--token", default=DEFAULT_TOKEN)
    parser.add_argument("--log", help="where every delivered message is appended (JSON lines)")
    parser.add_argument("--no-limits", action="store_true", help="deliver everything, never 429")
    for field in dataclasses.fields(Limits):
        parser.add_argument(
            f"--{field.name.replace('_', '-')}", type=type(field.default), help=f"default {field.default}"
        )
    args = parser.parse_args(argv)

    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    with FakeTelegramBotAPI(args.token, args.host, args.port, limits=_limits(args), log=args.log) as fake:
        print(f"fake Telegram Bot API on {fake.base_url}", flush=True)
        try:
            done.wait()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()

"""``heattwin bench NAME [--json]``: each bench is a ``run(args) -> dict`` in ``scripts/bench_<name>.py``."""

from __future__ import annotations

import importlib

from scripts.benchmarks import print_report

BENCHES = ("import", "twin", "ingest", "wall", "leaks", "scenarios", "orders", "hotline", "alarms", "control",
           "supervisor", "refunds", "forecast")


def _available() -> list[str]:
    found = []
    for name in BENCHES:
        try:
            importlib.import_module(f"scripts.bench_{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"scripts.bench_{name}":
                raise
            continue
        found.append(name)
    return found


def register(subparsers) -> None:
    parser = subparsers.add_parser("bench", help="run a benchmark and print its figures")
    parser.add_argument("name", nargs="?", help="which bench (omit to list them)")
    parser.add_argument("--json", action="store_true", help="end with one JSON object line")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    parser.add_argument("--url", help="wall: measure the clicks on the demo running at this address")
    parser.add_argument("--clicks", type=int, help="wall: clicks per element kind and screen size")
    parser.set_defaults(func=_run)


def _run(args) -> int:
    names = _available()
    if not args.name:
        print("benches: " + ", ".join(names))
        return 0
    if args.name not in names:
        print(f"no bench named {args.name!r}; available: {', '.join(names)}")
        return 2
    module = importlib.import_module(f"scripts.bench_{args.name}")
    figures = module.run(args)
    print_report(args.name, figures, args.json)
    return 0

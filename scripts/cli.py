"""``heattwin`` — one console script; each command lives in its own ``scripts/cmd_*.py`` module.

A command module defines ``register(subparsers)``, which adds its parser and sets ``func``
(called with the parsed arguments, returning an exit code).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

COMMAND_MODULES = (
    "scripts.cmd_db",
    "scripts.cmd_network",
    "scripts.cmd_democity",
    "scripts.cmd_serve",
    "scripts.cmd_demo",
    "scripts.cmd_bench",
    "scripts.cmd_sync",
    "scripts.cmd_telemetry",
    "scripts.cmd_simulate",
    "scripts.cmd_isolate",
    "scripts.cmd_calibrate",
    "scripts.cmd_alarms",
    "scripts.cmd_leaks",
    "scripts.cmd_scenario",
    "scripts.cmd_users",
    "scripts.cmd_calendar",
    "scripts.cmd_orders",
    "scripts.cmd_calls",
    "scripts.cmd_kb",
    "scripts.cmd_tickets",
    "scripts.cmd_reports",
    "scripts.cmd_control",
    "scripts.cmd_forecast",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="heattwin", description="HeatTwin dispatch center")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue  # a command whose module has not landed yet
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not args.verbose:
        quiet_library_loggers()
    return int(args.func(args) or 0)


# Libraries that log routine INFO at every solve or job (pandapipes: "numba is not installed" 3× a
# second in the demo) bury the demo's login lines and our own messages; their warnings still show.
CHATTY_LIBRARY_LOGGERS = ("pandapipes", "pandapower", "apscheduler")


def quiet_library_loggers() -> None:
    for name in CHATTY_LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


if __name__ == "__main__":
    sys.exit(main())

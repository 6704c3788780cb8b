"""What ``heattwin demo`` starts beside the web app: each background process is a real command of the CLI,
and the reports' schedule is among them (the supervisors' daily, weekly and monthly reports)."""

from __future__ import annotations

from scripts.cli import build_parser
from scripts.cmd_demo import _BACKGROUND


def test_every_background_process_is_a_command_the_cli_runs():
    parser = build_parser()
    for _module, argv in _BACKGROUND:
        args = parser.parse_args(argv)
        assert callable(args.func), argv


def test_the_demo_runs_the_reports_schedule():
    from scripts.cmd_reports import _schedule

    funcs = [build_parser().parse_args(argv).func for _module, argv in _BACKGROUND]
    assert _schedule in funcs

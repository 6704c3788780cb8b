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


def test_the_demo_carries_accepted_setpoints_to_its_plant_over_a_private_broker(monkeypatch, tmp_path):
    """The live plant listens for setpoints; the demo's own Mosquitto is where the control page sends them,
    keeping its retained command under the state directory."""
    import os

    from real_parts import require

    from heattwin.settings import load_settings
    from scripts.cmd_demo import _setpoint_broker
    from scripts.cmd_simulate import _setpoint_listener
    from scripts.mqtt_ingest import find_mosquitto

    live = [argv for _module, argv in _BACKGROUND if argv[0] == "simulate" and "--history-days" not in argv]
    assert len(live) == 1 and "--listen-setpoints" in live[0]
    require(find_mosquitto() is not None, "mosquitto is not installed")
    for name in ("HOST", "PORT", "USERNAME", "PASSWORD"):
        monkeypatch.delenv(f"HEATTWIN_MQTT_{name}", raising=False)
    monkeypatch.setenv("HEATTWIN_STATE_DIR", str(tmp_path))   # never the checkout's own .state
    with _setpoint_broker():
        assert os.environ["HEATTWIN_MQTT_HOST"] == "127.0.0.1"
        listener = _setpoint_listener(object(), load_settings())
        assert listener is not None
        listener.stop()
    assert "HEATTWIN_MQTT_HOST" not in os.environ
    assert (tmp_path / "mqtt").is_dir()


def test_a_plant_without_a_broker_keeps_to_its_curve(monkeypatch):
    import socket

    from heattwin.settings import load_settings
    from scripts.cmd_simulate import _setpoint_listener

    with socket.socket() as probe:   # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("HEATTWIN_MQTT_HOST", "127.0.0.1")
    monkeypatch.setenv("HEATTWIN_MQTT_PORT", str(port))
    assert _setpoint_listener(object(), load_settings()) is None


def test_a_background_process_that_ends_is_reaped_and_reported(capsys):
    import subprocess
    import sys

    from scripts.cmd_demo import _watch_children

    done = subprocess.Popen([sys.executable, "-m", "scripts.cli", "--version"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    failed = subprocess.Popen([sys.executable, "-m", "scripts.cli", "no-such-command"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        _watch_children([done, failed, alive], every_s=0.2, rounds=40)
        out = capsys.readouterr().out
        assert done.returncode is not None and failed.returncode is not None   # waited for: no zombie left
        assert f"pid {failed.pid}, exit code {failed.returncode}" in out and failed.returncode != 0
        assert f"pid {done.pid}" in out and f"pid {alive.pid}" not in out
    finally:
        alive.kill()
        alive.wait()

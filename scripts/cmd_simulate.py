"""``heattwin simulate``: run the virtual plant against the store, in real time or accelerated.

Readings carry simulated times, and the store refuses readings from the future, so an
accelerated run starts in the past (``--hours`` before now by default) and catches up to now;
after that it runs in real time.
"""

from __future__ import annotations

import logging
import time

import pandas as pd

from heattwin.settings import load_settings
from store.audit import Actor

log = logging.getLogger("heattwin.simulate")
PLANT = Actor("virtual-plant", display_name="仿真供热系统")


def register(subparsers) -> None:
    parser = subparsers.add_parser("simulate", help="run the virtual plant (simulated SCADA/IoT)")
    parser.add_argument("--speed", type=float, default=60.0,
                        help="simulated seconds per wall second; 0 = as fast as possible")
    parser.add_argument("--hours", type=float, help="simulated hours to run (default: forever)")
    parser.add_argument("--start", help="simulated start, ISO UTC (default: --hours before now, or now)")
    parser.add_argument("--backfill-hours", type=float,
                        help="start this many hours before now, catch up as fast as possible, then run live")
    parser.add_argument("--history-days", type=float,
                        help="only the past before the backfill: these days ending --backfill-hours before now (or"
                             " at the store's oldest reading after their start), then stop; the demo's history")
    parser.add_argument("--step-s", type=float, default=60.0, help="simulated seconds between readings")
    parser.add_argument("--via", choices=("direct", "http", "mqtt"), default="direct")
    parser.add_argument("--http-url", default="http://127.0.0.1:8050")
    parser.add_argument("--token", help="bearer token for --via http (heattwin token add plant)")
    parser.add_argument("--faults", help="scenario file (YAML/JSON) with faults to inject")
    parser.add_argument("--fault", action="append", default=[],
                        help='a fault, e.g. "leak P-00123 start=+2h rate_t_h=20 side=supply"')
    parser.add_argument("--weather-csv", help="outdoor temperatures (time, t_c) instead of synthetic weather")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-noise", action="store_true", help="send the true values")
    parser.add_argument("--listen-setpoints", action="store_true",
                        help="follow accepted control setpoints from the MQTT command topic (twin.control.adapter)")
    parser.set_defaults(func=_run)


def _start_and_end(args, pool) -> tuple[pd.Timestamp, pd.Timestamp | None]:
    now = pd.Timestamp.now(tz="UTC").floor("s")
    if args.history_days:
        return _history_span(pool, _backfill_start(args), args.history_days, args.step_s)
    if args.start:
        start = pd.Timestamp(args.start)
        start = start.tz_localize("UTC") if start.tzinfo is None else start.tz_convert("UTC")
    elif args.backfill_hours:
        start = now - pd.Timedelta(hours=args.backfill_hours)
    elif args.hours and args.speed != 1:
        start = now - pd.Timedelta(hours=args.hours)
    else:
        start = now
    end = start + pd.Timedelta(hours=args.hours) if args.hours else None
    return start, end


def _backfill_start(args) -> pd.Timestamp:
    return pd.Timestamp.now(tz="UTC").floor("s") - pd.Timedelta(hours=args.backfill_hours or 0.0)


def _history_span(pool, live_start: pd.Timestamp, days: float, step_s: float) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The days before ``live_start`` the store does not hold yet (end before start: nothing to add). The
    store's older readings stay as they are: the history ends a step before its oldest one."""
    from store.telemetry.health import get_first_reading_time

    start = (live_start - pd.Timedelta(days=days)).floor("h")
    first = get_first_reading_time(pool, since=start.to_pydatetime())
    end = live_start if first is None else min(live_start, pd.Timestamp(first))
    return start, end - pd.Timedelta(seconds=step_s)


def _faults(args, start):
    from twin.plant.faults import load_fault_file, parse_cli_fault

    faults = load_fault_file(args.faults, start) if args.faults else []
    return faults + [parse_cli_fault(text, start) for text in args.fault]


def _sender(args, pool, settings):
    from scripts.plant_senders import DirectSender, HttpSender, MqttSender

    if args.via == "http":
        if not args.token:
            raise SystemExit("--via http needs --token (create one with: heattwin token add plant)")
        return HttpSender(args.http_url, args.token)
    if args.via == "mqtt":
        return MqttSender(settings.mqtt_host, settings.mqtt_port, username=settings.mqtt_username,
                          password=settings.mqtt_password)
    return DirectSender(pool)


def build_plant(pool, *, start, faults, seed=7, noise=True, weather_csv=None, background_loss=True,
                weather_origin=None):
    """The virtual plant for the store's current network, with its faults recorded as ground truth; its synthetic
    weather counts from ``weather_origin`` (default the start's day), so a history run can share the live one's."""
    from store.households import list_households
    from store.simulation import add_simulated_faults
    from twin.plant.runner import VirtualPlant
    from twin.plant.weather import CsvWeather, SyntheticWeather
    from twin.sync import load_network

    origin = (weather_origin if weather_origin is not None else start).floor("D")
    weather = CsvWeather(weather_csv) if weather_csv else SyntheticWeather(origin, seed=seed)
    plant = VirtualPlant(load_network(pool), list_households(pool, with_collector=True), weather,
                         faults=faults, seed=seed, noise=noise, background_loss=background_loss)
    if faults:
        add_simulated_faults(pool, faults)
    return plant


class WeatherIssuer:
    """The plant's own weather forecast (``SyntheticWeather.issue_forecast``) stored at every simulated hour, as
    a weather service's would be: the load forecast, the advisor and the wall's strip read it like any other."""

    def __init__(self, pool, weather):
        self.pool = pool
        self.weather = weather
        self.last_issue: pd.Timestamp | None = None

    def __call__(self, sim: pd.Timestamp) -> None:
        from store.forecasts import add_weather_forecasts
        from twin.forecast.data import DEFAULT_LOCATION

        hour = sim.floor("h")
        if hour == self.last_issue or not hasattr(self.weather, "issue_forecast"):
            return   # a CSV's measured weather has no forecast of its own
        add_weather_forecasts(self.pool, DEFAULT_LOCATION, self.weather.issue_forecast(hour), actor=PLANT,
                              origin="virtual plant")
        self.last_issue = hour


def run_plant(plant, sender, *, start, end, step_s: float, speed: float, on_step=None) -> dict:
    """Step the plant from ``start`` to ``end`` (None: forever), never ahead of the wall clock; ``on_step(sim)``
    after each step's readings are sent."""
    sim, wall_start, totals = start, time.monotonic(), {}
    while end is None or sim <= end:
        readings = plant.step(sim, step_s)
        for key, value in sender.send(readings).items():
            totals[key] = totals.get(key, 0) + value
        if on_step is not None:
            on_step(sim)
        sim += pd.Timedelta(seconds=step_s)
        due = wall_start + (sim - start).total_seconds() / speed if speed > 0 else 0.0
        ahead_of_now = (sim - pd.Timestamp.now(tz="UTC")).total_seconds()
        wait = max(due - time.monotonic(), ahead_of_now, 0.0)
        if wait:
            time.sleep(wait)
    return totals


def _setpoint_listener(plant, settings):
    """The plant following accepted setpoints from the command topic; without a broker it keeps to its heating
    curve and says so (a plant whose command link is down does the same)."""
    from twin.control.adapter import SetpointListener

    listener = SetpointListener(plant, settings.mqtt_host, settings.mqtt_port, username=settings.mqtt_username,
                                password=settings.mqtt_password)
    try:
        listener.start()
    except (OSError, RuntimeError) as exc:
        log.warning("no setpoint commands (MQTT %s:%s: %s): the plant keeps to its heating curve",
                    settings.mqtt_host, settings.mqtt_port, exc)
        return None
    return listener


def _run(args) -> int:
    from store import cluster
    from store.db import get_pool

    settings = load_settings()
    pool = get_pool(cluster.database_url(settings))
    start, end = _start_and_end(args, pool)
    if end is not None and end < start:
        print(f"virtual plant: the store already holds {start:%Y-%m-%d %H:%M} onwards; nothing to simulate")
        return 0
    faults = _faults(args, start)
    # A history run's weather is the live run's own (counted from the backfill's start), continued into the past.
    origin = _backfill_start(args) if args.history_days else start
    plant = build_plant(pool, start=start, faults=faults, seed=args.seed, noise=not args.no_noise,
                        weather_csv=args.weather_csv, weather_origin=origin)
    log.info("virtual plant: %s → %s, step %.0f s, speed %s×, via %s, %d faults", start,
             end or "forever", args.step_s, args.speed or "max", args.via, len(faults))
    listener = _setpoint_listener(plant, settings) if args.listen_setpoints else None
    try:
        totals = run_plant(plant, _sender(args, pool, settings), start=start, end=end, step_s=args.step_s,
                           speed=args.speed, on_step=WeatherIssuer(pool, plant.weather))
    finally:
        if listener is not None:
            listener.stop()
    print(f"virtual plant done: {totals}")
    return 0

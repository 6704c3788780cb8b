"""``heattwin forecast load FILE | fetch [URL] | train | issue | backtest``: weather forecasts in, the
heat-load model retrained, a 48 h forecast issued, a rolling-origin backtest printed."""

from __future__ import annotations

import json
import sys


def register(subparsers) -> None:
    parser = subparsers.add_parser("forecast", help="weather forecasts in; heat-load forecast: train, issue, backtest")
    sub = parser.add_subparsers(dest="forecast_command", required=True)
    load = sub.add_parser("load", help="load a weather-forecast file (CSV/JSON); every problem is named")
    load.add_argument("file")
    load.add_argument("--issued-at", help="issue time for files that carry none (Open-Meteo shape)")
    fetch = sub.add_parser("fetch", help="fetch the HTTP JSON forecast at URL (default HEATTWIN_FORECAST_URL)")
    fetch.add_argument("url", nargs="?")
    for p in (load, fetch):
        p.add_argument("--location", default=None, help="default: the network's ('network')")
        p.add_argument("--strict", action="store_true", help="store nothing when any row is refused")
        p.add_argument("--by", help="the HeatTwin user doing it (default: cli:<os user>)")
    load.set_defaults(func=_load)
    fetch.set_defaults(func=_fetch)
    train = sub.add_parser("train", help="retrain the heat-load model on the store's history")
    train.add_argument("--days", type=float, default=60.0)
    train.add_argument("--by")
    train.set_defaults(func=_train)
    issue = sub.add_parser("issue", help="issue (and store) the 48 h heat-load forecast now")
    issue.add_argument("--by")
    issue.set_defaults(func=_issue)
    backtest = sub.add_parser("backtest", help="rolling-origin backtest of a measured SCADA export")
    backtest.add_argument("file", nargs="+", help="SCADA export(s) of one substation (datetime, t_amb, e | qizm)")
    backtest.add_argument("--start", required=True)
    backtest.add_argument("--end", required=True)
    backtest.add_argument("--timezone", default="Europe/Belgrade")
    backtest.add_argument("--min-load-kwh", type=float, default=31.0)
    backtest.set_defaults(func=_backtest)


def _pool():
    from heattwin.settings import load_settings
    from store import cluster
    from store.db import get_pool

    return get_pool(cluster.database_url(load_settings()))


def _report(checked) -> int:
    for problem in checked.refused:
        print(f"refused: {problem}", file=sys.stderr)
    for problem in checked.repaired:
        print(f"repaired: {problem}")
    print(checked.summary())
    return 2 if checked.refused and not len(checked.rows) else 0


def _store(args, checked) -> int:
    from scripts.actors import cli_actor
    from twin.forecast.load import DEFAULT_LOCATION
    from twin.forecast.weather_input import store_forecast

    pool = _pool()
    actor = cli_actor(pool, "forecast.manage", args.by)
    store_forecast(pool, checked, location=args.location or DEFAULT_LOCATION, actor=actor, strict=args.strict)
    return _report(checked)


def _load(args) -> int:
    from heattwin.settings import load_settings
    from store.rowfiles import FileRefused
    from twin.forecast.weather_input import read_forecast_file

    try:
        checked = read_forecast_file(args.file, timezone=load_settings().timezone, issued_at=args.issued_at)
    except FileRefused as exc:
        print(exc, file=sys.stderr)
        return 2
    return _store(args, checked)


def _fetch(args) -> int:
    from heattwin.settings import load_settings
    from twin.forecast.weather_input import fetch_forecast

    settings = load_settings()
    url = args.url or settings.forecast_url
    if not url:
        print("no URL: give one or set HEATTWIN_FORECAST_URL", file=sys.stderr)
        return 2
    return _store(args, fetch_forecast(url, timezone=settings.timezone))


def _train(args) -> int:
    from scripts.actors import cli_actor
    from twin.forecast.load import train_load_model

    pool = _pool()
    model_id = train_load_model(pool, days=args.days, actor=cli_actor(pool, "forecast.manage", args.by))
    print(f"heat-load model #{model_id} trained")
    return 0


def _issue(args) -> int:
    from scripts.actors import cli_actor
    from twin.forecast.load import forecast_load

    pool = _pool()
    frame = forecast_load(pool, actor=cli_actor(pool, "forecast.manage", args.by))
    print(f"{len(frame)} rows for {frame['element_id'].nunique()} elements; weather issued "
          f"{frame.attrs['weather_issued_at']}{' (FALLBACK)' if frame.attrs['weather_fallback'] else ''}")
    return 0


def _backtest(args) -> int:
    import pandas as pd

    from twin.forecast.backtest import rolling_origin, score
    from twin.forecast.measured import combine, forecast_data, read_measured

    parts = [read_measured(path, timezone=args.timezone) for path in args.file]
    for part in parts:
        print(f"{part.name}: {part.notes}")
    data = forecast_data(combine(parts), "substation", timezone=args.timezone)
    predictions = rolling_origin(data, start=pd.Timestamp(args.start, tz="UTC"), end=pd.Timestamp(args.end, tz="UTC"),
                                 retrain_every_days=14, train_days=540)
    print("; ".join(data.notes))
    print(json.dumps(score(predictions, min_load_mw=args.min_load_kwh / 1000.0)))
    return 0

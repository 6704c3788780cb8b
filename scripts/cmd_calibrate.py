"""``heattwin calibrate``: fit roughness and heat-loss multipliers on a window of readings."""

from __future__ import annotations

import pandas as pd

from heattwin.settings import load_settings


def register(subparsers) -> None:
    parser = subparsers.add_parser("calibrate", help="fit the twin's roughness and heat-loss multipliers")
    parser.add_argument("--hours", type=float, default=6.0, help="window length, ending now")
    parser.add_argument("--samples", type=int, default=4, help="instants sampled in the window")
    parser.add_argument("--end", help="window end, ISO UTC (default now)")
    parser.set_defaults(func=_run)


def snapshots(pool, *, end: pd.Timestamp, hours: float, samples: int, window_s: float):
    from store.telemetry import get_window_means
    from twin.calibrate import Snapshot

    instants = [end - pd.Timedelta(hours=hours) * k / max(samples - 1, 1) for k in range(samples)]
    return [Snapshot(at, get_window_means(pool, end=at.to_pydatetime(), window_s=window_s)
                     .set_index("sensor_id")["value"].astype(float)) for at in instants]


def calibrate(pool, *, end: pd.Timestamp, hours: float, samples: int, window_s: float):
    """Fit on the window ending at ``end``, store the result, return (calibration id, result)."""
    from store.calibrations import add_calibration
    from twin.calibrate import Calibrator
    from twin.sync import load_network

    found = snapshots(pool, end=end, hours=hours, samples=samples, window_s=window_s)
    result = Calibrator(load_network(pool), found).fit()
    calibration_id = add_calibration(pool, window_start=end - pd.Timedelta(hours=hours), window_end=end,
                                     params=result.params, rms_before=result.rms_before,
                                     rms_after=result.rms_after)
    return calibration_id, result


def _run(args) -> int:
    from store import cluster
    from store.db import get_pool

    settings = load_settings()
    pool = get_pool(cluster.database_url(settings))
    end = pd.Timestamp(args.end) if args.end else pd.Timestamp.now(tz="UTC")
    calibration_id, result = calibrate(pool, end=end, hours=args.hours, samples=args.samples,
                                       window_s=settings.telemetry_window_s)
    print(f"calibration #{calibration_id}")
    print("roughness multipliers by zone:", result.params["roughness"])
    print("heat-loss multipliers by age class:", result.params["heat_loss"])
    print(f"{'sensor kind':<12} {'rms before':>12} {'rms after':>12}")
    for kind in sorted(result.rms_before):
        print(f"{kind:<12} {result.rms_before[kind]:>12.4f} {result.rms_after.get(kind, float('nan')):>12.4f}")
    return 0

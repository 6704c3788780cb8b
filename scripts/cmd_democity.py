"""``heattwin demo-city``: write the seeded demo city (GeoPackage, records, drawings)."""

from __future__ import annotations

import time
from pathlib import Path

from heattwin.settings import load_settings


def register(subparsers) -> None:
    parser = subparsers.add_parser("demo-city", help="generate the demo city (deterministic for a seed)")
    parser.add_argument("--stations", type=int, default=150)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, help="output folder (default: HEATTWIN_DATA_DIR/demo)")
    parser.add_argument("--drawings-dir", type=Path, help="drawings folder (default: HEATTWIN_DRAWINGS_DIR)")
    parser.set_defaults(func=_run)


def _run(args) -> int:
    from data.democity import generate_city

    settings = load_settings()
    out = args.out or settings.data_dir / "demo"
    start = time.perf_counter()
    summary = generate_city(out, stations=args.stations, seed=args.seed,
                            drawings_dir=args.drawings_dir or settings.drawings_dir)
    print(f"demo city written to {out} in {time.perf_counter() - start:.1f} s")
    for key, value in summary.items():
        print(f"  {key:<16} {value}")
    return 0

"""``heattwin import PATH [--mapping FILE] [--inspect] [--dry-run]`` and ``heattwin export PATH [--crs]``:
the network in and out of the store."""

from __future__ import annotations

from pathlib import Path


def register(subparsers) -> None:
    imp = subparsers.add_parser("import", help="validate a network (our layers, or the utility's through a mapping) "
                                               "and store it")
    imp.add_argument("path", type=Path, help="a GeoPackage, GeoJSON, shapefile (.shp/.zip), CSV or DXF, or a folder")
    imp.add_argument("--mapping", type=Path, help="a mapping YAML: which layer and field is which of ours")
    imp.add_argument("--inspect", action="store_true",
                     help="print the file's layers, fields and CRS and write a starter mapping; store nothing")
    imp.add_argument("--write-mapping", type=Path,
                     help="with --inspect: where the starter mapping goes (default PATH.mapping.yaml)")
    imp.add_argument("--snap-tolerance", type=float, help="metres within which pipe ends join a node")
    imp.add_argument("--dry-run", action="store_true", help="validate and report only; store nothing")
    imp.set_defaults(func=run_import)
    exp = subparsers.add_parser("export", help="write the store's current network to a GeoPackage")
    exp.add_argument("path", type=Path, help="the GeoPackage to write (replaced if it exists)")
    exp.add_argument("--crs", help="the CRS to write (default: the imported file's own, e.g. EPSG:4547)")
    exp.set_defaults(func=run_export)


def print_report(report) -> None:
    for line in report.lines():
        print(line)


def _refused(report) -> int:
    print(f"refused: {len(report.errors)} errors, the store is unchanged")
    return 1


def run_inspect(args) -> int:
    from layers.inspect import format_inspection, inspect, starter_mapping
    from layers.sources import SourceError

    try:
        layers, warnings = inspect(args.path)
    except SourceError as exc:
        print(f"error: {exc}")
        return 1
    for line in [*format_inspection(layers), *(f"warning: {w}" for w in warnings)]:
        print(line)
    out = args.write_mapping or args.path.with_name(args.path.name + ".mapping.yaml")
    out.write_text(starter_mapping(layers), encoding="utf-8")
    print(f"wrote a starter mapping to {out}: edit it, then `heattwin import {args.path} --mapping {out} --dry-run`")
    return 0


def run_import(args) -> int:
    if args.inspect:
        return run_inspect(args)
    if args.dry_run:
        from layers.read import read_network

        _, report = read_network(args.path, snap_tolerance_m=args.snap_tolerance, mapping=args.mapping)
        print_report(report)
        if not report.ok:
            return _refused(report)
        print(f"{args.path}: valid ({report.summary()}); dry run, nothing stored")
        return 0
    from heattwin.settings import load_settings
    from scripts.loading import ImportRefused, import_network
    from store.cluster import database_url
    from store.migrate import migrate

    url = database_url(load_settings())
    migrate(url)
    try:
        summary, report = import_network(url, args.path, mapping=args.mapping, snap_tolerance_m=args.snap_tolerance)
    except ImportRefused as refused:
        print_report(refused.report)
        return _refused(refused.report)
    print_report(report)
    kinds = ", ".join(f"{n} {k}" for k, n in sorted(summary["by_kind"].items()))
    print(f"imported {args.path} as network version {summary['network_version']}: {kinds}; "
          f"{summary['retired']} retired, {summary['deleted']} deleted, {summary['basemap_features']} basemap features; "
          f"{summary['alarms_closed']} open alarms of elements no longer there closed")
    return 0


def run_export(args) -> int:
    from layers.export import write_geopackage
    from scripts.loading import network_for_command

    try:
        network, _ = network_for_command(None)
    except SystemExit as empty:
        print(empty)
        return 1
    write_geopackage(network, args.path, crs=args.crs)
    counts = ", ".join(f"{len(frame)} {name}" for name, frame in network.items() if len(frame))
    print(f"wrote {args.path} in {args.crs or network.source_crs or 'EPSG:4326'}: {counts}")
    return 0

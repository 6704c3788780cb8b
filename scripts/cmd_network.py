"""``heattwin import PATH [--dry-run]`` and ``heattwin export PATH``: the network in and out of the store."""

from __future__ import annotations

from pathlib import Path


def register(subparsers) -> None:
    imp = subparsers.add_parser("import", help="validate a network (GeoPackage or GeoJSON folder) and store it")
    imp.add_argument("path", type=Path, help="network.gpkg, or a folder of <layer>.geojson files")
    imp.add_argument("--dry-run", action="store_true", help="validate and report only; store nothing")
    imp.set_defaults(func=run_import)
    exp = subparsers.add_parser("export", help="write the store's current network to a GeoPackage")
    exp.add_argument("path", type=Path, help="the GeoPackage to write (replaced if it exists)")
    exp.set_defaults(func=run_export)


def print_report(report) -> None:
    for line in report.lines():
        print(line)


def _refused(report) -> int:
    print(f"refused: {len(report.errors)} errors, the store is unchanged")
    return 1


def run_import(args) -> int:
    if args.dry_run:
        from layers.read import read_network

        _, report = read_network(args.path)
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
        summary, report = import_network(url, args.path)
    except ImportRefused as refused:
        print_report(refused.report)
        return _refused(refused.report)
    print_report(report)
    kinds = ", ".join(f"{n} {k}" for k, n in sorted(summary["by_kind"].items()))
    print(f"imported {args.path} as network version {summary['network_version']}: {kinds}; "
          f"{summary['retired']} retired, {summary['deleted']} deleted, {summary['basemap_features']} basemap features")
    return 0


def run_export(args) -> int:
    from heattwin.settings import load_settings
    from layers.export import write_geopackage
    from layers.records import asset_rows_to_network
    from store.assets import get_asset_rows
    from store.cluster import database_url
    from store.db import get_pool

    assets, basemap = get_asset_rows(get_pool(database_url(load_settings())))
    if assets.empty:
        print("the store holds no network: run `heattwin import PATH` or `heattwin demo` first")
        return 1
    network = asset_rows_to_network(assets, basemap)
    write_geopackage(network, args.path)
    counts = ", ".join(f"{len(frame)} {name}" for name, frame in network.items() if len(frame))
    print(f"wrote {args.path}: {counts}")
    return 0

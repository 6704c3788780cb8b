"""``heattwin leaks coverage [--json] [--network PATH] [--add N]``: how well the pressure sensors tell
every segment's leak apart, and which extra pressure sensors (nodes) would help most.

Solves the twin at design conditions, linearizes it (``twin.leaks.coverage``) and prints the
worst-covered segments (leak rate needed to separate them from their closest other segment) and the
greedy choice of ``N`` nodes for new supply/return pressure sensors with the gain of each.
"""

from __future__ import annotations

import json

SHOWN = 15


def register(subparsers) -> None:
    parser = subparsers.add_parser("leaks", help="leak localization tools (sensor coverage)")
    sub = parser.add_subparsers(dest="leaks_command", required=True)
    cov = sub.add_parser("coverage", help="how well each segment's leak can be located; where to add sensors")
    cov.add_argument("--json", action="store_true", help="print the result as one JSON object")
    cov.add_argument("--network", help="read this GeoPackage/folder instead of the store's current network")
    cov.add_argument("--add", type=int, default=3, help="number of extra pressure-sensor nodes to suggest")
    cov.add_argument("--sigma-bar", type=float, default=0.01, help="pressure sensor noise σ (bar)")
    cov.set_defaults(func=_coverage)


def _coverage(args) -> int:
    from scripts.loading import network_for_command
    from twin.leaks.coverage import coverage
    from twin.model import Twin
    from twin.observe import SensorMap

    network, errors = network_for_command(args.network)
    if errors:
        print("\n".join([f"{args.network}: the network has errors; fix them first:", *errors]))
        return 1
    twin = Twin(network)
    twin.solve()
    segments, nodes = coverage(twin, SensorMap(network.sensors, network.stations), sigma_bar=args.sigma_bar,
                               add=args.add)
    if args.json:
        print(json.dumps({"segments": segments.round(4).to_dict("records"),
                          "suggested_nodes": nodes.round(4).to_dict("records")}))
        return 0
    rate = segments["rate_to_separate_t_h"]
    print(f"{len(segments)} segments; leak rate needed to separate a segment from its closest other "
          f"(χ²=4): median {rate.median():.1f} t/h, 90% {rate.quantile(0.9):.1f} t/h")
    print("worst-covered segments:")
    print(segments.head(SHOWN).round(3).to_string(index=False))
    if len(nodes):
        print("suggested pressure-sensor nodes (greedy, worst-covered segments' median rate):")
        print(nodes.round(3).to_string(index=False))
    return 0

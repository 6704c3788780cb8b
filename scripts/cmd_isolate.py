"""``heattwin isolate P-00123 [--json]``: the valves to close to take a pipe or node out, and who loses heat.

Reads the current network from the store (or a network file with ``--network``), runs
``twin.isolation`` and prints the valves to close, inoperable valves skipped, what goes dry and the
stations, communities, households, heated area and heat load cut off.
"""

from __future__ import annotations

import json

SHOWN_IDS = 20  # ids printed per list in the text report; --json always has them all


def register(subparsers) -> None:
    parser = subparsers.add_parser("isolate", help="valves to close to isolate a pipe or node, and what goes dry")
    parser.add_argument("element_id", help="pipe id (P-…) or node id (N-…)")
    parser.add_argument("--json", action="store_true", help="print the result as one JSON object")
    parser.add_argument("--inoperable", default="",
                        help="comma-separated valve ids that cannot be closed, besides those recorded so")
    parser.add_argument("--network", help="read this GeoPackage/folder instead of the store's current network")
    parser.add_argument("--record", action="store_true",
                        help="the valves are being closed now: record it as an incident for the hotline")
    parser.add_argument("--back-in", type=float, help="with --record: hours until heat is expected back")
    parser.add_argument("--by", help="with --record: the HeatTwin user doing it (default: this OS account)")
    parser.add_argument("--solve", action="store_true",
                        help="also solve the twin with the valves closed: what else degrades (design conditions)")
    parser.set_defaults(func=_run)


def _run(args) -> int:
    from scripts.loading import network_for_command
    from twin.isolation import IsolationGraph

    network, errors = network_for_command(args.network)
    if errors:
        print("\n".join([f"{args.network}: the network has errors; fix them first:", *errors]))
        return 1
    graph = IsolationGraph(network)
    extra = {v.strip() for v in args.inoperable.split(",") if v.strip()}
    try:
        result = graph.isolate(args.element_id, inoperable=graph.recorded_inoperable | extra)
    except KeyError as exc:
        print(exc.args[0])
        return 2
    if args.record:
        if args.network:
            print("--record works on the store's network only (drop --network)")
            return 2
        print(_record(args, result))
    degraded = _solve(network, args.element_id) if args.solve else None
    if args.json:
        out = {**result.to_dict(), "problems": graph.problems}
        if degraded is not None:
            out["scenario"] = {"summary": degraded.summary,
                               "affected_stations": degraded.affected_stations().index.tolist()}
        print(json.dumps(out, ensure_ascii=False, default=str))
    else:
        print(_text(result, graph.problems))
        if degraded is not None:
            from scripts.cmd_scenario import report

            print("\nwith these valves closed (design conditions):\n" + report(degraded))
    return 0


def _record(args, result) -> str:
    """The isolation as an incident: the hotline tells callers from the stations it cuts off."""
    from datetime import UTC, datetime, timedelta

    from heattwin.settings import load_settings
    from scripts.actors import cli_actor
    from store import cluster
    from store.db import get_pool
    from store.incidents import add_isolation

    pool = get_pool(cluster.database_url(load_settings()))
    back = datetime.now(UTC) + timedelta(hours=args.back_in) if args.back_in else None
    incident_id = add_isolation(pool, pipe_id=args.element_id, stations=list(result.stations_cut_off),
                                valves=list(result.valves_to_close), actor=cli_actor(pool, "incident.manage", args.by),
                                expected_back_at=back)
    return f"recorded as incident #{incident_id} ({len(result.stations_cut_off)} stations without heat)"


def _solve(network, element_id: str):
    """The twin re-solved with the segment isolated: a pipe_break scenario on the design base."""
    from twin.scenarios import Change, Scenario, ScenarioRunner

    if not element_id.startswith("P-"):
        return None
    scenario = Scenario(name=f"isolate {element_id}", changes=[Change("pipe_break", element_id)])
    return ScenarioRunner(network).run(scenario)


def _ids(title: str, ids: list[str]) -> str:
    shown = ", ".join(ids[:SHOWN_IDS]) + (f", … (+{len(ids) - SHOWN_IDS})" if len(ids) > SHOWN_IDS else "")
    return f"{title} ({len(ids)}): {shown or '—'}"


def _text(result, problems: list[str]) -> str:
    lines = [f"isolating {result.target}",
             _ids("valves to close", result.valves_to_close),
             _ids("inoperable valves skipped", result.inoperable_skipped)]
    if result.already_closed:
        lines.append(_ids("boundary valves already closed", result.already_closed))
    if result.sources_lost:
        lines.append(_ids("SOURCES TAKEN OFF (no valve between them and the target)", result.sources_lost))
    lines += [
        _ids("isolated pipes", result.isolated_pipes),
        _ids("isolated nodes", result.isolated_nodes),
        _ids("dry pipes (isolated + cut off behind)", result.dry_pipes),
        _ids("dry nodes", result.dry_nodes),
        _ids("stations cut off", result.stations_cut_off),
        _ids("communities cut off", result.communities_cut_off),
        f"households cut off: {result.households_cut_off:,}",
        f"heated area cut off: {result.heated_area_cut_off_m2:,.0f} m²",
        f"design heat load cut off: {result.heat_cut_off_mw:,.2f} MW",
        "stations fed round a loop stay listed as supplied; the twin's re-solve tells whether they degrade",
    ]
    lines += [f"warning: {p}" for p in problems]
    return "\n".join(lines)

"""``heattwin scenario run|list|show|delete|sweep``: what-if scenarios from the command line.

``run FILE`` runs a YAML/JSON scenario on the store's network (or ``--network``) and prints the
same figures the /scenarios page shows; ``--save`` stores it with its result, ``--out`` writes the
station table (CSV or Excel). ``sweep`` runs the N-1 sweep on dask and stores the ranking.
"""

from __future__ import annotations

import json
import sys

SHOWN = 15


def register(subparsers) -> None:
    parser = subparsers.add_parser("scenario", help="what-if scenarios and the N-1 sweep")
    sub = parser.add_subparsers(dest="scenario_command", required=True)
    run = sub.add_parser("run", help="run a scenario file (YAML or JSON)")
    run.add_argument("file")
    run.add_argument("--json", action="store_true", help="print the result as one JSON object")
    run.add_argument("--out", help="write the station table to this .csv or .xlsx")
    run.add_argument("--save", action="store_true", help="store the scenario and its result")
    run.add_argument("--network", help="use this GeoPackage/folder instead of the store's network")
    run.set_defaults(func=_run)
    sub.add_parser("list", help="saved scenarios").set_defaults(func=_list)
    for name, func, text in (("show", _show, "a saved scenario and its latest result"),
                             ("delete", _delete, "delete a saved scenario")):
        cmd = sub.add_parser(name, help=text)
        cmd.add_argument("id", type=int)
        if name == "delete":
            cmd.add_argument("--by", help="the HeatTwin user doing it (default: this OS account, as cli:NAME)")
        cmd.set_defaults(func=func)
    sweep = sub.add_parser("sweep", help="N-1: break every pipe segment in turn, rank by heat not delivered")
    sweep.add_argument("--limit", type=int, help="only the first N segments")
    sweep.add_argument("--workers", type=int, default=2, help="LocalCluster workers (default 2)")
    sweep.add_argument("--serial", action="store_true", help="run in this process, without dask")
    for cmd in (run, sweep):
        cmd.add_argument("--by", help="the HeatTwin user doing it (default: this OS account, as cli:NAME)")
    sweep.add_argument("--network", help="use this GeoPackage/folder (results are not stored)")
    sweep.add_argument("--json", action="store_true")
    sweep.set_defaults(func=_sweep)


def _pool():
    from heattwin.settings import load_settings
    from store import cluster
    from store.db import get_pool

    return get_pool(cluster.database_url(load_settings()))


def runner_for(network, pool=None):
    """A ScenarioRunner with the store's live state (latest converged run) when there is one."""
    from store import twin_runs
    from twin.scenarios import LiveBase, ScenarioRunner

    live = None
    if pool is not None:
        run = twin_runs.get_latest_run(pool)
        if run is not None:
            live = LiveBase.from_run(run, twin_runs.get_run_states(pool, run["id"]))
    return ScenarioRunner(network, live=live)


def _run(args) -> int:
    from scripts.loading import network_for_command
    from twin.scenarios import ScenarioError, load_scenario

    try:
        scenario = load_scenario(args.file)
    except ScenarioError as exc:
        print(exc, file=sys.stderr)
        return 2
    network, errors = network_for_command(args.network)
    if errors:
        print("\n".join([f"{args.network}: the network has errors; fix them first:", *errors]), file=sys.stderr)
        return 1
    pool = None if args.network else _pool()
    try:
        result = runner_for(network, pool).run(scenario)
    except ScenarioError as exc:
        print(f"{args.file}: {exc}", file=sys.stderr)
        return 2
    if args.save and pool is not None:
        from scripts.actors import cli_actor
        from store import scenarios

        scenario_id = scenarios.save_scenario(pool, scenario.to_dict(), result=result.to_dict(),
                                              actor=cli_actor(pool, "scenario.save", args.by))
        print(f"saved as scenario {scenario_id}", file=sys.stderr)
    if args.out:
        print(f"wrote {result.write_table(args.out)}", file=sys.stderr)
    print(json.dumps(result.to_dict(), ensure_ascii=False, default=str) if args.json else report(result))
    return 0 if result.summary.get("converged") else 1


def report(result) -> str:
    """The text a dispatcher reads: the summary, then the affected stations, worst first."""
    s = result.summary
    if not s.get("converged"):
        return f"{result.name}: the twin did not converge: {s.get('error')}"
    lines = [f"scenario: {result.name}", *(f"  change: {c}" for c in result.changes),
             f"heat not delivered: {s['heat_not_delivered_mw']:.2f} MW "
             f"(base {s['heat_delivered_base_mw']:.1f} MW, scenario {s['heat_delivered_mw']:.1f} MW)",
             f"heat short of demand: {s['heat_unmet_mw']:.1f} MW of {s['heat_demand_mw']:.1f} MW",
             f"stations affected: {s['stations_affected']} (cut off {s['stations_cut_off']}, dp low "
             f"{s['stations_low_dp']}, supply temperature low {s['stations_low_t']}, return pressure low "
             f"{s['stations_low_p']}); households affected: {s['households_affected']:,}",
             f"lowest pressure: {s['p_min_bar']:.2f} bar" + ("" if s["feasible"] else "  — NOT FEASIBLE"),
             "sources (MW base → scenario): " + ", ".join(
                 f"{sid} {r.heat_base_mw:.1f} → {r.heat_mw:.1f}" for sid, r in result.sources.iterrows())]
    affected = result.affected_stations()
    for sid, r in affected.head(SHOWN).iterrows():
        flags = [f for f in ("cut_off", "low_dp", "low_t", "low_p", "unmet") if r[f]]
        lines.append(f"  {sid} {r['name']}: {r.heat_base_mw:.2f} → {r.heat_mw:.2f} MW, dp {r.dp_base_bar:.2f} → "
                     f"{r.dp_bar:.2f} bar, {' '.join(flags)}")
    if len(affected) > SHOWN:
        lines.append(f"  … and {len(affected) - SHOWN} more (--out table.csv for all)")
    return "\n".join(lines)


def _list(args) -> int:
    from store import scenarios

    frame = scenarios.list_scenarios(_pool())
    if frame.empty:
        print("no saved scenarios")
    for row in frame.itertuples(index=False):
        summary = row.summary or {}
        figure = f"{summary.get('heat_not_delivered_mw', float('nan')):.2f} MW not delivered" if summary else "not run"
        print(f"{row.id:>5}  {row.name}  by {row.author or '—'}  {row.updated_at:%Y-%m-%d %H:%M}  {figure}")
    return 0


def _show(args) -> int:
    from store import scenarios

    pool = _pool()
    stored = scenarios.get_scenario(pool, args.id)
    if stored is None:
        print(f"no scenario {args.id}", file=sys.stderr)
        return 2
    print(json.dumps({**stored, "result": scenarios.get_result(pool, args.id)}, ensure_ascii=False, default=str))
    return 0


def _delete(args) -> int:
    from scripts.actors import cli_actor
    from store import scenarios

    pool = _pool()
    if not scenarios.delete_scenario(pool, args.id, actor=cli_actor(pool, "scenario.delete_any", args.by),
                                     anyones=True):
        print(f"no scenario {args.id}", file=sys.stderr)
        return 2
    print(f"deleted scenario {args.id}")
    return 0


def _sweep(args) -> int:
    from scripts.loading import network_for_command
    from twin.scenarios.sweep import run_stored_sweep

    network, errors = network_for_command(args.network)
    if errors:
        print("\n".join(errors), file=sys.stderr)
        return 1
    pipe_ids = network.pipes["id"].astype(str).tolist()[:args.limit] if args.limit else None
    from scripts.actors import cli_actor

    pool = None if args.network else _pool()
    actor = cli_actor(pool, "scenario.sweep", args.by) if pool is not None else None
    ranking, sweep_id = run_stored_sweep(network, pool, actor=actor, pipe_ids=pipe_ids, workers=args.workers,
                                         serial=args.serial, progress=_progress_bar())
    if args.json:
        print(json.dumps({"sweep_id": sweep_id, "ranking": ranking.head(50).to_dict("records")}, default=str))
        return 0
    print(f"N-1 sweep {sweep_id or '(not stored)'}: {len(ranking)} segments; most critical:")
    for row in ranking.head(SHOWN).itertuples(index=False):
        print(f"  {row.element_id}: {row.heat_not_delivered_mw or 0:.2f} MW not delivered, "
              f"{row.households_affected or 0:,} households, {row.stations_cut_off or 0} stations cut off, "
              f"close {row.valves_to_close} valves" + ("" if row.converged else f"  (failed: {row.error})"))
    return 0


def _progress_bar():
    from tqdm import tqdm

    bar = tqdm(total=0, unit="scenario", file=sys.stderr, disable=None)

    def update(done: int, total: int, _rows) -> None:
        bar.total = total
        bar.update(done - bar.n)
        if done >= total:
            bar.close()
    return update

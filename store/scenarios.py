"""Saved what-if scenarios, their latest results, and N-1 sweeps (progress and ranked rows)."""

from __future__ import annotations

import math

import pandas as pd
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from store.audit import Actor, audited
from store.db import transaction

MAX_NAME_CHARS = 200

SCENARIO_COLUMNS = ("id", "name", "author", "description", "created_at", "updated_at")
SWEEP_COLUMNS = ("id", "kind", "author", "state", "total", "done", "workers", "scheduler", "error",
                 "network_version", "started_at", "finished_at")
SWEEP_ROW_COLUMNS = ("element_id", "converged", "feasible", "heat_not_delivered_mw", "households_affected",
                     "stations_affected", "stations_cut_off", "stations_low_dp", "valves_to_close", "error")


def _json_safe(value):
    """NaN and infinities are not JSON: store them as null."""
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def save_scenario(pool: ConnectionPool, spec: dict, *, actor: Actor, scenario_id: int | None = None,
                  result: dict | None = None, network_version: int | None = None) -> int:
    """Store a scenario (``Scenario.to_dict()``) with ``actor`` as its author, and its ``result`` when given,
    in one audited transaction; with ``scenario_id`` replace that one. Returns its id."""
    name = (spec.get("name") or "").strip()
    if not name or len(name) > MAX_NAME_CHARS:
        raise ValueError(f"name: a scenario needs a name of 1-{MAX_NAME_CHARS} characters")
    spec = {**spec, "author": actor.username}
    values = (name, actor.username, spec.get("description", ""), Jsonb(_json_safe(spec)))
    with audited(pool, actor, "scenario.save", "scenario", scenario_id or "") as change:
        conn = change.conn
        if scenario_id is None:
            scenario_id = conn.execute("INSERT INTO scenario (name, author, description, spec) VALUES"
                                       " (%s, %s, %s, %s) RETURNING id", values).fetchone()[0]
        elif not conn.execute("UPDATE scenario SET name = %s, author = %s, description = %s, spec = %s,"
                              " updated_at = now() WHERE id = %s", (*values, scenario_id)).rowcount:
            raise KeyError(f"scenario {scenario_id} does not exist")
        if result is not None:
            _write_result(conn, scenario_id, result, network_version)
        change.object_id, change.after = str(scenario_id), {"name": name, "changes": spec.get("changes", [])}
    return scenario_id


def list_scenarios(pool: ConnectionPool) -> pd.DataFrame:
    """Saved scenarios, newest first, with the summary of their latest run (or nulls)."""
    with pool.connection() as conn:
        rows = conn.execute(
            f"SELECT {', '.join('s.' + c for c in SCENARIO_COLUMNS)}, r.run_at, r.summary"
            " FROM scenario s LEFT JOIN scenario_result r ON r.scenario_id = s.id"
            " ORDER BY s.updated_at DESC, s.id DESC").fetchall()
    return pd.DataFrame(rows, columns=[*SCENARIO_COLUMNS, "run_at", "summary"])


def get_scenario(pool: ConnectionPool, scenario_id: int) -> dict | None:
    """The stored spec (a dict for ``scenario_from_dict``) with id, author and times; None if absent."""
    with pool.connection() as conn:
        row = conn.execute(f"SELECT {', '.join(SCENARIO_COLUMNS)}, spec FROM scenario WHERE id = %s",
                           (scenario_id,)).fetchone()
    return None if row is None else dict(zip((*SCENARIO_COLUMNS, "spec"), row, strict=True))


class NotYoursError(PermissionError):
    """Deleting somebody else's scenario without the right to."""

    def __init__(self, scenario_id: int, author: str):
        super().__init__(f"scenario {scenario_id} was saved by {author!r}: only they or an administrator may delete it")
        self.scenario_id, self.author = scenario_id, author


def delete_scenario(pool: ConnectionPool, scenario_id: int, *, actor: Actor, anyones: bool = False) -> bool:
    """Delete a saved scenario; only its author may, unless ``anyones`` (the caller's role allows it).
    False when there is no such scenario. Audited, with the deleted spec as ``before``."""
    with audited(pool, actor, "scenario.delete", "scenario", scenario_id) as change:
        row = change.conn.execute("SELECT author, name, spec FROM scenario WHERE id = %s FOR UPDATE",
                                  (scenario_id,)).fetchone()
        if row is None:
            change.detail = "no such scenario"
            return False
        if row[0] != actor.username and not anyones:
            raise NotYoursError(scenario_id, row[0])
        change.conn.execute("DELETE FROM scenario WHERE id = %s", (scenario_id,))
        change.before = {"author": row[0], "name": row[1], "spec": row[2]}
    return True


def _write_result(conn, scenario_id: int, result: dict, network_version: int | None) -> None:
    result = _json_safe(result)
    conn.execute(
        "INSERT INTO scenario_result (scenario_id, network_version, summary, result) VALUES (%s, %s, %s, %s)"
        " ON CONFLICT (scenario_id) DO UPDATE SET run_at = now(), network_version = EXCLUDED.network_version,"
        " summary = EXCLUDED.summary, result = EXCLUDED.result",
        (scenario_id, network_version, Jsonb(result["summary"]), Jsonb(result)))


def save_result(pool: ConnectionPool, scenario_id: int, result: dict, *, network_version: int | None = None) -> None:
    """Store a re-run of a saved scenario (``ScenarioResult.to_dict()``), replacing the previous one: the
    twin's output for a spec already saved (and audited) by a person."""
    with transaction(pool) as conn:
        _write_result(conn, scenario_id, result, network_version)


def get_result(pool: ConnectionPool, scenario_id: int) -> dict | None:
    with pool.connection() as conn:
        row = conn.execute("SELECT run_at, network_version, result FROM scenario_result WHERE scenario_id = %s",
                           (scenario_id,)).fetchone()
    return None if row is None else {"run_at": row[0], "network_version": row[1], **row[2]}


# -- sweeps ----------------------------------------------------------------------------------------

def add_sweep(pool: ConnectionPool, *, total: int, actor: Actor, kind: str = "n1", workers: int = 1,
              scheduler: str = "", network_version: int | None = None) -> int:
    """Record a sweep started by ``actor`` (audited); its rows follow with ``save_sweep_rows``."""
    with audited(pool, actor, "scenario.sweep", "scenario_sweep") as change:
        sweep_id = change.conn.execute(
            "INSERT INTO scenario_sweep (kind, author, total, workers, scheduler, network_version)"
            " VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
            (kind, actor.username, total, workers, scheduler, network_version)).fetchone()[0]
        change.object_id, change.after = str(sweep_id), {"kind": kind, "total": total, "workers": workers}
    return sweep_id


def save_sweep_rows(pool: ConnectionPool, sweep_id: int, rows: pd.DataFrame) -> None:
    """Add finished rows (columns of ``SWEEP_ROW_COLUMNS``) and advance the sweep's progress."""
    present = [c for c in SWEEP_ROW_COLUMNS if c in rows.columns]
    with transaction(pool) as conn:
        with conn.cursor().copy(f"COPY scenario_sweep_row (sweep_id, {', '.join(present)}) FROM STDIN") as copy:
            for row in rows[present].itertuples(index=False, name=None):
                copy.write_row((sweep_id, *(_json_safe(v) for v in row)))
        conn.execute("UPDATE scenario_sweep SET done = (SELECT count(*) FROM scenario_sweep_row"
                     " WHERE sweep_id = %s) WHERE id = %s", (sweep_id, sweep_id))


def finish_sweep(pool: ConnectionPool, sweep_id: int, *, error: str | None = None) -> None:
    with transaction(pool) as conn:
        conn.execute("UPDATE scenario_sweep SET state = %s, error = %s, finished_at = now() WHERE id = %s",
                     ("failed" if error else "done", error, sweep_id))


def get_sweep(pool: ConnectionPool, sweep_id: int | None = None) -> dict | None:
    """A sweep's progress (the latest sweep when no id is given); None if there is none."""
    where, args = ("WHERE id = %s", (sweep_id,)) if sweep_id is not None else ("", ())
    with pool.connection() as conn:
        row = conn.execute(f"SELECT {', '.join(SWEEP_COLUMNS)} FROM scenario_sweep {where}"
                           " ORDER BY started_at DESC, id DESC LIMIT 1", args).fetchone()
    return None if row is None else dict(zip(SWEEP_COLUMNS, row, strict=True))


def get_sweep_ranking(pool: ConnectionPool, sweep_id: int, limit: int | None = None) -> pd.DataFrame:
    """A sweep's rows, most critical first: heat not delivered, then households affected."""
    with pool.connection() as conn:
        rows = conn.execute(
            f"SELECT {', '.join(SWEEP_ROW_COLUMNS)} FROM scenario_sweep_row WHERE sweep_id = %s"
            " ORDER BY heat_not_delivered_mw DESC NULLS LAST, households_affected DESC NULLS LAST, element_id"
            " LIMIT %s", (sweep_id, limit)).fetchall()
    return pd.DataFrame(rows, columns=list(SWEEP_ROW_COLUMNS))

"""The sync loop watches the work orders' SLA clocks once per cycle (on the demo city)."""

from __future__ import annotations

import logging

import pandas as pd

from scripts.cmd_simulate import build_plant
from store import telemetry
from store.alarms import list_open_alarms
from store.db import get_pool, transaction
from store.work_orders.sla import set_due_times_on
from twin.sync import SyncLoop

AT = pd.Timestamp.now(tz="UTC").floor("min") - pd.Timedelta(minutes=2)


def test_a_cycle_raises_the_breach_of_an_order_past_due_and_survives_a_bad_policy(demo_db_url, tmp_path,
                                                                                   monkeypatch, caplog):
    pool = get_pool(demo_db_url)
    telemetry.ingest_rows(pool, build_plant(pool, start=AT, faults=[], noise=False).step(AT, 60.0), origin="test")
    loop = SyncLoop(pool)
    station = str(loop.network.stations["id"].iloc[0])
    with transaction(pool) as conn:
        wo = conn.execute("INSERT INTO work_order (title, asset_id, category, created_at) VALUES"
                          " ('no heat', %s, 'no_heat', %s) RETURNING id",
                          (station, (AT - pd.Timedelta(hours=3)).to_pydatetime())).fetchone()[0]
        set_due_times_on(conn, wo)   # reply due 1 h after filing: breached 2 h ago
    loop.cycle(AT)
    alarms = list_open_alarms(pool, asset_id=station, with_details=True)
    breach = alarms[alarms["cause"] == "sla_breach"]
    assert len(breach) == 1 and breach["details"].iloc[0]["work_order_ids"] == [wo]
    bad = tmp_path / "sla.yaml"
    bad.write_text("priorities: {}\n", encoding="utf-8")
    monkeypatch.setenv("HEATTWIN_SLA_FILE", str(bad))
    with caplog.at_level(logging.ERROR, logger="twin.sync"):
        assert loop.cycle(AT + pd.Timedelta(minutes=1)).converged
    assert "SLA watch skipped" in caplog.text and "priorities.low: missing" in caplog.text

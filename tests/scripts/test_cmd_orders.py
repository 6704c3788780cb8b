"""``heattwin orders`` and ``heattwin notify`` against a real PostgreSQL holding the demo city."""

from __future__ import annotations

import pytest

from scripts.cli import main
from store.audit import Actor, list_audit_events
from store.db import get_pool
from store.notifications import list_outbox
from store.work_orders import add_work_order, get_work_order


@pytest.fixture
def order(demo_db_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", demo_db_url)
    pool = get_pool(demo_db_url)
    return pool, add_work_order(pool, title="阀门井积水", actor=Actor("t"), asset_id="ST-0003", category="leak",
                                priority="urgent")


def test_suggest_dispatch_show_and_the_outbox_from_the_command_line(order, capsys):
    pool, wo_id = order
    assert main(["orders", "suggest", str(wo_id)]) == 0
    best = capsys.readouterr().out.split()[0]
    assert main(["orders", "dispatch", str(wo_id)]) == 0
    assert get_work_order(pool, wo_id)["team_id"] == best and get_work_order(pool, wo_id)["state"] == "dispatched"
    assert main(["orders", "dispatch", str(wo_id), "--team", "T-NONE"]) == 2
    assert "T-NONE" in capsys.readouterr().err
    assert main(["orders", "show", str(wo_id)]) == 0
    shown = capsys.readouterr().out
    assert "dispatched" in shown and "cli:" in shown
    done = list_audit_events(pool, action="work_order.dispatch", outcome="ok")
    assert len(done) == 1 and done["username"].iloc[0].startswith("cli:")
    assert not list_outbox(pool, pending_only=True).empty
    assert main(["notify", "drain"]) == 0
    assert list_outbox(pool, pending_only=True).empty

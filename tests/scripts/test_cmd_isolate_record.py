"""``heattwin isolate PIPE --record``: the valves are being closed, the hotline learns who is without heat."""

from __future__ import annotations

from scripts.cli import main
from store.db import get_pool
from store.incidents import list_active_incidents


def test_recording_an_isolation_makes_an_incident_with_its_stations(demo_db_url, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", demo_db_url)
    pool = get_pool(demo_db_url)
    with pool.connection() as conn:
        pipe = conn.execute("SELECT id FROM asset WHERE kind = 'pipe' ORDER BY id OFFSET 40 LIMIT 1").fetchone()[0]
    assert main(["isolate", pipe, "--record", "--back-in", "4"]) == 0
    assert "recorded as incident #" in capsys.readouterr().out
    active = list_active_incidents(pool)
    assert active["cause_element"].tolist() == [pipe] and active["kind"].tolist() == ["isolation"]
    assert active["expected_back_at"].notna().all() and active["created_by"].str.startswith("cli:").all()

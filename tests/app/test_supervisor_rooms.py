"""The supervisor's map keeps the rooms' compliance it read for ``ROOMS_KEPT_S``, per database and moment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import dash
import pandas as pd
import pytest


@pytest.fixture
def page():
    """The page module (Dash must have an app before a page registers itself)."""
    import importlib
    import sys

    if "pages.supervisor" in sys.modules:  # the app's own copy, as Dash loaded it
        return sys.modules["pages.supervisor"]
    dash.Dash(__name__, use_pages=False)
    return importlib.import_module("app.pages.supervisor")


@pytest.fixture
def reads(monkeypatch, page):
    supervisor = page
    asked, clock = [], [1000.0]
    monkeypatch.setattr(supervisor, "_ROOMS", {})
    monkeypatch.setattr(supervisor.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(supervisor, "get_compliance", lambda pool, *, end, window_s: asked.append(end) or pd.DataFrame(
        {"community_id": ["C-1"], "share_ok": [0.9], "collectors": [10]}))
    return asked, clock


def test_the_rooms_are_read_again_only_after_they_were_kept_long_enough(reads, page):
    supervisor, (asked, clock) = page, reads
    pool, other = SimpleNamespace(conninfo="db-1"), SimpleNamespace(conninfo="db-2")
    january = datetime(2026, 2, 1, tzinfo=UTC)
    first = supervisor._rooms_at(pool, january)
    clock[0] += supervisor.ROOMS_KEPT_S - 1
    assert supervisor._rooms_at(pool, january)[1] is first[1] and asked == [january]
    supervisor._rooms_at(other, january)  # another database
    supervisor._rooms_at(pool, january + timedelta(days=1))  # another moment
    assert len(asked) == 3
    clock[0] += 2
    supervisor._rooms_at(pool, january)
    assert len(asked) == 4


def test_a_running_period_asks_for_now_each_time_and_is_kept_too(reads, page):
    supervisor, (asked, clock) = page, reads
    pool = SimpleNamespace(conninfo="db-1")
    end, _ = supervisor._rooms_at(pool, datetime.now(UTC))
    clock[0] += 5
    assert supervisor._rooms_at(pool, datetime.now(UTC))[0] == end and len(asked) == 1

"""The report's helpers: ok, ordered lines and truncated id lists."""

from __future__ import annotations

from layers.report import Report, listing


def test_ok_and_lines():
    report = Report(warnings=["w"], snaps=["s"])
    assert report.ok
    report.errors.append("e")
    assert not report.ok
    assert report.lines() == ["error: e", "warning: w", "snap: s"]
    assert report.summary() == "1 errors, 1 warnings, 1 snaps"


def test_listing_truncates_with_a_count():
    assert listing(["a", "b"]) == "a, b"
    assert listing([f"N-{i}" for i in range(13)], limit=3) == "N-0, N-1, N-2 (+10 more)"


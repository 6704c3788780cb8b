"""Telemetry: the one validated write path (``ingest_rows``), the queries the twin and the wall
call, and retention. See ``ingest``, ``queries`` and ``retention`` for the details."""

from store.telemetry.ingest import IngestResult, ingest_rows, reject_payload
from store.telemetry.queries import (
    get_compliance,
    get_element_trend,
    get_latest,
    get_trend,
    get_window_means,
    pick_resolution,
    refresh_rollups,
)
from store.telemetry.retention import apply_retention

__all__ = [
    "IngestResult",
    "apply_retention",
    "get_compliance",
    "get_element_trend",
    "get_latest",
    "get_trend",
    "get_window_means",
    "ingest_rows",
    "pick_resolution",
    "refresh_rollups",
    "reject_payload",
]

"""Telemetry: the one validated write path (``ingest_rows``), the queries the twin and the wall
call, the rollups and retention. See ``ingest``, ``queries``, ``rollups`` and ``retention``."""

from store.telemetry.ingest import IngestResult, ingest_rows, reject_payload
from store.telemetry.queries import (
    get_compliance,
    get_element_trend,
    get_latest,
    get_trend,
    get_window_means,
    pick_resolution,
)
from store.telemetry.retention import apply_retention
from store.telemetry.rollups import refresh_rollups

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

"""Files of rows that people hand in (CSV, JSON, YAML), read row by row so that one bad row is refused
alone, with its file, row and field named.

Rows are numbered as the person who made the file sees them: in a CSV the line a spreadsheet shows
(the header is row 1, the first data row is row 2); in JSON or YAML the position in the list, from 1.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

FORMATS = ("csv", "json", "yaml")
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's when built with it: ten times faster


@dataclass(frozen=True)
class RowError:
    """A row refused: where it is, which field, and what to do about it."""

    file: str
    row: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = self.file if self.row is None else f"{self.file}, row {self.row}"
        return f"{where}, field {self.field}: {self.message}"

    def as_dict(self) -> dict:
        return {"file": self.file, "row": self.row, "field": self.field, "message": self.message}


class FileRefused(ValueError):
    """The whole file cannot be read (not CSV/JSON/YAML, no list of rows): nothing of it was used."""


class FieldError(ValueError):
    """A value refused by a check; ``field`` names it (the message says what the rule is)."""

    def __init__(self, field_name: str, message: str):
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.message = message


@dataclass
class ImportResult:
    """What an import did: rows added (new), changed, found unchanged, and the rows refused."""

    file: str
    added: list = field(default_factory=list)
    updated: list = field(default_factory=list)
    unchanged: list = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"file": self.file, "added": len(self.added), "updated": len(self.updated),
                "unchanged": len(self.unchanged), "refused": len(self.errors),
                "errors": [e.as_dict() for e in self.errors]}

    def summary(self) -> str:
        return (f"{self.file}: {len(self.added)} added, {len(self.updated)} updated, {len(self.unchanged)} unchanged,"
                f" {len(self.errors)} refused")


def file_format(path: Path, fmt: str | None = None) -> str:
    """The format named, or the one the file's suffix says."""
    chosen = (fmt or Path(path).suffix.lstrip(".")).lower()
    chosen = "yaml" if chosen == "yml" else chosen
    if chosen not in FORMATS:
        raise FileRefused(f"{path}: cannot tell the format from '{Path(path).suffix}'; use .csv, .json or .yaml"
                          " (or say --format)")
    return chosen


def decode(raw: bytes, name: str) -> str:
    """UTF-8 (with or without a BOM), else GB18030: what Excel in a Chinese office saves."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise FileRefused(f"{name}: neither UTF-8 nor GB18030 text; save it as UTF-8")


def _csv_rows(text: str, name: str) -> list[tuple[int, dict]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if not header:
        raise FileRefused(f"{name}: empty, or no header row")
    header = [h.strip() for h in header]
    rows = []
    for values in reader:
        if not any(v.strip() for v in values):
            continue
        row = dict(zip(header, values, strict=False))
        if len(values) > len(header):
            row["__extra__"] = values[len(header):]
        rows.append((reader.line_num, row))
    return rows


def _listed(data, list_key: str, name: str) -> list:
    if isinstance(data, Mapping) and isinstance(data.get(list_key), list):
        return data[list_key]
    if isinstance(data, Mapping):
        return [data]
    if isinstance(data, list):
        return data
    raise FileRefused(f"{name}: expected a list of rows (or an object with a '{list_key}' list)")


def parse_rows(text: str, fmt: str, name: str, list_key: str) -> list[tuple[int, object]]:
    """(row number, row) of every row of ``text``; a row of JSON/YAML may be anything (checked later)."""
    if fmt == "csv":
        return _csv_rows(text, name)
    try:
        data = json.loads(text) if fmt == "json" else yaml.load(text, Loader=_YAML_LOADER)
    except (ValueError, yaml.YAMLError) as exc:
        raise FileRefused(f"{name}: not valid {fmt.upper()}: {exc}") from exc
    return list(enumerate(_listed(data, list_key, name), start=1))


def read_rows(path: Path, list_key: str, fmt: str | None = None) -> list[tuple[int, object]]:
    """The rows of the file at ``path`` (see ``parse_rows``)."""
    path = Path(path)
    chosen = file_format(path, fmt)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise FileRefused(f"{path}: cannot be read ({exc.strerror})") from exc
    return parse_rows(decode(raw, path.name), chosen, path.name, list_key)


def parse_time(value, field_name: str, *, timezone: str, end_of_day: bool = False) -> datetime | None:
    """A moment from a file: ISO 8601 (``2025-11-15T08:30+08:00``), ``2025-11-15 08:30`` or ``2025/11/15 08:30``
    in ``timezone`` when it names none, or a date alone (its start; its end with ``end_of_day``, for a
    "valid until" date). Empty is None."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time()) + (timedelta(days=1) if end_of_day else timedelta())
    else:
        text = str(value).strip().replace("/", "-")
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError as exc:
            raise FieldError(field_name, f"{value!r} is not a time (write 2025-11-15 08:30, or a date"
                                         " 2025-11-15)") from exc
        if len(text) <= 10 and end_of_day:
            moment += timedelta(days=1)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=ZoneInfo(timezone))

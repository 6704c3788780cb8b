"""China's official working days, and working-day arithmetic in the network's time zone.

``chinesecalendar`` gives the years it covers: public holidays and the 调休 make-up working Saturdays and
Sundays the State Council announces. Later years come from a file an admin loads
(``heattwin calendar load FILE``) into ``calendar_day`` (one row per listed day, overriding the library)
and ``calendar_year`` (the years the file declared complete). A year neither covers raises
``CalendarMissing`` naming the year and the remedy: a Monday of an unknown year is never assumed to be
a working day.

A working day is the whole local day (00:00–24:00 in ``HEATTWIN_TIMEZONE``) of a working date; working
hours are the office hours of working dates. Moments go in and come out as UTC-aware datetimes.
"""

from __future__ import annotations

import csv
import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import chinese_calendar
import pandas as pd
import yaml
from psycopg_pool import ConnectionPool

from heattwin.settings import load_settings
from store.audit import Actor, audited

LIBRARY = f"chinesecalendar {chinese_calendar.__version__}"
LIBRARY_YEARS = range(min(chinese_calendar.holidays).year, max(chinese_calendar.holidays).year + 1)
OFFICE_OPENS = time(8, 30)   # working hours: local office hours of a working date
OFFICE_CLOSES = time(17, 30)
MAX_NOTE_CHARS = 200
_MAX_DAYS_WALKED = 3700      # ten years: arithmetic that walks further has a calendar without working days
_TRUE = {"true", "yes", "1", "是"}
_FALSE = {"false", "no", "0", "否"}
_FILE_KEYS = {"source", "complete_years", "days"}
_DAY_FIELDS = ("date", "workday", "note")


class CalendarMissing(LookupError):
    """A date in a year without official working-day data."""

    def __init__(self, year: int, coverage: str):
        super().__init__(
            f"no official working-day calendar for {year} ({coverage}): load the State Council's {year} "
            f"holiday list with `heattwin calendar load FILE` (rows: date, workday, note; the file declares the "
            f"year complete) — `heattwin calendar status` shows which years are covered")
        self.year = year


class CalendarFileError(ValueError):
    """A calendar file that cannot be loaded: names the file, the row and the field."""

    def __init__(self, path: Path | str, where: str, rule: str):
        super().__init__(f"{path}: {where}: {rule}")


@dataclass(frozen=True)
class WorkCalendar:
    """Which dates are working dates: the loaded days, then the library, then the complete loaded years.

    Parameters
    ----------
    days : mapping of date to bool
        Days loaded from files (``calendar_day``), True for a working date; they override the library.
    complete_years : frozenset of int
        Years a file declared complete: their unlisted dates follow the week (Monday–Friday work).
    """

    days: Mapping[date, bool] = field(default_factory=dict)
    complete_years: frozenset[int] = frozenset()

    def is_workday(self, day: date) -> bool:
        """Whether ``day`` is an official working date; ``CalendarMissing`` for a year without data."""
        listed = self.days.get(day)
        if listed is not None:
            return listed
        if day.year in LIBRARY_YEARS:
            return _library_workday(day)
        if day.year in self.complete_years:
            return day.weekday() < 5
        raise CalendarMissing(day.year, self.coverage())

    def covers(self, year: int) -> bool:
        return year in LIBRARY_YEARS or year in self.complete_years

    def coverage(self) -> str:
        loaded = sorted(self.complete_years - set(LIBRARY_YEARS))
        partial = sorted({d.year for d in self.days} - set(LIBRARY_YEARS) - self.complete_years)
        text = f"{LIBRARY} covers {LIBRARY_YEARS.start}–{LIBRARY_YEARS.stop - 1}"
        if loaded:
            text += f"; loaded: {', '.join(map(str, loaded))}"
        if partial:
            text += f"; loaded but not declared complete: {', '.join(map(str, partial))}"
        return text


@functools.cache
def _library_workday(day: date) -> bool:
    return chinese_calendar.is_workday(day)


# -- arithmetic ------------------------------------------------------------------------------------------

def _zone(timezone: str | None) -> ZoneInfo:
    return ZoneInfo(timezone or load_settings().timezone)


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError(f"{moment!r}: a moment needs its time zone (store and compute in UTC)")
    return moment.astimezone(UTC)


def _window(day: date, zone: ZoneInfo, opens: time | None, closes: time | None) -> tuple[datetime, datetime]:
    """The working span of ``day`` in UTC: the whole local day, or its office hours."""
    start = datetime.combine(day, opens or time(0), tzinfo=zone)
    end = datetime.combine(day, closes, tzinfo=zone) if closes else \
        datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def _windows(calendar: WorkCalendar, first: date, last: date | None, zone: ZoneInfo, opens: time | None,
             closes: time | None) -> Iterator[tuple[datetime, datetime]]:
    """The working spans of the working dates from ``first`` (to ``last``, or on without end)."""
    for n in range(_MAX_DAYS_WALKED):
        day = first + timedelta(days=n)
        if last is not None and day > last:
            return
        if calendar.is_workday(day):
            yield _window(day, zone, opens, closes)
    raise ValueError(f"no working day in {_MAX_DAYS_WALKED} days from {first}: check the loaded calendar")


def _add(calendar: WorkCalendar, at: datetime, seconds: float, timezone: str | None, opens: time | None,
         closes: time | None) -> datetime:
    if seconds < 0:
        raise ValueError(f"working time to add must not be negative (got {seconds} s)")
    at = _utc(at)
    if seconds == 0:
        return at
    zone = _zone(timezone)
    left = float(seconds)
    for start, end in _windows(calendar, at.astimezone(zone).date(), None, zone, opens, closes):
        start = max(start, at)
        span = (end - start).total_seconds()
        if span <= 0:
            continue
        if left <= span:
            return start + timedelta(seconds=left)
        left -= span
    raise AssertionError("unreachable: _windows ends by raising")


def add_working_days(calendar: WorkCalendar, at: datetime, days: float, *, timezone: str | None = None) -> datetime:
    """``at`` plus ``days`` working days: time runs only on working dates, 24 h each.

    Filed on Friday 15:00, two working days are due on Tuesday 15:00; filed on a Saturday, on Tuesday
    24:00 (Wednesday 00:00). ``CalendarMissing`` when the count reaches a year without data.

    Parameters
    ----------
    calendar : WorkCalendar
    at : datetime
        Start (time-zone aware).
    days : float
        Working days to add (fractions allowed, not negative).
    timezone : str, optional
        IANA zone the dates are counted in (default ``HEATTWIN_TIMEZONE``).

    Returns
    -------
    datetime
        The moment, in UTC.
    """
    return _add(calendar, at, days * 86400.0, timezone, None, None)


def add_working_hours(calendar: WorkCalendar, at: datetime, hours: float, *, timezone: str | None = None,
                      opens: time = OFFICE_OPENS, closes: time = OFFICE_CLOSES) -> datetime:
    """``at`` plus ``hours`` of office hours (``opens``–``closes`` local time) on working dates, in UTC."""
    if not opens < closes:
        raise ValueError(f"office hours must open before they close (got {opens}–{closes})")
    return _add(calendar, at, hours * 3600.0, timezone, opens, closes)


def working_seconds_between(calendar: WorkCalendar, start: datetime, end: datetime, *,
                            timezone: str | None = None) -> float:
    """Seconds of working days (whole local working dates) between ``start`` and ``end``; 0 if ``end`` ≤ ``start``."""
    start, end = _utc(start), _utc(end)
    if end <= start:
        return 0.0
    zone = _zone(timezone)
    total = 0.0
    for w_start, w_end in _windows(calendar, start.astimezone(zone).date(), end.astimezone(zone).date(), zone,
                                   None, None):
        total += max(0.0, (min(w_end, end) - max(w_start, start)).total_seconds())
    return total


# -- the store -------------------------------------------------------------------------------------------

def read_work_calendar(conn) -> WorkCalendar:
    """The calendar as the store holds it, on ``conn`` (inside the caller's transaction)."""
    days = dict(conn.execute("SELECT day, workday FROM calendar_day").fetchall())
    years = frozenset(r[0] for r in conn.execute("SELECT year FROM calendar_year").fetchall())
    return WorkCalendar(days=days, complete_years=years)


def get_work_calendar(pool: ConnectionPool) -> WorkCalendar:
    with pool.connection() as conn:
        return read_work_calendar(conn)


def calendar_status(pool: ConnectionPool) -> pd.DataFrame:
    """Every year with working-day data: ``year, source, complete, days, loaded_by, loaded_at``.

    The library's years show as one row each with source ``chinesecalendar <version>``; a loaded year
    shows the file's source, how many days it listed, and whether the file declared it complete.
    """
    with pool.connection() as conn:
        rows = conn.execute(
            "SELECT coalesce(y.year, d.year), coalesce(y.source, d.source), y.year IS NOT NULL,"
            " coalesce(d.days, 0), coalesce(y.loaded_by, d.loaded_by), coalesce(y.loaded_at, d.loaded_at)"
            " FROM calendar_year y FULL JOIN (SELECT extract(year FROM day)::int AS year, count(*) AS days,"
            " max(source) AS source, max(loaded_by) AS loaded_by, max(loaded_at) AS loaded_at"
            " FROM calendar_day GROUP BY 1) d ON d.year = y.year ORDER BY 1").fetchall()
    columns = ["year", "source", "complete", "days", "loaded_by", "loaded_at"]
    loaded = pd.DataFrame(rows, columns=columns)
    library = pd.DataFrame({"year": list(LIBRARY_YEARS), "source": LIBRARY, "complete": True, "days": 0,
                            "loaded_by": "", "loaded_at": pd.NaT})
    library = library[~library["year"].isin(loaded["year"])]
    frames = [f for f in (library, loaded) if not f.empty]
    return pd.concat(frames, ignore_index=True).sort_values("year", ignore_index=True) if frames else loaded


# -- calendar files --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CalendarDay:
    day: date
    workday: bool
    note: str
    row: str  # where the file lists it, for error messages


@dataclass(frozen=True)
class CalendarFile:
    """A parsed, validated calendar file."""

    path: Path
    source: str
    complete_years: tuple[int, ...]
    days: tuple[CalendarDay, ...]


def read_calendar_file(path: Path | str) -> CalendarFile:
    """Parse and validate a YAML or CSV calendar file; ``CalendarFileError`` names the row and field.

    YAML::

        source: 国务院办公厅关于2027年部分节假日安排的通知
        complete_years: [2027]
        days:
          - {date: 2027-01-01, workday: false, note: 元旦}

    CSV: a header ``date,workday,note`` and one row per day; ``# source: …`` and
    ``# complete_years: 2027`` lines above the header. A year counts as complete only when the file
    lists it under ``complete_years``.
    """
    path = Path(path)
    if not path.is_file():
        raise CalendarFileError(path, "file", "not found")
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        source, years, raw = _yaml_rows(path)
    elif suffix == ".csv":
        source, years, raw = _csv_rows(path)
    else:
        raise CalendarFileError(path, "file", f"unknown format {suffix!r}: use .yaml, .yml or .csv")
    days = tuple(_day(path, where, values) for where, values in raw)
    _check_days(path, days, years)
    return CalendarFile(path, source or path.name, years, days)


class _DatesAsText(yaml.SafeLoader):
    """YAML without its own date parsing: a bad date is reported by row and field like any other."""


_DatesAsText.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}


def _yaml_rows(path: Path) -> tuple[str, tuple[int, ...], list[tuple[str, dict]]]:
    try:
        doc = yaml.load(path.read_text(encoding="utf-8"), Loader=_DatesAsText)  # noqa: S506 (a SafeLoader)
    except yaml.YAMLError as exc:
        raise CalendarFileError(path, "file", f"not valid YAML ({exc})") from exc
    if not isinstance(doc, dict):
        raise CalendarFileError(path, "file", "must be a mapping with source, complete_years and days")
    unknown = set(doc) - _FILE_KEYS
    if unknown:
        raise CalendarFileError(path, f"key {sorted(map(str, unknown))[0]}",
                                f"unknown key: use {', '.join(sorted(_FILE_KEYS))}")
    rows = doc.get("days")
    if not isinstance(rows, list) or not rows:
        raise CalendarFileError(path, "key days", "must be a non-empty list of {date, workday, note}")
    out = []
    for n, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            raise CalendarFileError(path, f"days row {n}", "must be a mapping {date, workday, note}")
        out.append((f"days row {n}", row))
    return _source(path, doc.get("source")), _years(path, doc.get("complete_years", [])), out


def _csv_rows(path: Path) -> tuple[str, tuple[int, ...], list[tuple[str, dict]]]:
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    meta: dict[str, str] = {}
    body_at = 0
    for n, line in enumerate(lines):
        if not line.strip().startswith("#"):
            body_at = n
            break
        key, sep, value = line.strip().lstrip("#").partition(":")
        if sep and key.strip() in ("source", "complete_years"):
            meta[key.strip()] = value.strip()
    else:
        body_at = len(lines)
    reader = csv.DictReader(lines[body_at:])
    missing = [f for f in ("date", "workday") if f not in (reader.fieldnames or [])]
    if missing:
        raise CalendarFileError(path, f"row {body_at + 1}", f"the header needs the columns date, workday, note "
                                f"(missing {', '.join(missing)})")
    out = [(f"row {body_at + 1 + n}", row) for n, row in enumerate(reader, start=1)]
    if not out:
        raise CalendarFileError(path, "file", "lists no day")
    years = [y.strip() for y in meta.get("complete_years", "").split(",") if y.strip()]
    return _source(path, meta.get("source")), _years(path, years), out


def _source(path: Path, value) -> str:
    if value is not None and not isinstance(value, str):
        raise CalendarFileError(path, "source", "must be text (the notice the list comes from)")
    return (value or "").strip()[:MAX_NOTE_CHARS]


def _years(path: Path, values) -> tuple[int, ...]:
    if not isinstance(values, list):
        raise CalendarFileError(path, "complete_years", "must be a list of years, e.g. [2027]")
    years = []
    for value in values:
        try:
            year = int(str(value))
        except ValueError:
            raise CalendarFileError(path, "complete_years", f"{value!r} is not a year") from None
        if not 1949 <= year <= 2200:
            raise CalendarFileError(path, "complete_years", f"{year} is not a plausible year")
        years.append(year)
    return tuple(sorted(set(years)))


def _day(path: Path, where: str, values: dict) -> CalendarDay:
    if None in values:
        raise CalendarFileError(path, where, "more fields than the header (date, workday, note)")
    unknown = sorted(str(k) for k in values if k not in _DAY_FIELDS)
    if unknown:
        raise CalendarFileError(path, f"{where}, field {unknown[0]}", f"unknown field: use {', '.join(_DAY_FIELDS)}")
    return CalendarDay(_date(path, where, values.get("date")), _workday(path, where, values.get("workday")),
                       _note(path, where, values.get("note")), where)


def _date(path: Path, where: str, value) -> date:
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise CalendarFileError(path, f"{where}, field date",
                                f"{value!r} is not a date in the form YYYY-MM-DD") from None


def _workday(path: Path, where: str, value) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower() if value is not None else ""
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    raise CalendarFileError(path, f"{where}, field workday", f"{value!r} must be true or false")


def _note(path: Path, where: str, value) -> str:
    note = "" if value is None else str(value).strip()
    if len(note) > MAX_NOTE_CHARS:
        raise CalendarFileError(path, f"{where}, field note", f"at most {MAX_NOTE_CHARS} characters")
    return note


def _check_days(path: Path, days: tuple[CalendarDay, ...], complete_years: tuple[int, ...]) -> None:
    first: dict[date, str] = {}
    for d in days:
        if d.day in first:
            raise CalendarFileError(path, f"{d.row}, field date", f"{d.day} is listed twice (also {first[d.day]})")
        first[d.day] = d.row
    listed_years = {d.day.year for d in days}
    for year in complete_years:
        if year not in listed_years:
            raise CalendarFileError(path, "complete_years", f"{year} is declared complete but no day of it is "
                                    "listed (a year's list has at least its public holidays)")


def load_calendar_file(pool: ConnectionPool, path: Path | str, *, actor: Actor) -> dict:
    """Load a calendar file into the store, in one audited transaction; returns what was loaded.

    Its days override the library and earlier loads; a year the file declares complete replaces
    everything loaded for that year before and is marked complete (``calendar_year``).
    """
    parsed = read_calendar_file(path)
    years = list(parsed.complete_years)
    with audited(pool, actor, "calendar.load", "calendar", parsed.path.name) as change:
        conn = change.conn
        change.before = {"years": _loaded_years(conn, sorted({d.day.year for d in parsed.days}))}
        conn.execute("CREATE TEMP TABLE calendar_day_load (day date, workday boolean, note text) ON COMMIT DROP")
        with conn.cursor().copy("COPY calendar_day_load (day, workday, note) FROM STDIN") as copy:
            for d in parsed.days:
                copy.write_row((d.day, d.workday, d.note))
        conn.execute("DELETE FROM calendar_day WHERE extract(year FROM day)::int = ANY(%s)", (years,))
        conn.execute(
            "INSERT INTO calendar_day (day, workday, note, source, loaded_by)"
            " SELECT day, workday, note, %s, %s FROM calendar_day_load ON CONFLICT (day) DO UPDATE SET"
            " workday = EXCLUDED.workday, note = EXCLUDED.note, source = EXCLUDED.source,"
            " loaded_at = now(), loaded_by = EXCLUDED.loaded_by", (parsed.source, actor.username))
        conn.execute(
            "INSERT INTO calendar_year (year, source, loaded_by) SELECT unnest(%s::int[]), %s, %s"
            " ON CONFLICT (year) DO UPDATE SET source = EXCLUDED.source, loaded_at = now(),"
            " loaded_by = EXCLUDED.loaded_by", (years, parsed.source, actor.username))
        summary = {"file": str(parsed.path), "source": parsed.source, "days": len(parsed.days),
                   "complete_years": years, "years": sorted({d.day.year for d in parsed.days})}
        change.after = summary
    return summary


def _loaded_years(conn, years: list[int]) -> dict[str, int]:
    rows = conn.execute("SELECT extract(year FROM day)::int, count(*) FROM calendar_day"
                        " WHERE extract(year FROM day)::int = ANY(%s) GROUP BY 1", (years,)).fetchall()
    return {str(year): n for year, n in rows}

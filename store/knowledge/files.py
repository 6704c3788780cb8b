"""Entries from a file (YAML, CSV, JSON): ``heattwin kb import`` and the demo's seed.

A row is ``ref`` (optional key, e.g. KB-0001), ``title``, ``answer``, ``category``, ``keywords`` (a list,
or one text split at commas, 、 or spaces), ``valid_from`` and ``valid_to`` (dates are days in
``HEATTWIN_TIMEZONE``; ``valid_to`` is the last day offered). A row with a ``ref`` updates the entry of
that ref; one without updates the entry of the same title, if any. Bad rows are refused with file, row
and field; the others are loaded together (``COPY`` into a staging table, then one upsert), each
change audited with the entry before and after.
"""

from __future__ import annotations

from pathlib import Path

from psycopg_pool import ConnectionPool

from heattwin.segment import normalize
from heattwin.settings import load_settings
from store.audit import Actor, audited, insert_event
from store.knowledge.core import EDITABLE_FIELDS, EntryText, check_entry
from store.rowfiles import FieldError, ImportResult, RowError, parse_time, read_rows

_FIELDS = EDITABLE_FIELDS
_ALIASES = {"编号": "ref", "问题": "title", "标题": "title", "question": "title", "答案": "answer", "答复": "answer",
            "分类": "category", "类别": "category", "关键词": "keywords", "生效日期": "valid_from",
            "失效日期": "valid_to"}
_STAGE_COLUMNS = ("row_no", "ref", "title", "answer", "category", "keywords", "valid_from", "valid_to",
                  "title_key", "title_terms", "keyword_terms", "answer_terms")


def _entry_of(raw, timezone: str) -> EntryText:
    if not isinstance(raw, dict):
        raise FieldError("row", f"expected fields ({', '.join(_FIELDS)}), got {type(raw).__name__}")
    row = {_ALIASES.get(str(k).strip(), str(k).strip().lower()): v for k, v in raw.items()}
    unknown = sorted(set(row) - set(_FIELDS))
    if unknown:
        raise FieldError(unknown[0], f"not a field of an entry (one of {', '.join(_FIELDS)})")
    return check_entry(title=row.get("title"), answer=row.get("answer"), category=row.get("category") or "enquiry",
                       keywords=row.get("keywords"), ref=row.get("ref"),
                       valid_from=parse_time(row.get("valid_from"), "valid_from", timezone=timezone),
                       valid_to=parse_time(row.get("valid_to"), "valid_to", timezone=timezone, end_of_day=True))


def read_entries(path: Path, fmt: str | None = None) -> tuple[list[tuple[int, EntryText]], list[RowError]]:
    """The file's entries, checked, and the rows refused (a ref or title twice: the later row)."""
    timezone, name = load_settings().timezone, Path(path).name
    entries, errors, seen = [], [], {}
    for row_no, raw in read_rows(path, "entries", fmt):
        try:
            entry = _entry_of(raw, timezone)
        except FieldError as exc:
            errors.append(RowError(name, row_no, exc.field, exc.message))
            continue
        key = _key(entry.ref, normalize(entry.title))
        if key in seen:
            errors.append(RowError(name, row_no, key[0], f"{getattr(entry, key[0])!r} is on row {seen[key]} already"))
            continue
        seen[key] = row_no
        entries.append((row_no, entry))
    return entries, errors


_STAGE = """
CREATE TEMP TABLE kb_stage (row_no integer, ref text, title text, answer text, category work_order_category,
    keywords text[], valid_from timestamptz, valid_to timestamptz, title_key text, title_terms text[],
    keyword_terms text[], answer_terms text[], target bigint) ON COMMIT DROP
"""
# The entry each row is for: the same ref, else (a row without one) the first entry of the same title.
_TARGET = """
UPDATE kb_stage s SET target = coalesce(
    (SELECT k.id FROM kb_entry k WHERE s.ref IS NOT NULL AND k.ref = s.ref),
    (SELECT min(k.id) FROM kb_entry k WHERE s.ref IS NULL AND k.title_key = s.title_key))
"""
_CHANGED = """
SELECT s.row_no, k.id, k.ref, k.title, k.answer, k.category::text, k.keywords, k.valid_from, k.valid_to
FROM kb_stage s JOIN kb_entry k ON k.id = s.target
WHERE (k.ref, k.title, k.answer, k.category, k.keywords, k.valid_from, k.valid_to)
      IS DISTINCT FROM (coalesce(s.ref, k.ref), s.title, s.answer, s.category, s.keywords, s.valid_from, s.valid_to)
"""
_UPDATE = """
UPDATE kb_entry k SET ref = coalesce(s.ref, k.ref), title = s.title, answer = s.answer, category = s.category,
    keywords = s.keywords, valid_from = s.valid_from, valid_to = s.valid_to, updated_by = %(by)s, updated_at = now(),
    title_key = s.title_key, terms_title = array_to_tsvector(s.title_terms),
    terms_keywords = array_to_tsvector(s.keyword_terms), terms_answer = array_to_tsvector(s.answer_terms)
FROM kb_stage s WHERE k.id = s.target AND s.row_no = ANY(%(rows)s)
"""
_INSERT = """
INSERT INTO kb_entry (ref, title, answer, category, keywords, valid_from, valid_to, author, updated_by, title_key,
    terms_title, terms_keywords, terms_answer)
SELECT ref, title, answer, category, keywords, valid_from, valid_to, %(by)s, %(by)s, title_key,
    array_to_tsvector(title_terms), array_to_tsvector(keyword_terms), array_to_tsvector(answer_terms)
FROM kb_stage WHERE target IS NULL ORDER BY row_no
RETURNING id, ref, title_key
"""


def _key(ref: str | None, title_key: str) -> tuple[str, str]:
    """What a row is known by: its ref, else its title."""
    return ("ref", ref) if ref else ("title", title_key)


def _stage(conn, entries: list[tuple[int, EntryText]]) -> None:
    conn.execute(_STAGE)
    with conn.cursor().copy(f"COPY kb_stage ({', '.join(_STAGE_COLUMNS)}) FROM STDIN") as copy:
        for row_no, entry in entries:
            row = entry.row()
            copy.write_row([row_no, *(row[c] for c in _STAGE_COLUMNS[1:])])
    conn.execute(_TARGET)


def _audit_entries(conn, actor: Actor, name: str, changes: list[tuple[str, int, dict | None, dict]]) -> None:
    for verb, entry_id, before, after in changes:
        insert_event(conn, actor, "kb.manage", object_type="kb_entry", object_id=str(entry_id), before=before,
                     after=after, outcome="ok", detail=f"entry {verb} from {name}")


def _upsert(conn, entries: list[tuple[int, EntryText]], actor: Actor, name: str, result: ImportResult) -> None:
    by_row = dict(entries)
    by_key = {_key(entry.ref, normalize(entry.title)): entry for entry in by_row.values()}
    changed = conn.execute(_CHANGED).fetchall()
    before = {r[0]: (r[1], dict(zip(EDITABLE_FIELDS, r[2:], strict=True))) for r in changed}
    conn.execute(_UPDATE, {"by": actor.username, "rows": list(before)})
    inserted = conn.execute(_INSERT, {"by": actor.username}).fetchall()
    targets = [r[0] for r in conn.execute("SELECT target FROM kb_stage WHERE target IS NOT NULL ORDER BY row_no")]
    result.updated = [entry_id for entry_id, _ in before.values()]
    result.added = [r[0] for r in inserted]
    result.unchanged = sorted(set(targets) - set(result.updated))
    changes = [("changed", entry_id, old, by_row[row].as_dict()) for row, (entry_id, old) in sorted(before.items())]
    changes += [("added", entry_id, None, by_key[_key(ref, title_key)].as_dict())
                for entry_id, ref, title_key in inserted]
    _audit_entries(conn, actor, name, changes)


def import_entries(pool: ConnectionPool, path: Path, *, actor: Actor, fmt: str | None = None) -> ImportResult:
    """Add or update the entries of the file at ``path``; bad rows are refused and listed, the rest load
    in one audited transaction (``kb.manage``)."""
    name = Path(path).name
    entries, errors = read_entries(path, fmt)
    result = ImportResult(name, errors=errors)
    if not entries:
        return result
    with audited(pool, actor, "kb.manage", "kb_import", name) as change:
        _stage(change.conn, entries)
        _upsert(change.conn, entries, actor, name, result)
        change.after = {k: v for k, v in result.as_dict().items() if k != "errors"}
        change.detail = result.summary()
    return result

"""Knowledge-base entries: a question (its title), the answer the agent reads out, a category of
``heattwin.choices.WORK_ORDER_CATEGORY``, keywords and the time it is valid. Supervisors manage them;
every change is audited with the entry before and after."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

import pandas as pd
from psycopg_pool import ConnectionPool

from heattwin.choices import work_order_category_values
from heattwin.segment import index_terms, normalize
from store.audit import Actor, audited
from store.rowfiles import FieldError

MAX_TITLE_CHARS = 200
MAX_ANSWER_CHARS = 4000
MAX_KEYWORDS = 20
MAX_KEYWORD_CHARS = 30
MAX_REF_CHARS = 60
ENTRY_COLUMNS = ("id", "ref", "title", "answer", "category", "keywords", "valid_from", "valid_to", "author",
                 "created_at", "updated_by", "updated_at")
_SELECT = ("SELECT id, ref, title, answer, category::text, keywords, valid_from, valid_to, author, created_at,"
           " updated_by, updated_at FROM kb_entry")
_KEYWORD_SPLIT = re.compile(r"[,，、;；\s]+")
EDITABLE_FIELDS = ("ref", "title", "answer", "category", "keywords", "valid_from", "valid_to")


@dataclass(frozen=True)
class EntryText:
    """An entry's fields, checked, with the search terms they give."""

    title: str
    answer: str
    category: str
    keywords: tuple[str, ...]
    valid_from: datetime | None
    valid_to: datetime | None
    ref: str | None = None

    def row(self) -> dict:
        """The kb_entry columns (the terms as arrays: the SQL makes them tsvectors)."""
        return {"ref": self.ref, "title": self.title, "answer": self.answer, "category": self.category,
                "keywords": list(self.keywords), "valid_from": self.valid_from, "valid_to": self.valid_to,
                "title_key": normalize(self.title), "title_terms": index_terms(self.title),
                "keyword_terms": sorted({t for k in self.keywords for t in (normalize(k), *index_terms(k)) if t}),
                "answer_terms": index_terms(self.answer)}

    def as_dict(self) -> dict:
        return {"ref": self.ref, "title": self.title, "answer": self.answer, "category": self.category,
                "keywords": list(self.keywords), "valid_from": self.valid_from, "valid_to": self.valid_to}


def _text(name: str, value, limit: int, required: bool = True) -> str:
    text = "" if value is None else str(value).strip()
    if required and not text:
        raise FieldError(name, "required, and empty")
    if len(text) > limit:
        raise FieldError(name, f"at most {limit} characters (got {len(text)})")
    return text


def _keywords(value) -> tuple[str, ...]:
    if value is None:
        return ()
    words = _KEYWORD_SPLIT.split(value) if isinstance(value, str) else [str(v) for v in value]
    words = tuple(dict.fromkeys(w.strip() for w in words if w and w.strip()))
    if len(words) > MAX_KEYWORDS:
        raise FieldError("keywords", f"at most {MAX_KEYWORDS} (got {len(words)})")
    too_long = [w for w in words if len(w) > MAX_KEYWORD_CHARS]
    if too_long:
        raise FieldError("keywords", f"each at most {MAX_KEYWORD_CHARS} characters: {too_long[0]!r}")
    return words


def check_entry(*, title, answer, category="enquiry", keywords=None, valid_from: datetime | None = None,
                valid_to: datetime | None = None, ref=None) -> EntryText:
    """The fields of an entry, checked (``FieldError`` names the field); times must carry their zone."""
    category = _text("category", category or "enquiry", 40)
    if category not in work_order_category_values:
        raise FieldError("category", f"{category!r} is not one of {', '.join(work_order_category_values)}")
    for name, moment in (("valid_from", valid_from), ("valid_to", valid_to)):
        if moment is not None and moment.tzinfo is None:
            raise FieldError(name, f"{moment} needs its time zone")
    if valid_from is not None and valid_to is not None and valid_to <= valid_from:
        raise FieldError("valid_to", f"{valid_to:%Y-%m-%d %H:%M} is not after valid_from {valid_from:%Y-%m-%d %H:%M}")
    title = _text("title", title, MAX_TITLE_CHARS)
    if not normalize(title):
        raise FieldError("title", f"{title!r} has no letters, digits or Chinese characters to find it by")
    return EntryText(title=title, answer=_text("answer", answer, MAX_ANSWER_CHARS), category=category,
                     keywords=_keywords(keywords), valid_from=valid_from, valid_to=valid_to,
                     ref=_text("ref", ref, MAX_REF_CHARS, required=False) or None)


INSERT_SQL = (
    "INSERT INTO kb_entry (ref, title, answer, category, keywords, valid_from, valid_to, author, updated_by,"
    " title_key, terms_title, terms_keywords, terms_answer)"
    " VALUES (%(ref)s, %(title)s, %(answer)s, %(category)s, %(keywords)s, %(valid_from)s, %(valid_to)s, %(by)s,"
    " %(by)s, %(title_key)s, array_to_tsvector(%(title_terms)s::text[]),"
    " array_to_tsvector(%(keyword_terms)s::text[]), array_to_tsvector(%(answer_terms)s::text[])) RETURNING id")
UPDATE_SQL = (
    "UPDATE kb_entry SET ref = %(ref)s, title = %(title)s, answer = %(answer)s, category = %(category)s,"
    " keywords = %(keywords)s, valid_from = %(valid_from)s, valid_to = %(valid_to)s, updated_by = %(by)s,"
    " updated_at = now(), title_key = %(title_key)s, terms_title = array_to_tsvector(%(title_terms)s::text[]),"
    " terms_keywords = array_to_tsvector(%(keyword_terms)s::text[]),"
    " terms_answer = array_to_tsvector(%(answer_terms)s::text[]) WHERE id = %(id)s")


def add_entry(pool: ConnectionPool, *, title: str, answer: str, actor: Actor, category: str = "enquiry",
              keywords=None, valid_from: datetime | None = None, valid_to: datetime | None = None,
              ref: str | None = None) -> int:
    """A new entry; returns its id. Audited (``kb.manage``)."""
    entry = check_entry(title=title, answer=answer, category=category, keywords=keywords, valid_from=valid_from,
                        valid_to=valid_to, ref=ref)
    with audited(pool, actor, "kb.manage", "kb_entry") as change:
        entry_id = change.conn.execute(INSERT_SQL, {**entry.row(), "by": actor.username}).fetchone()[0]
        change.object_id, change.after, change.detail = str(entry_id), entry.as_dict(), "entry added"
    return entry_id


def _entry_on(conn, entry_id: int, *, lock: bool = False) -> dict | None:
    row = conn.execute(_SELECT + " WHERE id = %s" + (" FOR UPDATE" if lock else ""), (entry_id,)).fetchone()
    return None if row is None else dict(zip(ENTRY_COLUMNS, row, strict=True))


def update_entry(pool: ConnectionPool, entry_id: int, *, actor: Actor, **fields) -> dict:
    """Change some of an entry's fields (``ref, title, answer, category, keywords, valid_from, valid_to``);
    returns the entry as it is now. Audited with the entry before and after."""
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise FieldError(sorted(unknown)[0], f"not a field of an entry (one of {', '.join(EDITABLE_FIELDS)})")
    with audited(pool, actor, "kb.manage", "kb_entry", entry_id) as change:
        before = _entry_on(change.conn, entry_id, lock=True)
        if before is None:
            raise LookupError(f"no knowledge-base entry {entry_id}")
        entry = check_entry(**{name: fields.get(name, before[name]) for name in EDITABLE_FIELDS})
        change.conn.execute(UPDATE_SQL, {**entry.row(), "by": actor.username, "id": entry_id})
        change.before = {k: before[k] for k in EDITABLE_FIELDS}
        change.after, change.detail = entry.as_dict(), "entry changed: " + ", ".join(sorted(fields))
    return get_entry(pool, entry_id)


def retire_entry(pool: ConnectionPool, entry_id: int, *, actor: Actor) -> dict:
    """Stop offering an entry from now on (its valid_to becomes now); it stays for the record. Audited."""
    with audited(pool, actor, "kb.manage", "kb_entry", entry_id) as change:
        before = _entry_on(change.conn, entry_id, lock=True)
        if before is None:
            raise LookupError(f"no knowledge-base entry {entry_id}")
        change.conn.execute("UPDATE kb_entry SET valid_to = least(coalesce(valid_to, now()), now()),"
                            " updated_by = %s, updated_at = now() WHERE id = %s", (actor.username, entry_id))
        change.before, change.after = {"valid_to": before["valid_to"]}, {"valid_to": "now"}
        change.detail = "entry retired"
    return get_entry(pool, entry_id)


def get_entry(pool: ConnectionPool, entry_id: int) -> dict | None:
    with pool.connection() as conn:
        return _entry_on(conn, entry_id)


def list_entries(pool: ConnectionPool, *, category: str | None = None, current_only: bool = True,
                 limit: int = 500, offset: int = 0) -> pd.DataFrame:
    """Entries by category and title (``current_only``: those offered now, not expired or not yet valid)."""
    clauses, params = [], []
    if current_only:
        clauses.append("(valid_from IS NULL OR valid_from <= now()) AND (valid_to IS NULL OR valid_to > now())")
    if category:
        clauses.append("category::text = %s")
        params.append(category)
    where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
    with pool.connection() as conn:
        rows = conn.execute(_SELECT + where + " ORDER BY category, title, id LIMIT %s OFFSET %s",
                            (*params, limit, offset)).fetchall()
    return pd.DataFrame(rows, columns=list(ENTRY_COLUMNS))


def count_entries(pool: ConnectionPool) -> int:
    with pool.connection() as conn:
        return conn.execute("SELECT count(*) FROM kb_entry").fetchone()[0]

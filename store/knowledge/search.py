"""Finding the answer while the caller is on the line: what they said, as Chinese text, against the
entries offered now (valid_from passed, valid_to not yet).

The score is how much of the query an entry covers (``heattwin.segment.query_terms``: each term with
the characters of the query it stands for), in its title (0.6), keywords (0.25) and answer (0.15), plus
0.2 when the title holds the whole query, scaled to at most 0.95; an entry whose title is the query
(normalized) scores 1.0 and ranks first.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
from psycopg_pool import ConnectionPool

from heattwin.choices import work_order_category_values
from heattwin.segment import Query, normalize, query_terms

SEARCH_COLUMNS = ("id", "title", "answer", "category", "score")
MAX_QUERY_CHARS = 63  # the characters of a query that count (bits of the mask)

# Each term is looked up in each field's GIN index: the work grows with the entries that hold a query's
# terms, not with the knowledge base. The characters a term covers are a bit mask (a query's first 63
# characters count), so an entry's coverage in a field is the bits set in the OR of its terms' masks.
_OFFERED = ("(k.valid_from IS NULL OR k.valid_from <= %(at)s) AND (k.valid_to IS NULL OR k.valid_to > %(at)s)"
            " AND (%(category)s::text IS NULL OR k.category::text = %(category)s)")
_SEARCH_SQL = (
    "WITH q AS MATERIALIZED ("
    " SELECT x.t::tsquery AS tq, x.m FROM unnest(%(terms)s::text[], %(masks)s::int8[]) AS x(t, m)"
    "), hit AS ("
    " SELECT k.id, k.title_key, length(k.title) AS title_len, q.m AS in_title, 0::int8 AS in_keywords,"
    " 0::int8 AS in_answer FROM q JOIN kb_entry k ON k.terms_title @@ q.tq WHERE " + _OFFERED +
    " UNION ALL SELECT k.id, k.title_key, length(k.title), 0, q.m, 0 FROM q"
    " JOIN kb_entry k ON k.terms_keywords @@ q.tq WHERE " + _OFFERED +
    " UNION ALL SELECT k.id, k.title_key, length(k.title), 0, 0, q.m FROM q"
    " JOIN kb_entry k ON k.terms_answer @@ q.tq WHERE " + _OFFERED +
    " UNION ALL SELECT k.id, k.title_key, length(k.title), 0, 0, 0 FROM kb_entry k"
    " WHERE k.title_key = %(key)s AND " + _OFFERED +
    "), best AS ("
    " SELECT id, title_len, CASE WHEN title_key = %(key)s THEN 1.0::float8 ELSE 0.95 * (0.8 * ("
    " 0.6 * bit_count(bit_or(in_title)::bit(64)) + 0.25 * bit_count(bit_or(in_keywords)::bit(64))"
    " + 0.15 * bit_count(bit_or(in_answer)::bit(64)))::float8 / %(length)s"
    " + 0.2 * (strpos(title_key, %(key)s) > 0)::int) END AS score"
    " FROM hit GROUP BY id, title_key, title_len ORDER BY score DESC, title_len, id LIMIT %(limit)s"
    ") SELECT k.id, k.title, k.answer, k.category::text, b.score FROM best b JOIN kb_entry k USING (id)"
    " ORDER BY b.score DESC, b.title_len, k.id")


def _parameters(query: Query, category: str | None, limit: int, at: datetime | None) -> dict:
    masks = [sum(1 << p for p in t.positions) for t in query.terms]
    return {"terms": [f"'{t.term}'" for t in query.terms], "masks": masks, "key": query.key,
            "length": max(query.length, 1), "category": category, "limit": limit,
            "at": at or datetime.now(UTC)}


def search_knowledge(pool: ConnectionPool, text: str, *, category: str | None = None, limit: int = 10,
                     at: datetime | None = None) -> pd.DataFrame:
    """The entries offered now that best answer ``text``, best first: ``id, title, answer, category, score``
    (score 0–1; 1.0 is an exact title). ``category`` (a WORK_ORDER_CATEGORY value) keeps only its entries;
    ``at`` asks as of another moment (default now)."""
    if category is not None and category not in work_order_category_values:
        raise ValueError(f"category: {category!r} is not one of {', '.join(work_order_category_values)}")
    if not 1 <= limit <= 100:
        raise ValueError(f"limit: 1 to 100, not {limit}")
    query = query_terms(normalize(text)[:MAX_QUERY_CHARS])
    if not query.terms:
        return pd.DataFrame(columns=list(SEARCH_COLUMNS))
    with pool.connection() as conn:
        rows = conn.execute(_SEARCH_SQL, _parameters(query, category, limit, at)).fetchall()
    return pd.DataFrame(rows, columns=list(SEARCH_COLUMNS))

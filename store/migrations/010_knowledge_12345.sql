-- The hotline's knowledge base, and the tickets the city's 12345 platform hands over.

-- An answer the agent reads out on the call. Searched by its terms (heattwin.segment: jieba's words and
-- Chinese bigrams), kept as tsvectors built from arrays (array_to_tsvector): built-in types only, no
-- extension, and no text parser, so the server's locale does not matter. (pg_trgm alone finds nothing
-- for a two-character query such as 不热: its trigrams need three characters of one word.)
CREATE TABLE kb_entry (
    id         bigserial PRIMARY KEY,
    ref        text UNIQUE CHECK (length(ref) BETWEEN 1 AND 60),  -- its key in the file it came from (KB-0001)
    title      text NOT NULL CHECK (length(btrim(title)) BETWEEN 1 AND 200),
    answer     text NOT NULL CHECK (length(btrim(answer)) BETWEEN 1 AND 4000),
    category   work_order_category NOT NULL DEFAULT 'enquiry',
    keywords   text[] NOT NULL DEFAULT '{}',
    valid_from timestamptz,                      -- NULL: from the start
    valid_to   timestamptz,                      -- NULL: until retired; once past, no longer offered
    author     text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_by text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    title_key  text NOT NULL,                    -- the title normalized: an exact title ranks first
    terms_title    tsvector NOT NULL,
    terms_keywords tsvector NOT NULL,
    terms_answer   tsvector NOT NULL,
    CHECK (valid_to IS NULL OR valid_from IS NULL OR valid_to > valid_from)
);
CREATE INDEX kb_entry_terms_title_idx ON kb_entry USING gin (terms_title);
CREATE INDEX kb_entry_terms_keywords_idx ON kb_entry USING gin (terms_keywords);
CREATE INDEX kb_entry_terms_answer_idx ON kb_entry USING gin (terms_answer);
CREATE INDEX kb_entry_title_key_idx ON kb_entry (title_key);

-- A 12345 ticket as the platform sent it, and the work order it was filed as. The ticket number is
-- the key: the same ticket sent again files nothing.
CREATE TABLE platform_ticket (
    ticket_no     text PRIMARY KEY CHECK (length(ticket_no) BETWEEN 1 AND 64),
    platform      text NOT NULL,                 -- the data source of the webhook's token, or 'file'
    work_order_id bigint NOT NULL UNIQUE REFERENCES work_order(id),
    imported_at   timestamptz NOT NULL DEFAULT now(),
    accepted_at   timestamptz,                   -- when the platform took the call (受理时间)
    due_at        timestamptz,                   -- the platform's deadline (办理时限)
    caller_name   text NOT NULL DEFAULT '',
    caller_phone  text NOT NULL DEFAULT '',
    address       text NOT NULL DEFAULT '',
    content       text NOT NULL,
    category_hint text NOT NULL DEFAULT '',
    matched_by    text NOT NULL CHECK (matched_by IN ('phone', 'address', 'community')),
    source        text NOT NULL,                 -- file and row, or the webhook
    raw           jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX platform_ticket_imported_idx ON platform_ticket (imported_at);

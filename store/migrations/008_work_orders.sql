-- Work orders that travel: categories, SLA clocks, dispatch, the crew's phone, photos, revisits, the outbox,
-- and the official working-day calendar. Enums mirror heattwin/choices.py.

ALTER TYPE work_order_state ADD VALUE IF NOT EXISTS 'reopened';
CREATE TYPE work_order_category AS ENUM
    ('room_cold', 'no_heat', 'leak', 'equipment', 'payment', 'suspend', 'invoice', 'refund', 'enquiry', 'other');

-- sla_due_at (001) is the "resolve" clock; the other clocks and the moments they stop sit beside it.
ALTER TABLE work_order
    ADD COLUMN category        work_order_category NOT NULL DEFAULT 'other',
    ADD COLUMN created_by      text NOT NULL DEFAULT '',
    ADD COLUMN request_key     text UNIQUE,          -- the filing form's key: a double click files once
    ADD COLUMN external_ref    text,                 -- the 12345 platform's ticket number
    ADD COLUMN external_due_at timestamptz,          -- … and the deadline it set
    ADD COLUMN reply_due_at    timestamptz,
    ADD COLUMN site_due_at     timestamptz,
    ADD COLUMN revisit_due_at  timestamptz,
    ADD COLUMN sla_note        text NOT NULL DEFAULT '',  -- why a clock has no due time (no calendar for a year)
    ADD COLUMN replied_at      timestamptz,
    ADD COLUMN on_site_at      timestamptz,
    ADD COLUMN resolved_at     timestamptz,
    ADD COLUMN visited_at      timestamptz,
    ADD COLUMN paused_at       timestamptz,          -- waiting for the resident: the clocks stand still
    ADD COLUMN paused_s        double precision NOT NULL DEFAULT 0,
    ADD COLUMN reopen_count    integer NOT NULL DEFAULT 0,
    ADD COLUMN resolution      jsonb NOT NULL DEFAULT '{}',  -- cause, action, materials, notes, confirmed
    ADD COLUMN site_lon        double precision,     -- where the crew said "arrived"
    ADD COLUMN site_lat        double precision,
    ADD CONSTRAINT work_order_origin_check CHECK
        (origin IN ('hotline', 'platform_12345', 'app', 'alarm', 'inspection', 'crew', 'dispatch'));
CREATE INDEX work_order_board_idx ON work_order (created_at DESC, id DESC);
CREATE INDEX work_order_state_idx ON work_order (state, created_at DESC);
CREATE INDEX work_order_team_idx ON work_order (team_id, state);

ALTER TABLE work_order_event ADD COLUMN details jsonb NOT NULL DEFAULT '{}';

-- What a team may be sent to, and where it was last seen (the crew's phone reports it).
ALTER TABLE team
    ADD COLUMN categories work_order_category[] NOT NULL
        DEFAULT '{room_cold,no_heat,leak,equipment,payment,suspend,invoice,refund,enquiry,other}',
    ADD COLUMN last_lon double precision,
    ADD COLUMN last_lat double precision,
    ADD COLUMN last_seen_at timestamptz;

CREATE TABLE work_order_photo (
    id            bigserial PRIMARY KEY,
    work_order_id bigint NOT NULL REFERENCES work_order(id),
    sha256        text NOT NULL,
    mime          text NOT NULL CHECK (mime IN ('image/jpeg', 'image/png')),
    size_bytes    integer NOT NULL CHECK (size_bytes > 0),
    content       bytea NOT NULL,
    uploaded_by   text NOT NULL,
    uploaded_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (work_order_id, sha256)
);

CREATE TABLE work_order_revisit (
    id            bigserial PRIMARY KEY,
    work_order_id bigint NOT NULL REFERENCES work_order(id),
    at            timestamptz NOT NULL DEFAULT now(),
    agent         text NOT NULL,
    reached       boolean NOT NULL,
    satisfaction  smallint CHECK (satisfaction BETWEEN 1 AND 5),
    fixed         boolean,
    note          text NOT NULL DEFAULT '',
    CHECK (reached OR (satisfaction IS NULL AND fixed IS NULL))
);
CREATE INDEX work_order_revisit_wo_idx ON work_order_revisit (work_order_id, at);

-- A crew's taps, each applied once: the phone sends a key with every action and may send it again.
CREATE TABLE crew_action (
    key           text PRIMARY KEY CHECK (length(key) BETWEEN 8 AND 100),
    work_order_id bigint NOT NULL REFERENCES work_order(id),
    action        text NOT NULL,
    username      text NOT NULL,
    tapped_at     timestamptz,
    received_at   timestamptz NOT NULL DEFAULT now(),
    result        jsonb NOT NULL DEFAULT '{}'
);

-- SMS / app push to crews, for a gateway to drain.
CREATE TABLE notification_outbox (
    id            bigserial PRIMARY KEY,
    created_at    timestamptz NOT NULL DEFAULT now(),
    channel       text NOT NULL CHECK (channel IN ('sms', 'push')),
    recipient     text NOT NULL,
    team_id       text REFERENCES team(id),
    work_order_id bigint REFERENCES work_order(id),
    body          text NOT NULL,
    sent_at       timestamptz,
    attempts      integer NOT NULL DEFAULT 0,
    last_error    text
);
CREATE INDEX notification_outbox_pending_idx ON notification_outbox (created_at) WHERE sent_at IS NULL;

-- Official working days beyond what the calendar library knows (the State Council's list for a year,
-- loaded by an admin): a day listed here overrides the library.
CREATE TABLE calendar_day (
    day       date PRIMARY KEY,
    workday   boolean NOT NULL,
    note      text NOT NULL DEFAULT '',
    source    text NOT NULL,
    loaded_at timestamptz NOT NULL DEFAULT now(),
    loaded_by text NOT NULL
);
CREATE TABLE calendar_year (
    year      integer PRIMARY KEY,
    source    text NOT NULL,
    loaded_at timestamptz NOT NULL DEFAULT now(),
    loaded_by text NOT NULL
);

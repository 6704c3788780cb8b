-- The hotline: incidents that many calls are about, the call events a softphone sends, households'
-- payment status, and orders resolved on the call itself. Enums mirror heattwin/choices.py.

CREATE TYPE incident_kind AS ENUM ('isolation', 'leak', 'station_fault');
CREATE TYPE payment_status AS ENUM ('paid', 'arrears', 'exempt');

-- Something the dispatch center already knows that leaves households without heat: one cause, one
-- repair job (work_order_id), many calls linked to it.
CREATE TABLE incident (
    id               bigserial PRIMARY KEY,
    kind             incident_kind NOT NULL,
    cause_element    text NOT NULL,              -- the pipe isolated or leaking, the station that failed
    title            text NOT NULL,
    alarm_id         bigint REFERENCES alarm(id),
    work_order_id    bigint REFERENCES work_order(id),
    stations         text[] NOT NULL DEFAULT '{}',  -- stations without heat because of it
    households       integer NOT NULL DEFAULT 0,
    started_at       timestamptz NOT NULL DEFAULT now(),
    expected_back_at timestamptz,
    ended_at         timestamptz,
    created_by       text NOT NULL,
    details          jsonb NOT NULL DEFAULT '{}'
);
CREATE UNIQUE INDEX incident_one_per_open_alarm ON incident (alarm_id) WHERE ended_at IS NULL;
CREATE INDEX incident_active_idx ON incident USING gin (stations) WHERE ended_at IS NULL;

ALTER TABLE work_order
    ADD COLUMN incident_id   bigint REFERENCES incident(id),
    ADD COLUMN first_contact boolean NOT NULL DEFAULT false;  -- answered on the call (即时办)
CREATE INDEX work_order_incident_idx ON work_order (incident_id) WHERE incident_id IS NOT NULL;
CREATE INDEX work_order_household_idx ON work_order (household_id, created_at DESC) WHERE household_id IS NOT NULL;

ALTER TABLE household ADD COLUMN payment_status payment_status NOT NULL DEFAULT 'paid';

-- A call as the softphone / CTI reports it; the agent's answer closes it.
CREATE TABLE call_event (
    id            bigserial PRIMARY KEY,
    line          text NOT NULL,                -- the data source (bearer token) that sent it, or 'typed'
    phone         text NOT NULL,
    seat          text NOT NULL DEFAULT '',     -- the agent (username) the call was put through to, if any
    received_at   timestamptz NOT NULL DEFAULT now(),
    household_id  text REFERENCES household(id),
    incident_id   bigint REFERENCES incident(id),
    answered_by   text,
    answered_at   timestamptz,
    outcome       text CHECK (outcome IN ('answered', 'filed', 'linked', 'no_action')),
    kb_entry_id   bigint,
    work_order_id bigint REFERENCES work_order(id),
    external_id   text UNIQUE                   -- the CTI's call id: a resend is the same call
);
CREATE INDEX call_event_waiting_idx ON call_event (received_at) WHERE answered_at IS NULL;
CREATE INDEX call_event_phone_idx ON call_event (phone, received_at DESC);

-- Finding a household by part of its address or name, as an agent types it (pg_trgm, in PostgreSQL's
-- contrib: part of Debian's postgresql-15; elsewhere the postgresql-contrib package).
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm') THEN
        RAISE EXCEPTION 'migration 009 needs the pg_trgm extension: install PostgreSQL''s contrib package on the server';
    END IF;
END $$;
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX household_address_trgm ON household USING gin (address gin_trgm_ops);
CREATE INDEX household_name_trgm ON household USING gin (name gin_trgm_ops);

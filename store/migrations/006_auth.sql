-- Users, roles, kiosk tokens and the append-only audit trail. Enums mirror heattwin/choices.py.

CREATE TYPE user_role AS ENUM ('dispatcher', 'agent', 'crew', 'supervisor', 'engineer', 'admin');
CREATE TYPE audit_outcome AS ENUM ('ok', 'refused', 'failed');

-- Users are never deleted (the audit trail names them): they are disabled.
CREATE TABLE app_user (
    id            serial PRIMARY KEY,
    username      text NOT NULL UNIQUE CHECK (username ~ '^[a-z0-9][a-z0-9._-]{1,62}$'),
    display_name  text NOT NULL DEFAULT '',
    password_hash text,                      -- argon2id; NULL for users who sign in through the utility's SSO
    roles         user_role[] NOT NULL CHECK (cardinality(roles) > 0),
    team_id       text REFERENCES team(id),
    external_id   text UNIQUE,               -- the subject at the identity provider, for single sign-on
    demo          boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now(),
    disabled_at   timestamptz,
    failed_logins integer NOT NULL DEFAULT 0,
    locked_until  timestamptz,
    last_login_at timestamptz,
    session_epoch integer NOT NULL DEFAULT 1,  -- bumped by a password change or disable: older sessions end
    CONSTRAINT app_user_crew_has_team CHECK (NOT ('crew' = ANY(roles)) OR team_id IS NOT NULL)
);

-- The video-wall PCs: a long random token shows the wall read-only. Only its SHA-256 is kept.
CREATE TABLE kiosk_token (
    id           serial PRIMARY KEY,
    name         text NOT NULL CHECK (name <> ''),
    token_sha256 text NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    created_by   text NOT NULL,
    revoked_at   timestamptz,
    last_seen_at timestamptz
);
CREATE UNIQUE INDEX kiosk_token_live_name ON kiosk_token (name) WHERE revoked_at IS NULL;

-- Who did what, written in the same transaction as the change it records; refusals and logins too.
CREATE TABLE audit_event (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    username    text NOT NULL,             -- a user's name, kiosk:<name>, cli:<os user>, or '' when unknown
    role        text NOT NULL DEFAULT '',  -- the role that allowed it ('' when none did)
    action      text NOT NULL,             -- heattwin.permissions action, or login / logout
    object_type text NOT NULL DEFAULT '',
    object_id   text NOT NULL DEFAULT '',
    before      jsonb,
    after       jsonb,
    outcome     audit_outcome NOT NULL DEFAULT 'ok',
    detail      text NOT NULL DEFAULT '',
    client_addr text NOT NULL DEFAULT ''
);
CREATE INDEX audit_event_at_idx ON audit_event (at DESC);
CREATE INDEX audit_event_user_idx ON audit_event (username, at DESC);
CREATE INDEX audit_event_object_idx ON audit_event (object_type, object_id, at DESC);

CREATE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_event is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_event_no_update BEFORE UPDATE OR DELETE ON audit_event
    FOR EACH ROW EXECUTE FUNCTION audit_event_append_only();
CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event
    FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only();

-- Scenarios and sweeps now carry the logged-in user's name as author (free text before).
COMMENT ON COLUMN scenario.author IS 'username of the user who saved it';

-- Telemetry ingest: bearer tokens of the data sources that may post readings, and the rollup
-- watermarks that let trends on plain PostgreSQL combine a refreshed rollup with newer raw rows.

-- Only the SHA-256 of a token is stored: a leaked table does not let anyone post readings.
CREATE TABLE data_source_token (
    token_sha256 text PRIMARY KEY CHECK (token_sha256 ~ '^[0-9a-f]{64}$'),
    data_source  text NOT NULL CHECK (data_source <> ''),
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz
);
CREATE INDEX data_source_token_source_idx ON data_source_token (data_source);

-- Plain PostgreSQL only: buckets before `watermark` are complete in the materialized rollup
-- (as of its last refresh); later buckets are computed from raw rows at query time.
CREATE TABLE rollup_watermark (
    name         text PRIMARY KEY,     -- measurement_5m | measurement_1h
    watermark    timestamptz NOT NULL,
    refreshed_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX measurement_rejected_reason_idx ON measurement_rejected (reason, received_at DESC);

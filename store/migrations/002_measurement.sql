-- Telemetry: one row per reading, in the sensor's display unit (heattwin.choices.SENSOR_KINDS).
CREATE TABLE measurement (
    time      timestamptz NOT NULL,
    sensor_id text NOT NULL REFERENCES sensor(id),
    value     double precision NOT NULL,
    PRIMARY KEY (sensor_id, time)
);
CREATE INDEX measurement_time_idx ON measurement (time DESC);

-- Readings refused by validation, kept with the reason and the raw payload: nothing is dropped.
CREATE TABLE measurement_rejected (
    id          bigserial PRIMARY KEY,
    received_at timestamptz NOT NULL DEFAULT now(),
    origin      text NOT NULL,          -- bulk:<file> | http:<data source> | mqtt:<topic> | direct
    sensor_id   text,
    time        timestamptz,
    value       double precision,
    reason      text NOT NULL,
    raw         text NOT NULL DEFAULT ''
);
CREATE INDEX measurement_rejected_received_idx ON measurement_rejected (received_at DESC);

-- Control (issue 18): advised supply-temperature schedules, station balancing, and who accepted what.
-- A schedule is proposed by the advisor; only a person's acceptance sends its setpoints to the plant, and
-- every acceptance and rollback is a row here besides its audit row.
CREATE TABLE control_schedule (
    id          bigserial PRIMARY KEY,
    issued_at   timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    created_by  text NOT NULL DEFAULT '',
    state       text NOT NULL DEFAULT 'proposed'
                CHECK (state IN ('proposed', 'accepted', 'rolled_back', 'superseded')),
    summary     jsonb NOT NULL DEFAULT '{}',
    CHECK (expires_at > issued_at)
);
CREATE INDEX control_schedule_issued ON control_schedule (issued_at DESC);
-- At most one schedule drives the plant at a time.
CREATE UNIQUE INDEX control_schedule_one_accepted ON control_schedule ((true)) WHERE state = 'accepted';

-- Its setpoints as the plant takes them: supply °C per source, the pressure plant's lift, station shares.
CREATE TABLE control_setpoint (
    schedule_id bigint NOT NULL REFERENCES control_schedule(id) ON DELETE CASCADE,
    valid_from  timestamptz NOT NULL,
    element_id  text NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('t_supply_c', 'lift_bar', 'heat_ratio')),
    value       double precision NOT NULL,
    PRIMARY KEY (schedule_id, element_id, kind, valid_from)
);

-- Station balancing advice of a schedule: the share before and after, its rooms before and after.
CREATE TABLE control_station_advice (
    schedule_id     bigint NOT NULL REFERENCES control_schedule(id) ON DELETE CASCADE,
    station_id      text NOT NULL,
    ratio_before    double precision NOT NULL,
    ratio           double precision NOT NULL,
    median_before_c double precision,
    median_after_c  double precision,
    min_before_c    double precision,
    min_after_c     double precision,
    in_band_before  double precision,
    in_band_after   double precision,
    rooms           integer NOT NULL DEFAULT 0,
    PRIMARY KEY (schedule_id, station_id)
);

-- Every acceptance and rollback: who, as which role, when, what went to the plant and through what.
CREATE TABLE control_acceptance (
    id          bigserial PRIMARY KEY,
    schedule_id bigint NOT NULL REFERENCES control_schedule(id),
    action      text NOT NULL CHECK (action IN ('accept', 'rollback')),
    at          timestamptz NOT NULL DEFAULT now(),
    username    text NOT NULL,
    role        text NOT NULL,
    note        text NOT NULL DEFAULT '',
    sent_via    text NOT NULL DEFAULT '',
    restored_id bigint REFERENCES control_schedule(id)
);
CREATE INDEX control_acceptance_schedule ON control_acceptance (schedule_id, at);

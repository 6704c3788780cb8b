-- The refund ledger (测温退费): for a heating season, each household with a collector, the hours its room
-- was under the statutory minimum that the utility owes for, the hours left out and why, and the refund a
-- supervisor approves or rejects. Value lists mirror heattwin/choices.py (REFUND_STATE, REFUND_HOUR_KIND).

-- A household's heating fee per m² for a season (元/m²); NULL: the ledger's rule gives the fee.
ALTER TABLE household ADD COLUMN fee_yuan_per_m2 numeric(8, 2) CHECK (fee_yuan_per_m2 > 0);

-- A household's suspension of heating (报停): its hours are not the utility's to refund. A household whose
-- status is 'suspended' or 'not_paying' with no period recorded here is left out for the whole season.
CREATE TABLE heating_suspension (
    id           bigserial PRIMARY KEY,
    household_id text NOT NULL REFERENCES household(id),
    start_at     timestamptz NOT NULL,
    end_at       timestamptz,                 -- NULL: still suspended
    note         text NOT NULL DEFAULT '',
    created_by   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    CHECK (end_at IS NULL OR end_at > start_at)
);
CREATE INDEX heating_suspension_household_idx ON heating_suspension (household_id, start_at);

-- One computation of a season's ledger, with the rule it applied (twin.refunds.RefundRule as JSON).
CREATE TABLE refund_season (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL,
    start_date  date NOT NULL,                -- first and last day of the season, in the configured zone
    end_date    date NOT NULL,
    timezone    text NOT NULL,
    rule        jsonb NOT NULL,
    summary     jsonb NOT NULL DEFAULT '{}',
    computed_at timestamptz NOT NULL DEFAULT now(),
    computed_by text NOT NULL,
    CHECK (end_date >= start_date)
);

-- One household of a ledger: its hours by kind, days under the standard and the refund owed.
CREATE TABLE refund_entry (
    season_id           bigint NOT NULL REFERENCES refund_season(id) ON DELETE CASCADE,
    household_id        text NOT NULL REFERENCES household(id),
    sensor_id           text NOT NULL,
    community_id        text NOT NULL,
    building            integer,
    area_m2             double precision,
    fee_yuan_per_m2     numeric(8, 2) NOT NULL,
    season_hours        integer NOT NULL,
    cold_hours          integer NOT NULL,     -- hourly mean under the minimum, counted or not
    counted_hours       integer NOT NULL,     -- cold and not excluded: the utility's
    suspended_hours     integer NOT NULL,     -- excluded, whatever the reading (all hours of the kind)
    not_paying_hours    integer NOT NULL,
    offline_hours       integer NOT NULL,
    tampered_hours      integer NOT NULL,
    tamper_jumps        integer NOT NULL,     -- jumps its neighbours did not make
    days_under          integer NOT NULL,     -- days with at least rule.day_hours counted hours
    refund_yuan         numeric(12, 2) NOT NULL,
    state               text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'approved', 'rejected')),
    note                text NOT NULL DEFAULT '',
    reviewed_by         text,
    reviewed_at         timestamptz,
    PRIMARY KEY (season_id, household_id)
);
CREATE INDEX refund_entry_state_idx ON refund_entry (season_id, state, refund_yuan DESC);

-- The hours of one household, as runs of consecutive hours of one kind: counted (under the minimum, the
-- utility's) or excluded and why. Together with refund_day this is the household's explanation.
CREATE TABLE refund_span (
    season_id    bigint NOT NULL,
    household_id text NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('counted', 'suspended', 'not_paying', 'offline', 'tampered')),
    start_at     timestamptz NOT NULL,
    hours        integer NOT NULL CHECK (hours > 0),
    mean_t_c     real,                        -- the hourly means over the run (NULL when offline)
    min_t_c      real,
    FOREIGN KEY (season_id, household_id) REFERENCES refund_entry (season_id, household_id) ON DELETE CASCADE
);
CREATE INDEX refund_span_household_idx ON refund_span (season_id, household_id, start_at);

-- The days (in the season's zone) on which a household had counted hours.
CREATE TABLE refund_day (
    season_id     bigint NOT NULL,
    household_id  text NOT NULL,
    day           date NOT NULL,
    counted_hours smallint NOT NULL CHECK (counted_hours BETWEEN 1 AND 25),
    under         boolean NOT NULL,           -- counted_hours >= the rule's day_hours
    PRIMARY KEY (season_id, household_id, day),
    FOREIGN KEY (season_id, household_id) REFERENCES refund_entry (season_id, household_id) ON DELETE CASCADE
);

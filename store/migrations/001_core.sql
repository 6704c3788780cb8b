-- Core data model of DESIGN.md. Enums mirror heattwin/choices.py (a test keeps them in step).

CREATE TYPE element_kind AS ENUM
    ('source', 'station', 'node', 'pipe', 'valve', 'sensor', 'community', 'household');
CREATE TYPE alarm_severity AS ENUM ('info', 'warning', 'alarm', 'critical');
CREATE TYPE alarm_state AS ENUM ('raised', 'acknowledged', 'cleared');
CREATE TYPE work_order_state AS ENUM
    ('new', 'dispatched', 'accepted', 'on_site', 'resolved', 'visited', 'closed', 'cancelled');
CREATE TYPE work_order_priority AS ENUM ('low', 'normal', 'urgent');
CREATE TYPE heating_status AS ENUM ('heating', 'suspended', 'not_paying');

CREATE TABLE network_version (
    id          serial PRIMARY KEY,
    imported_at timestamptz NOT NULL DEFAULT now(),
    source_path text NOT NULL,
    summary     jsonb NOT NULL DEFAULT '{}'
);

-- Every network element (and basemap feature) of the current network. An element that
-- disappears from a newer import but is still referenced is retired (retired_at set), not deleted.
CREATE TABLE asset (
    id              text PRIMARY KEY,
    kind            element_kind NOT NULL,
    name            text NOT NULL DEFAULT '',
    geometry        jsonb NOT NULL,              -- GeoJSON geometry, EPSG:4326
    lon             double precision NOT NULL,   -- representative point, for lists and fly-to
    lat             double precision NOT NULL,
    attrs           jsonb NOT NULL DEFAULT '{}', -- the layer's attribute columns (units in names)
    network_version integer NOT NULL REFERENCES network_version(id),
    retired_at      timestamptz,
    CHECK (lon BETWEEN -180 AND 180 AND lat BETWEEN -90 AND 90)
);
CREATE INDEX asset_kind_idx ON asset (kind) WHERE retired_at IS NULL;

CREATE TABLE basemap_feature (
    id       serial PRIMARY KEY,
    kind     text NOT NULL,          -- arterial | street | river | railway
    name     text NOT NULL DEFAULT '',
    geometry jsonb NOT NULL
);

CREATE TABLE equipment (
    id           text PRIMARY KEY,
    asset_id     text NOT NULL REFERENCES asset(id),
    kind         text NOT NULL,       -- heat_exchanger | pump | valve | meter | boiler | ...
    maker        text NOT NULL DEFAULT '',
    model        text NOT NULL DEFAULT '',
    serial       text NOT NULL DEFAULT '',
    install_year integer CHECK (install_year BETWEEN 1950 AND 2100),
    rated        jsonb NOT NULL DEFAULT '{}'  -- rated values, units in the keys (heat_mw, head_m, ...)
);
CREATE INDEX equipment_asset_idx ON equipment (asset_id);

CREATE TABLE maintenance_log (
    id           bigserial PRIMARY KEY,
    equipment_id text NOT NULL REFERENCES equipment(id),
    done_at      timestamptz NOT NULL,
    kind         text NOT NULL,       -- inspection | repair | replacement | cleaning
    note         text NOT NULL DEFAULT '',
    crew         text NOT NULL DEFAULT ''
);
CREATE INDEX maintenance_log_equipment_idx ON maintenance_log (equipment_id, done_at DESC);

CREATE TABLE drawing (
    id       text PRIMARY KEY,
    asset_id text NOT NULL REFERENCES asset(id),
    title    text NOT NULL,
    kind     text NOT NULL,           -- station_schematic | valve_chamber | pipe_section
    path     text NOT NULL            -- relative to the drawings folder (assets/drawings/)
);
CREATE INDEX drawing_asset_idx ON drawing (asset_id);

CREATE TABLE sensor (
    id         text PRIMARY KEY REFERENCES asset(id),
    element_id text NOT NULL REFERENCES asset(id),
    kind       text NOT NULL,         -- heattwin.choices.SENSOR_KINDS
    unit       text NOT NULL
);
CREATE INDEX sensor_element_idx ON sensor (element_id);

CREATE TABLE team (
    id       text PRIMARY KEY,
    name     text NOT NULL,
    phone    text NOT NULL DEFAULT '',
    members  integer NOT NULL DEFAULT 3 CHECK (members > 0),
    base_lon double precision,
    base_lat double precision
);

CREATE TABLE household (
    id             text PRIMARY KEY,
    community_id   text NOT NULL REFERENCES asset(id),
    station_id     text NOT NULL REFERENCES asset(id),
    name           text NOT NULL DEFAULT '',
    phone          text NOT NULL DEFAULT '',
    address        text NOT NULL DEFAULT '',
    building       integer,
    floor          integer,
    area_m2        double precision CHECK (area_m2 > 0),
    heating_status heating_status NOT NULL DEFAULT 'heating',
    sensor_id      text REFERENCES sensor(id)    -- room-temperature collector, if fitted
);
CREATE INDEX household_community_idx ON household (community_id);
CREATE INDEX household_phone_idx ON household (phone);

CREATE TABLE work_order (
    id           bigserial PRIMARY KEY,
    asset_id     text REFERENCES asset(id),
    household_id text REFERENCES household(id),
    title        text NOT NULL,
    description  text NOT NULL DEFAULT '',
    origin       text NOT NULL DEFAULT 'dispatch',  -- hotline | alarm | inspection | dispatch
    priority     work_order_priority NOT NULL DEFAULT 'normal',
    state        work_order_state NOT NULL DEFAULT 'new',
    team_id      text REFERENCES team(id),
    lon          double precision,
    lat          double precision,
    created_at   timestamptz NOT NULL DEFAULT now(),
    sla_due_at   timestamptz,
    closed_at    timestamptz,
    alarm_id     bigint,
    CHECK (asset_id IS NOT NULL OR household_id IS NOT NULL)
);
CREATE INDEX work_order_open_idx ON work_order (asset_id)
    WHERE state IN ('new', 'dispatched', 'accepted', 'on_site');

CREATE TABLE work_order_event (
    id            bigserial PRIMARY KEY,
    work_order_id bigint NOT NULL REFERENCES work_order(id),
    at            timestamptz NOT NULL DEFAULT now(),
    actor         text NOT NULL,
    from_state    work_order_state,
    to_state      work_order_state NOT NULL,
    note          text NOT NULL DEFAULT ''
);
CREATE INDEX work_order_event_wo_idx ON work_order_event (work_order_id, at);

CREATE TABLE alarm (
    id              bigserial PRIMARY KEY,
    asset_id        text NOT NULL REFERENCES asset(id),
    cause           text NOT NULL,        -- rule name, e.g. room_t_low, sensor_offline, leak
    severity        alarm_severity NOT NULL,
    state           alarm_state NOT NULL DEFAULT 'raised',
    message         text NOT NULL DEFAULT '',
    details         jsonb NOT NULL DEFAULT '{}',
    raised_at       timestamptz NOT NULL DEFAULT now(),
    last_seen_at    timestamptz NOT NULL DEFAULT now(),
    raise_count     integer NOT NULL DEFAULT 1,
    acknowledged_at timestamptz,
    acknowledged_by text,
    cleared_at      timestamptz,
    cleared_by      text,
    clear_note      text
);
-- One open alarm per cause and element: a re-raise bumps raise_count instead.
CREATE UNIQUE INDEX alarm_one_open_per_cause ON alarm (asset_id, cause) WHERE state <> 'cleared';
ALTER TABLE work_order ADD CONSTRAINT work_order_alarm_fk FOREIGN KEY (alarm_id) REFERENCES alarm(id);

CREATE TABLE alarm_event (
    id       bigserial PRIMARY KEY,
    alarm_id bigint NOT NULL REFERENCES alarm(id),
    at       timestamptz NOT NULL DEFAULT now(),
    actor    text NOT NULL,
    action   text NOT NULL,            -- raised | re_raised | acknowledged | cleared
    note     text NOT NULL DEFAULT ''
);

CREATE TABLE calibration (
    id           bigserial PRIMARY KEY,
    created_at   timestamptz NOT NULL DEFAULT now(),
    window_start timestamptz NOT NULL,
    window_end   timestamptz NOT NULL,
    params       jsonb NOT NULL,       -- {"roughness": {zone: multiplier}, "heat_loss": {age_class: multiplier}}
    rms_before   jsonb NOT NULL DEFAULT '{}',
    rms_after    jsonb NOT NULL DEFAULT '{}'
);

CREATE TABLE twin_run (
    id             bigserial PRIMARY KEY,
    kind           text NOT NULL DEFAULT 'sync',   -- sync | scenario | simulation
    started_at     timestamptz NOT NULL DEFAULT now(),
    finished_at    timestamptz,
    converged      boolean NOT NULL,
    iterations     integer,
    solve_s        double precision,
    cycle_s        double precision,
    error          text,
    inputs         jsonb NOT NULL DEFAULT '{}',   -- boundary conditions used
    fallbacks      jsonb NOT NULL DEFAULT '[]',   -- sensors that fell back, and to what
    summary        jsonb NOT NULL DEFAULT '{}',   -- network totals (heat, make-up, losses)
    calibration_id bigint REFERENCES calibration(id)
);
CREATE INDEX twin_run_latest_idx ON twin_run (kind, started_at DESC);

-- Results per element of one run; a column is NULL where it does not apply to the element's kind.
CREATE TABLE twin_state (
    run_id           bigint NOT NULL REFERENCES twin_run(id) ON DELETE CASCADE,
    element_id       text NOT NULL,
    status           text NOT NULL DEFAULT 'normal',   -- normal | cut_off | estimated
    p_supply_bar     double precision,
    p_return_bar     double precision,
    t_supply_c       double precision,
    t_return_c       double precision,
    flow_t_h         double precision,   -- supply-side flow (pipes: from -> to positive)
    v_m_per_s        double precision,
    dp_bar           double precision,   -- station differential pressure, pipe pressure drop
    heat_mw          double precision,   -- delivered (stations), produced (sources)
    heat_loss_kw     double precision,   -- pipes: supply + return
    delay_h          double precision,   -- transport delay from the nearest source
    PRIMARY KEY (run_id, element_id)
);

CREATE TABLE twin_residual (
    run_id    bigint NOT NULL REFERENCES twin_run(id) ON DELETE CASCADE,
    sensor_id text NOT NULL REFERENCES sensor(id),
    measured  double precision,
    modelled  double precision,
    residual  double precision,          -- modelled - measured, in the sensor's unit
    PRIMARY KEY (run_id, sensor_id)
);

CREATE TABLE scenario (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL,
    author      text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    base        jsonb NOT NULL DEFAULT '{"kind": "live"}',
    changes     jsonb NOT NULL DEFAULT '[]',
    result      jsonb,
    last_run_at timestamptz
);

CREATE TABLE simulated_fault (
    id         bigserial PRIMARY KEY,
    kind       text NOT NULL,          -- leak | pump_trip | valve_closed | fouling | collector_offline
    element_id text NOT NULL REFERENCES asset(id),
    start_at   timestamptz NOT NULL,
    end_at     timestamptz,
    params     jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now()
);

-- What-if scenarios (twin.scenarios): saved specs, their latest result, and batch sweeps.

-- 001 sketched `scenario` with base/changes/result columns that nothing wrote; it now holds the
-- whole spec (as twin.scenarios reads it) and its results live in scenario_result.
ALTER TABLE scenario ADD COLUMN description text NOT NULL DEFAULT '', ADD COLUMN spec jsonb;
UPDATE scenario SET spec = jsonb_build_object('name', name, 'author', author, 'base', base, 'changes', changes);
ALTER TABLE scenario ALTER COLUMN spec SET NOT NULL, ALTER COLUMN author SET DEFAULT '',
    DROP COLUMN base, DROP COLUMN changes, DROP COLUMN result, DROP COLUMN last_run_at,
    ADD CONSTRAINT scenario_name_check CHECK (name <> '');
CREATE INDEX scenario_updated_idx ON scenario (updated_at DESC);

-- The latest run of a saved scenario; a re-run replaces it.
CREATE TABLE scenario_result (
    scenario_id     bigint PRIMARY KEY REFERENCES scenario(id) ON DELETE CASCADE,
    run_at          timestamptz NOT NULL DEFAULT now(),
    network_version integer,
    summary         jsonb NOT NULL,
    result          jsonb NOT NULL          -- ScenarioResult.to_dict(): stations, sources, pipes, isolation
);

CREATE TABLE scenario_sweep (
    id              bigserial PRIMARY KEY,
    kind            text NOT NULL DEFAULT 'n1',
    author          text NOT NULL DEFAULT '',
    state           text NOT NULL DEFAULT 'running' CHECK (state IN ('running', 'done', 'failed')),
    total           integer NOT NULL CHECK (total >= 0),
    done            integer NOT NULL DEFAULT 0,
    workers         integer NOT NULL DEFAULT 1,
    scheduler       text NOT NULL DEFAULT '',
    error           text,
    network_version integer,
    started_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz
);

CREATE TABLE scenario_sweep_row (
    sweep_id              bigint NOT NULL REFERENCES scenario_sweep(id) ON DELETE CASCADE,
    element_id            text NOT NULL,
    converged             boolean NOT NULL,
    feasible              boolean,
    heat_not_delivered_mw double precision,
    households_affected   integer,
    stations_affected     integer,
    stations_cut_off      integer,
    stations_low_dp       integer,
    valves_to_close       integer,
    error                 text,
    PRIMARY KEY (sweep_id, element_id)
);

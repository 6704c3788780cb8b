-- Each order's facts for the assessment figures (store/kpis.py), kept up to date as its events and revisits
-- are written: reading the KPIs of a month no longer aggregates every event of the month's orders.
--
-- Every column but the last event's is a first or a last moment, so the KPIs can read it "as at" any moment T
-- (a first moment before T is the first before T). The state and the last resolution are the latest event's:
-- they hold at T when the latest event is before T, and store/kpis.py reads the few other orders from their
-- events. Statement triggers fold a whole INSERT or COPY into the table in one upsert.
CREATE TABLE work_order_fact (
    work_order_id      bigint PRIMARY KEY REFERENCES work_order(id),
    last_at            timestamptz,          -- the latest event, by (at, id)
    last_id            bigint,
    state              work_order_state,     -- that event's to_state
    signed_at          timestamptz,          -- the first sign-off: dispatched, accepted, or resolved on the call
    on_site_at         timestamptz,          -- the first arrival
    resolved_at        timestamptz,          -- the last resolution
    reopened_at        timestamptz,          -- the first reopening
    cancelled_at       timestamptz,          -- the first cancellation
    reached_at         timestamptz,          -- the first revisit that reached the resident, by (at, id)
    reached_id         bigint,
    first_satisfaction smallint              -- what that revisit heard
);

-- The fold of some events (a table of work_order_event's columns: a trigger's new rows, or the whole table) into
-- the facts, as one statement: written once, run by the trigger on each INSERT or COPY and once below for the
-- orders already stored.
CREATE FUNCTION work_order_fact_fold_events_sql(source text) RETURNS text LANGUAGE sql IMMUTABLE AS $fold$
SELECT format($q$
    INSERT INTO work_order_fact AS f (work_order_id, last_at, last_id, state, signed_at, on_site_at, resolved_at,
                                      reopened_at, cancelled_at)
    SELECT e.work_order_id,
           (array_agg(e.at ORDER BY e.at DESC, e.id DESC))[1],
           (array_agg(e.id ORDER BY e.at DESC, e.id DESC))[1],
           (array_agg(e.to_state ORDER BY e.at DESC, e.id DESC))[1],
           min(e.at) FILTER (WHERE e.to_state IN ('dispatched', 'accepted', 'resolved')),
           min(e.at) FILTER (WHERE e.to_state = 'on_site'),
           max(e.at) FILTER (WHERE e.to_state = 'resolved'),
           min(e.at) FILTER (WHERE e.to_state = 'reopened'),
           min(e.at) FILTER (WHERE e.to_state = 'cancelled')
    FROM %I e GROUP BY e.work_order_id
    ON CONFLICT (work_order_id) DO UPDATE SET
        last_at = CASE WHEN f.last_at IS NULL OR (EXCLUDED.last_at, EXCLUDED.last_id) > (f.last_at, f.last_id)
                       THEN EXCLUDED.last_at ELSE f.last_at END,
        last_id = CASE WHEN f.last_at IS NULL OR (EXCLUDED.last_at, EXCLUDED.last_id) > (f.last_at, f.last_id)
                       THEN EXCLUDED.last_id ELSE f.last_id END,
        state = CASE WHEN f.last_at IS NULL OR (EXCLUDED.last_at, EXCLUDED.last_id) > (f.last_at, f.last_id)
                     THEN EXCLUDED.state ELSE f.state END,
        -- least() and greatest() skip NULLs: a moment these events did not bring stays as it was.
        signed_at = least(f.signed_at, EXCLUDED.signed_at),
        on_site_at = least(f.on_site_at, EXCLUDED.on_site_at),
        resolved_at = greatest(f.resolved_at, EXCLUDED.resolved_at),
        reopened_at = least(f.reopened_at, EXCLUDED.reopened_at),
        cancelled_at = least(f.cancelled_at, EXCLUDED.cancelled_at)
$q$, source)
$fold$;

-- The same for revisits: the first that reached the resident, by (at, id).
CREATE FUNCTION work_order_fact_fold_revisits_sql(source text) RETURNS text LANGUAGE sql IMMUTABLE AS $fold$
SELECT format($q$
    INSERT INTO work_order_fact AS f (work_order_id, reached_at, reached_id, first_satisfaction)
    SELECT r.work_order_id,
           (array_agg(r.at ORDER BY r.at, r.id))[1],
           (array_agg(r.id ORDER BY r.at, r.id))[1],
           (array_agg(r.satisfaction ORDER BY r.at, r.id))[1]
    FROM %I r WHERE r.reached GROUP BY r.work_order_id
    ON CONFLICT (work_order_id) DO UPDATE SET
        reached_at = CASE WHEN f.reached_at IS NULL OR (EXCLUDED.reached_at, EXCLUDED.reached_id) < (f.reached_at, f.reached_id)
                          THEN EXCLUDED.reached_at ELSE f.reached_at END,
        reached_id = CASE WHEN f.reached_at IS NULL OR (EXCLUDED.reached_at, EXCLUDED.reached_id) < (f.reached_at, f.reached_id)
                          THEN EXCLUDED.reached_id ELSE f.reached_id END,
        first_satisfaction = CASE WHEN f.reached_at IS NULL
                                       OR (EXCLUDED.reached_at, EXCLUDED.reached_id) < (f.reached_at, f.reached_id)
                                  THEN EXCLUDED.first_satisfaction ELSE f.first_satisfaction END
$q$, source)
$fold$;

-- A trigger's transition table is visible to the statements its function EXECUTEs.
CREATE FUNCTION work_order_fact_fold_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE work_order_fact_fold_events_sql('added');
    RETURN NULL;
END $$;

CREATE FUNCTION work_order_fact_fold_revisits() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE work_order_fact_fold_revisits_sql('added');
    RETURN NULL;
END $$;

CREATE TRIGGER work_order_fact_events AFTER INSERT ON work_order_event
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION work_order_fact_fold_events();
CREATE TRIGGER work_order_fact_revisits AFTER INSERT ON work_order_revisit
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION work_order_fact_fold_revisits();

-- The orders already stored.
DO $$
BEGIN
    EXECUTE work_order_fact_fold_events_sql('work_order_event');
    EXECUTE work_order_fact_fold_revisits_sql('work_order_revisit');
END $$;

-- The repeat-complaint test looks for the household's earlier order of the same category.
CREATE INDEX work_order_repeat_idx ON work_order (household_id, category, created_at) WHERE household_id IS NOT NULL;

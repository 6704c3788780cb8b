-- The KPIs' facts read from one table: each order's own columns the figures use (filing time, category, origin,
-- team, due times, first-contact flag) and where it is (the household's station and community, or its asset's)
-- are kept in work_order_fact beside its events' moments, and so is the repeat-complaint test (migration 019 left
-- a join of work_order, household and asset and a probe per order to every read of a month).
--
-- Kept by statement triggers on work_order (INSERT and UPDATE: a move that sets the team or a pause that moves the
-- due times is copied over). Where an order is (station, community) is taken when it is written: a household or a
-- community does not move between stations within a season.
ALTER TABLE work_order_fact
    ADD COLUMN created_at     timestamptz,
    ADD COLUMN category       work_order_category,
    ADD COLUMN origin         text,
    ADD COLUMN team_id        text,
    ADD COLUMN station_id     text,
    ADD COLUMN community_id   text,
    ADD COLUMN household_id   text,
    ADD COLUMN first_contact  boolean,
    ADD COLUMN reply_due_at   timestamptz,
    ADD COLUMN site_due_at    timestamptz,
    ADD COLUMN resolve_due_at timestamptz,   -- work_order.sla_due_at
    ADD COLUMN revisit_due_at timestamptz,
    -- 重复投诉: the latest moment up to which this order is a repeat — over the residents' orders of its household
    -- and category filed in the REPEAT_WINDOW_DAYS (30) before it, the latest first cancellation ('infinity' for
    -- one never cancelled). It is a repeat as at T when repeat_until >= T (an earlier order cancelled before T does
    -- not count); NULL: no such earlier order, or not a resident's order on a household.
    ADD COLUMN repeat_until   timestamptz;

-- The residents' origins (heattwin.choices.RESIDENT_ORIGINS; a test holds the two equal).
CREATE FUNCTION work_order_resident_origin(origin text) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
    SELECT origin IN ('hotline', 'platform_12345', 'app')
$$;

-- The fold of some orders (a table of work_order's columns: a trigger's new rows, or the whole table).
CREATE FUNCTION work_order_fact_fold_orders_sql(source text) RETURNS text LANGUAGE sql IMMUTABLE AS $fold$
SELECT format($q$
    INSERT INTO work_order_fact AS f (work_order_id, created_at, category, origin, team_id, station_id, community_id,
                                      household_id, first_contact, reply_due_at, site_due_at, resolve_due_at,
                                      revisit_due_at)
    SELECT o.id, o.created_at, o.category, o.origin, o.team_id,
           coalesce(h.station_id, CASE WHEN a.kind = 'station' THEN a.id
                                       WHEN a.kind = 'community' THEN a.attrs->>'station_id' END),
           coalesce(h.community_id, CASE WHEN a.kind = 'community' THEN a.id END),
           o.household_id, o.first_contact, o.reply_due_at, o.site_due_at, o.sla_due_at, o.revisit_due_at
    FROM %I o LEFT JOIN household h ON h.id = o.household_id LEFT JOIN asset a ON a.id = o.asset_id
    ON CONFLICT (work_order_id) DO UPDATE SET
        created_at = EXCLUDED.created_at, category = EXCLUDED.category, origin = EXCLUDED.origin,
        team_id = EXCLUDED.team_id, station_id = EXCLUDED.station_id, community_id = EXCLUDED.community_id,
        household_id = EXCLUDED.household_id, first_contact = EXCLUDED.first_contact,
        reply_due_at = EXCLUDED.reply_due_at, site_due_at = EXCLUDED.site_due_at,
        resolve_due_at = EXCLUDED.resolve_due_at, revisit_due_at = EXCLUDED.revisit_due_at
$q$, source)
$fold$;

-- The repeat test of the orders whose answer some orders (``source``: rows with id, household_id, category and
-- created_at — orders written, or orders just cancelled) may have changed: those orders themselves and the ones
-- of the same household and category filed in the 30 days after each.
CREATE FUNCTION work_order_fact_repeat_sql(source text) RETURNS text LANGUAGE sql IMMUTABLE AS $fold$
SELECT format($q$
    WITH touched AS (SELECT s.id, s.household_id, s.category, s.created_at FROM %s s),
    targets AS (
        SELECT t.id FROM touched t
        UNION
        SELECT o.id FROM touched t JOIN work_order o
          ON o.household_id = t.household_id AND o.category = t.category
         AND o.created_at > t.created_at AND o.created_at <= t.created_at + interval '30 days'
        WHERE t.household_id IS NOT NULL
    ),
    computed AS (
        SELECT t.id, CASE WHEN o.household_id IS NOT NULL AND work_order_resident_origin(o.origin) THEN (
            SELECT max(coalesce(pf.cancelled_at, 'infinity'))
            FROM work_order p LEFT JOIN work_order_fact pf ON pf.work_order_id = p.id
            WHERE p.household_id = o.household_id AND p.id <> o.id AND p.category = o.category
              AND work_order_resident_origin(p.origin)
              AND p.created_at < o.created_at AND p.created_at >= o.created_at - interval '30 days') END AS until
        FROM targets t JOIN work_order o ON o.id = t.id
    )
    UPDATE work_order_fact f SET repeat_until = c.until FROM computed c
    WHERE f.work_order_id = c.id AND f.repeat_until IS DISTINCT FROM c.until
$q$, source)
$fold$;

CREATE FUNCTION work_order_fact_fold_orders() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE work_order_fact_fold_orders_sql('added');
    IF TG_OP = 'INSERT' THEN
        EXECUTE work_order_fact_repeat_sql('added');
    ELSE
        -- An order that changed household, category, origin or filing time: its own test, and its followers' under
        -- what it was and what it is.
        EXECUTE work_order_fact_repeat_sql($s$(
            SELECT n.id, n.household_id, n.category, n.created_at FROM added n JOIN removed r ON r.id = n.id
            WHERE (n.household_id, n.category, n.origin, n.created_at)
                  IS DISTINCT FROM (r.household_id, r.category, r.origin, r.created_at)
            UNION ALL
            SELECT r.id, r.household_id, r.category, r.created_at FROM added n JOIN removed r ON r.id = n.id
            WHERE (n.household_id, n.category, n.origin, n.created_at)
                  IS DISTINCT FROM (r.household_id, r.category, r.origin, r.created_at))$s$);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER work_order_fact_orders_added AFTER INSERT ON work_order
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION work_order_fact_fold_orders();
CREATE TRIGGER work_order_fact_orders_changed AFTER UPDATE ON work_order
    REFERENCING OLD TABLE AS removed NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION work_order_fact_fold_orders();

-- A cancellation (first, or a late one earlier than the first) changes the repeat test of the orders after it.
CREATE OR REPLACE FUNCTION work_order_fact_fold_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE work_order_fact_fold_events_sql('added');
    IF EXISTS (SELECT 1 FROM added WHERE to_state = 'cancelled') THEN
        EXECUTE work_order_fact_repeat_sql($s$(
            SELECT o.id, o.household_id, o.category, o.created_at FROM work_order o
            WHERE o.id IN (SELECT work_order_id FROM added WHERE to_state = 'cancelled'))$s$);
    END IF;
    RETURN NULL;
END $$;

-- The orders already stored.
DO $$
BEGIN
    EXECUTE work_order_fact_fold_orders_sql('work_order');
    EXECUTE work_order_fact_repeat_sql('work_order');
END $$;

CREATE INDEX work_order_fact_filed_idx ON work_order_fact (created_at);

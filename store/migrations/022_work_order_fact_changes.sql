-- Which days' orders had their facts changed, and by which transactions: a closed period's figures (store/kpis.py
-- keeps the previous period's company row for the trend) hold while the log over its days stands.
--
-- One row per writing transaction and UTC day of filing of the orders it changed in work_order_fact, written by
-- statement triggers on work_order_fact itself — whatever folded the change (an order written or changed, an
-- event, a revisit, a repeat refresh). A late event or revisit, or a change to an order, of a past period adds a
-- row once its transaction commits; nothing deletes one. The reader's stamp is (rows, latest transaction) over
-- the period's days: it grows with every committed change, and is read before the facts, so a figure kept under
-- a stamp is never older than the stamp. Different transactions write different keys: no writer waits on another.
CREATE TABLE work_order_fact_change (
    filed_on date NOT NULL,   -- the UTC day the changed orders were filed
    xid      xid8 NOT NULL,   -- the transaction that changed them
    PRIMARY KEY (filed_on, xid)
);

CREATE FUNCTION work_order_fact_log_changes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO work_order_fact_change (filed_on, xid)
        SELECT DISTINCT (created_at AT TIME ZONE 'UTC')::date, pg_current_xact_id() FROM added
        WHERE created_at IS NOT NULL
        ON CONFLICT DO NOTHING;
    ELSIF TG_OP = 'UPDATE' THEN  -- the day it was filed on and the day it is: a filing time may move
        INSERT INTO work_order_fact_change (filed_on, xid)
        SELECT DISTINCT (created_at AT TIME ZONE 'UTC')::date, pg_current_xact_id()
        FROM (SELECT created_at FROM added UNION SELECT created_at FROM removed) changed
        WHERE created_at IS NOT NULL
        ON CONFLICT DO NOTHING;
    ELSE
        INSERT INTO work_order_fact_change (filed_on, xid)
        SELECT DISTINCT (created_at AT TIME ZONE 'UTC')::date, pg_current_xact_id() FROM removed
        WHERE created_at IS NOT NULL
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END $$;

-- A trigger with transition tables takes one event.
CREATE TRIGGER work_order_fact_changes_added AFTER INSERT ON work_order_fact
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION work_order_fact_log_changes();
CREATE TRIGGER work_order_fact_changes_changed AFTER UPDATE ON work_order_fact
    REFERENCING OLD TABLE AS removed NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION work_order_fact_log_changes();
CREATE TRIGGER work_order_fact_changes_removed AFTER DELETE ON work_order_fact
    REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION work_order_fact_log_changes();

-- Emptied (no one does; a repair might): every day logged so far changed.
CREATE FUNCTION work_order_fact_log_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO work_order_fact_change (filed_on, xid)
    SELECT DISTINCT filed_on, pg_current_xact_id() FROM work_order_fact_change
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;
CREATE TRIGGER work_order_fact_changes_truncated AFTER TRUNCATE ON work_order_fact
    FOR EACH STATEMENT EXECUTE FUNCTION work_order_fact_log_truncate();

-- The facts already stored: one row per day of filing, under this transaction.
INSERT INTO work_order_fact_change (filed_on, xid)
SELECT DISTINCT (created_at AT TIME ZONE 'UTC')::date, pg_current_xact_id() FROM work_order_fact
WHERE created_at IS NOT NULL;

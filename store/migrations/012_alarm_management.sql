-- Alarm management (ISA-18.2 / EEMUA 191): what the dispatcher is presented, grouping under a root cause,
-- priorities, shelving and out-of-service. The presentation pass (twin.alarm_presentation) maintains
-- presented / parent_id / suppressed_by / priority / console each cycle.
ALTER TABLE alarm
    ADD COLUMN presented      boolean NOT NULL DEFAULT true,   -- rings, ticker and tile show it
    ADD COLUMN presented_at   timestamptz,                     -- when this episode was first presented
    ADD COLUMN parent_id      bigint REFERENCES alarm(id),     -- the root-cause alarm it is grouped under
    ADD COLUMN suppressed_by  text,                            -- the rule that keeps it off the wall
    ADD COLUMN priority       text NOT NULL DEFAULT 'low',     -- heattwin.choices.ALARM_PRIORITY
    ADD COLUMN console        text,                            -- the dispatch desk (the plant feeding it)
    ADD COLUMN shelved_until  timestamptz,
    ADD COLUMN shelved_by     text,
    ADD COLUMN shelve_reason  text;
CREATE INDEX alarm_open_presented_idx ON alarm (presented) WHERE state <> 'cleared';
CREATE INDEX alarm_parent_idx ON alarm (parent_id) WHERE parent_id IS NOT NULL;
CREATE INDEX alarm_event_action_at_idx ON alarm_event (action, at);
CREATE INDEX alarm_asset_cause_raised_idx ON alarm (asset_id, cause, raised_at);

-- An element under repair: its alarms are known and not rung; ends when its work order is final.
CREATE TABLE alarm_out_of_service (
    id             bigserial PRIMARY KEY,
    asset_id       text NOT NULL REFERENCES asset(id),
    work_order_id  bigint NOT NULL REFERENCES work_order(id),
    reason         text NOT NULL DEFAULT '',
    started_at     timestamptz NOT NULL DEFAULT now(),
    started_by     text NOT NULL,
    ended_at       timestamptz,
    ended_by       text
);
CREATE UNIQUE INDEX alarm_out_of_service_one_active ON alarm_out_of_service (asset_id) WHERE ended_at IS NULL;

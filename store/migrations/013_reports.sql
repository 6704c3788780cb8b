-- The supervisor's reports (日调度 / 周分析 / 月通报): each made once for its period by the schedule, or again on
-- demand, stored with its Excel and PDF files and the company-wide figures it shows (store/kpis.py).
CREATE TABLE report (
    id           bigserial PRIMARY KEY,
    kind         text NOT NULL CHECK (kind IN ('daily', 'weekly', 'monthly')),
    period_start timestamptz NOT NULL,
    period_end   timestamptz NOT NULL CHECK (period_end > period_start),
    label        text NOT NULL,
    as_of        timestamptz NOT NULL,
    trigger      text NOT NULL CHECK (trigger IN ('schedule', 'on_demand')),
    generated_at timestamptz NOT NULL DEFAULT now(),
    generated_by text NOT NULL,
    lang         text NOT NULL DEFAULT 'zh-CN',
    figures      jsonb NOT NULL DEFAULT '{}',
    xlsx         bytea NOT NULL,
    pdf          bytea NOT NULL
);
CREATE INDEX report_list_idx ON report (generated_at DESC, id DESC);
-- The schedule makes each period's report once, however many processes run it.
CREATE UNIQUE INDEX report_scheduled_once ON report (kind, period_start) WHERE trigger = 'schedule';

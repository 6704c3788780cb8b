-- Weather forecasts as issued, and the heat-load forecasts and models made from them (issue 18).
-- A forecast row is kept with its issue time: a past decision is re-scored with what was known then.
CREATE TABLE weather_forecast (
    location     text NOT NULL,
    issued_at    timestamptz NOT NULL,
    valid_at     timestamptz NOT NULL,
    t_outdoor_c  double precision NOT NULL CHECK (t_outdoor_c BETWEEN -60 AND 50),
    wind_m_s     double precision CHECK (wind_m_s >= 0),
    solar_w_m2   double precision CHECK (solar_w_m2 >= 0),
    cloud_pct    double precision CHECK (cloud_pct BETWEEN 0 AND 100),
    humidity_pct double precision CHECK (humidity_pct BETWEEN 0 AND 100),
    source       text NOT NULL DEFAULT '',
    received_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (location, issued_at, valid_at),
    CHECK (valid_at >= issued_at)
);
CREATE INDEX weather_forecast_valid ON weather_forecast (location, valid_at, issued_at DESC);

-- A trained heat-load model: LightGBM boosters (one per quantile) as text, what it was trained on.
CREATE TABLE load_model (
    id            bigserial PRIMARY KEY,
    trained_at    timestamptz NOT NULL DEFAULT now(),
    trained_until timestamptz NOT NULL,
    location      text NOT NULL,
    elements      text[] NOT NULL,
    params        jsonb NOT NULL DEFAULT '{}',
    scores        jsonb NOT NULL DEFAULT '{}',
    boosters      jsonb NOT NULL
);

-- Hourly heat-load forecast per station and source, 1–48 h ahead, with its 10/90 % band.
CREATE TABLE load_forecast (
    element_id text NOT NULL,
    issued_at  timestamptz NOT NULL,
    valid_at   timestamptz NOT NULL,
    load_mw    double precision NOT NULL,
    p10_mw     double precision NOT NULL,
    p90_mw     double precision NOT NULL,
    model_id   bigint REFERENCES load_model(id) ON DELETE SET NULL,
    weather_issued_at timestamptz,
    PRIMARY KEY (element_id, issued_at, valid_at),
    CHECK (valid_at > issued_at),
    CHECK (p10_mw <= load_mw AND load_mw <= p90_mw)
);
CREATE INDEX load_forecast_issue ON load_forecast (issued_at DESC);

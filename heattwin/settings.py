"""One settings object, read from the environment (``HEATTWIN_*``, ``DATABASE_URL``).

The defaults make ``make demo`` work untouched on a laptop: an embedded PostgreSQL cluster under
``.state/`` and the demo city under ``data/build/``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


@dataclass(frozen=True)
class Settings:
    database_url: str | None = None
    state_dir: Path = PROJECT_ROOT / ".state"
    data_dir: Path = PROJECT_ROOT / "data" / "build"
    drawings_dir: Path = PROJECT_ROOT / "assets" / "drawings"
    timezone: str = "Asia/Shanghai"
    language: str = "zh-CN"
    host: str = "127.0.0.1"
    port: int = 8050
    sync_interval_s: float = 60.0
    telemetry_window_s: float = 300.0
    tile_url: str | None = None
    tile_attribution: str = ""
    mqtt_host: str = "127.0.0.1"
    mqtt_port: int = 1883
    dask_scheduler: str | None = None
    retention_days: int = 183
    timescaledb: str = "auto"  # auto: use the extension where the server preloads it; off: plain PostgreSQL
    secret_key: str | None = None  # signs session cookies; default: a key kept in the state folder
    session_hours: float = 12.0  # a login lasts one shift
    secure_cookies: str = "auto"  # auto: Secure cookies unless serving on loopback; on | off
    login_rate: str = "10 per minute"  # login attempts per client address (Flask-Limiter notation)
    mqtt_username: str | None = None
    mqtt_password: str | None = None
    sla_file: Path | None = None  # the SLA policy (YAML); default: store/work_orders/sla_default.yaml
    forecast_url: str | None = None  # an HTTP JSON weather forecast (heattwin forecast fetch); none by default
    # What the control advice weighs (twin.control.prices): fuel per GJ of heat produced (coal-fired heat in
    # northern China, 30–50 CNY/GJ) and electricity per kWh for the pumps (a large user's tariff, 0.6–0.8).
    heat_price_cny_per_gj: float = 40.0
    electricity_price_cny_per_kwh: float = 0.65
    extra: dict = field(default_factory=dict)

    @property
    def cluster_dir(self) -> Path:
        return self.state_dir / "pg"


def _choice(name: str, default: str, allowed: tuple[str, ...]) -> str:
    value = _env(name, default).strip().lower()
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
    return value


def load_settings() -> Settings:
    """Read the settings from the environment; unset variables keep their defaults."""
    defaults = Settings()
    return Settings(
        database_url=_env("DATABASE_URL"),
        state_dir=Path(_env("HEATTWIN_STATE_DIR", str(defaults.state_dir))),
        data_dir=Path(_env("HEATTWIN_DATA_DIR", str(defaults.data_dir))),
        drawings_dir=Path(_env("HEATTWIN_DRAWINGS_DIR", str(defaults.drawings_dir))),
        timezone=_env("HEATTWIN_TIMEZONE", defaults.timezone),
        language=_env("HEATTWIN_LANGUAGE", defaults.language),
        host=_env("HEATTWIN_HOST", defaults.host),
        port=int(_env("HEATTWIN_PORT", str(defaults.port))),
        sync_interval_s=float(_env("HEATTWIN_SYNC_INTERVAL_S", str(defaults.sync_interval_s))),
        telemetry_window_s=float(_env("HEATTWIN_TELEMETRY_WINDOW_S", str(defaults.telemetry_window_s))),
        tile_url=_env("HEATTWIN_TILE_URL"),
        tile_attribution=_env("HEATTWIN_TILE_ATTRIBUTION", ""),
        mqtt_host=_env("HEATTWIN_MQTT_HOST", defaults.mqtt_host),
        mqtt_port=int(_env("HEATTWIN_MQTT_PORT", str(defaults.mqtt_port))),
        dask_scheduler=_env("HEATTWIN_DASK_SCHEDULER"),
        retention_days=int(_env("HEATTWIN_RETENTION_DAYS", str(defaults.retention_days))),
        secret_key=_env("HEATTWIN_SECRET_KEY"),
        session_hours=float(_env("HEATTWIN_SESSION_HOURS", str(defaults.session_hours))),
        secure_cookies=_choice("HEATTWIN_SECURE_COOKIES", defaults.secure_cookies, ("auto", "on", "off")),
        login_rate=_env("HEATTWIN_LOGIN_RATE", defaults.login_rate),
        mqtt_username=_env("HEATTWIN_MQTT_USERNAME"),
        mqtt_password=_env("HEATTWIN_MQTT_PASSWORD"),
        timescaledb=_choice("HEATTWIN_TIMESCALEDB", defaults.timescaledb, ("auto", "off")),
        sla_file=Path(_env("HEATTWIN_SLA_FILE")) if _env("HEATTWIN_SLA_FILE") else None,
        forecast_url=_env("HEATTWIN_FORECAST_URL"),
        heat_price_cny_per_gj=float(_env("HEATTWIN_HEAT_PRICE_CNY_PER_GJ", str(defaults.heat_price_cny_per_gj))),
        electricity_price_cny_per_kwh=float(_env("HEATTWIN_ELECTRICITY_PRICE_CNY_PER_KWH",
                                                 str(defaults.electricity_price_cny_per_kwh))),
    )

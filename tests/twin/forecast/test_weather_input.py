"""Forecast files and the HTTP JSON source: every problem named by file, row and field; repaired or refused."""

from __future__ import annotations

import http.server
import threading
from functools import partial
from pathlib import Path

import pandas as pd
import pytest

from store.audit import Actor
from store.forecasts import list_weather_forecast
from store.rowfiles import FileRefused
from twin.forecast.weather_input import fetch_forecast, read_forecast_file, store_forecast

DATA = Path(__file__).parent / "data"
TZ = "Asia/Shanghai"
ENGINEER = Actor("eng", role="engineer")


def _problems(errors):
    return {(e.row, e.field): e.message for e in errors}


def test_bad_file_every_problem_named_and_what_can_be_repaired_is():
    checked = read_forecast_file(DATA / "bad_forecast.csv", timezone=TZ)
    refused, repaired = _problems(checked.refused), _problems(checked.repaired)
    assert "looks like kelvin" in refused[(5, "temperature")]
    assert "different values" in refused[(8, "valid_at")] and "different values" in refused[(9, "valid_at")]
    assert "before its issue time" in refused[(10, "valid_at")]
    assert "5 hours missing" in refused[(12, "valid_at")]          # 18:00–22:00: not filled, named
    assert "converted from F" in repaired[(3, "t_outdoor_f")]
    assert "converted from K" in repaired[(4, "temperature")]
    assert "repeats row 6" in repaired[(7, "valid_at")]
    assert "outside" in repaired[(6, "wind_m_s")]
    assert "interpolated" in repaired[(11, "valid_at")]            # 14:00–16:00 (14:00 refused, 15–16 absent)
    assert "interpolated" in repaired[(6, "valid_at")]             # 12:00, whose row was refused
    assert all(e.file == "bad_forecast.csv" for e in checked.refused + checked.repaired)
    by_valid = checked.rows.set_index(checked.rows["valid_at"].dt.tz_convert(TZ).dt.hour)["t_outdoor_c"]
    assert by_valid[10] == pytest.approx(-1.0) and by_valid[11] == pytest.approx(-5.0)
    assert by_valid[15] == pytest.approx(-2.0)   # between −1.0 at 13:00 and −3.0 at 17:00
    assert by_valid[12] == pytest.approx(-3.0)   # between −5.0 at 11:00 and −1.0 at 13:00
    assert 7 not in by_valid.index and 20 not in by_valid.index and len(by_valid) == 11
    assert (checked.rows["issued_at"] == pd.Timestamp("2026-12-01 00:00", tz="UTC")).all()


def test_bad_file_stores_the_good_rows_or_nothing_when_strict(pool):
    checked = store_forecast(pool, read_forecast_file(DATA / "bad_forecast.csv", timezone=TZ), location="weifang",
                             actor=ENGINEER, strict=True)
    at = pd.Timestamp("2026-12-02", tz="UTC").to_pydatetime()
    assert checked.stored["added"] == 0 and list_weather_forecast(pool, "weifang", issued_before=at).empty
    checked = store_forecast(pool, read_forecast_file(DATA / "bad_forecast.csv", timezone=TZ), location="weifang",
                             actor=ENGINEER)
    assert checked.stored["added"] == len(checked.rows) == 11
    assert len(list_weather_forecast(pool, "weifang", issued_before=at)) == 11


def test_rows_json_takes_issue_unit_and_source_once():
    checked = read_forecast_file(DATA / "rows_forecast.json", timezone=TZ)
    assert len(checked.rows) == 3 and not checked.refused
    assert checked.rows["t_outdoor_c"].tolist() == [-3.0, -3.5, -4.0]
    assert checked.rows["humidity_pct"].isna().tolist() == [False, False, True]
    assert _problems(checked.repaired)[(3, "humidity_pct")].startswith("130 outside")


def test_unreadable_file_is_refused_whole(tmp_path):
    path = tmp_path / "f.json"
    path.write_text("{not json")
    with pytest.raises(FileRefused, match="f.json: not valid JSON"):
        read_forecast_file(path, timezone=TZ)


@pytest.fixture
def http_fixture_server():
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(DATA))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_http_json_source_open_meteo_in_fahrenheit(http_fixture_server):
    checked = fetch_forecast(f"{http_fixture_server}/open_meteo.json", timezone=TZ)
    assert checked.rows["issued_at"].unique().tolist() == [pd.Timestamp("2026-12-01 00:00", tz="UTC")]
    assert checked.rows["valid_at"].iloc[0] == pd.Timestamp("2026-12-01 00:00", tz="UTC")
    assert checked.rows["t_outdoor_c"].round(2).tolist() == [-5.0, -3.0, -1.0, 0.0]
    assert checked.rows["solar_w_m2"].tolist() == [0.0, 120.0, 260.0, 380.0]
    assert len(checked.repaired) == 4 and all("converted from F" in e.message for e in checked.repaired)

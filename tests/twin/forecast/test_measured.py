"""A measured SCADA series comes in through the product's loader: meter differences, local time, dropouts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from twin.forecast.measured import read_measured, read_scada_export

NIS = Path(__file__).resolve().parents[4] / "shared" / "data" / "xai4heat_nis"


def test_meter_resets_glitches_and_dropouts_are_emptied_and_counted(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("datetime,t_amb,t_sup_prim,e\n"          # newest first, as the SCADA writes it
                    "2023-01-10 05:00:00,-2.0,80,0.5\n"       # reset: the meter starts again
                    "2023-01-10 04:00:00,-39.9,80,12.100\n"   # logger dropout value
                    "2023-01-10 03:30:00,-2.0,80,11.000\n"    # a sub-hourly reading: not an hour boundary
                    "2023-01-10 03:00:00,0.0,0,10.100\n"      # dead logger: 0 °C with 0 °C primary
                    "2023-01-10 02:00:00,-1.0,80,10.000\n")
    series = read_scada_export(path)
    kwh = series.hourly["load_kwh"]
    assert kwh.iloc[0] == pytest.approx(100.0)              # 02→03 h: 0.1 MWh
    assert np.isnan(kwh.iloc[1])                             # 03→04 h: 2,000 kWh is a glitch
    assert np.isnan(kwh.iloc[2])                             # 04→05 h: negative, a reset
    assert series.hourly["t_amb_c"].isna().tolist() == [False, True, True, False]
    assert series.notes["hours_above_max"] == 1 and series.notes["hours_negative"] == 1
    assert series.notes["t_amb_dropouts"] == 2 and series.notes["sub_hourly_rows_skipped"] == 1
    assert series.hourly.index[0] == pd.Timestamp("2023-01-10 01:00", tz="UTC")   # CET = UTC+1


@pytest.mark.skipif(not NIS.exists(), reason="the shared Niš data is not on this machine")
def test_nis_export_matches_the_published_hourly_derivation_and_local_time_has_no_repeated_hour():
    series = read_measured(NIS / "original" / "xai4heat_scada_L17.csv")
    derived = pd.read_csv(NIS / "derived_hourly_L17.csv")
    local = pd.to_datetime(derived["datetime"]).dt.tz_localize("Europe/Belgrade", ambiguous=False,
                                                              nonexistent="NaT")
    # The derived file stamps the hour's end; the product stamps its start.
    derived.index = local.dt.tz_convert("UTC") - pd.Timedelta(hours=1)
    derived = derived[derived.index.notna() & ~derived.index.duplicated()]
    both = pd.concat([series.hourly["load_kwh"], derived["load_kwh"]], axis=1, keys=["ours", "derived"]).dropna()
    assert len(both) > 30_000 and np.isclose(both["ours"], both["derived"], atol=0.5).mean() > 0.999
    assert series.hourly.index.is_unique and (np.diff(series.hourly.index.asi8) == 3600 * 10**9).all()
    autumn = series.hourly.loc["2023-10-28 22:00":"2023-10-29 03:00", "load_kwh"]
    assert len(autumn) == 6   # 00:00–03:00 local twice over 02:00: one hour recorded, the other empty
    assert series.notes["t_amb_dropouts"] > 0


@pytest.mark.skipif(not NIS.exists(), reason="the shared Niš data is not on this machine")
def test_nis_processed_season_gives_hourly_sums_and_its_own_forecast():
    series = read_measured(NIS / "original" / "xai4heat_2024-25_L17.csv")
    hourly = series.hourly
    assert hourly["load_kwh"].notna().sum() > 3000 and hourly["forecast_t_c"].notna().sum() > 3000
    assert 100 < hourly["load_kwh"].mean() < 400
    assert np.corrcoef(hourly.dropna()["t_amb_c"], hourly.dropna()["forecast_t_c"])[0, 1] > 0.8

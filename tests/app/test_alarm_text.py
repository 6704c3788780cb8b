"""Alarm messages in the wall's language, worded from the numbers the rules keep in ``details``."""

from __future__ import annotations

import pandas as pd

from app.components.alarm_text import describe


def test_a_rule_alarm_is_worded_in_chinese_from_its_details():
    text = describe("room_t_low", "room 15.1 °C or less for 30 min",
                    {"max_c": 15.1, "threshold_c": 18.0, "duration_s": 1800.0}, "zh-CN")
    assert text == "室温偏低 · 室温 15.1 °C 以下已持续 30 分钟"
    assert describe("sensor_offline", "no reading for 25 min", {"silent_s": 1500}, "zh-CN").endswith("已 25 分钟无数据")
    assert describe("compliance_low", "", {"share_ok": 0.7, "collectors": 10, "below": 3, "threshold_c": 18.0,
                                           "window_s": 3600.0}, "zh-CN") == \
        "室温达标率低 · 近 1 小时室温达标率 70%（10 户中 3 户低于 18 °C）"


def test_the_numbers_a_rules_file_changes_are_worded_from_the_alarm_not_fixed_in_the_text():
    """``HEATTWIN_ALARM_RULES`` may set another duration, window or threshold: the text says those."""
    assert describe("room_t_low", "", {"max_c": 16.4, "threshold_c": 17.0, "duration_s": 3600.0}, "zh-CN") == \
        "室温偏低 · 室温 16.4 °C 以下已持续 1 小时"
    assert describe("room_t_low", "", {"max_c": 16.4, "threshold_c": 17.0, "duration_s": 2700.0}, "zh-CN") == \
        "室温偏低 · 室温 16.4 °C 以下已持续 45 分钟"
    assert describe("compliance_low", "", {"share_ok": 0.85, "collectors": 20, "below": 3, "threshold_c": 17.5,
                                           "window_s": 5400.0}, "zh-CN") == \
        "室温达标率低 · 近 1.5 小时室温达标率 85%（20 户中 3 户低于 17.5 °C）"
    # An alarm raised before its rule kept these numbers: the rule's own message, not a guessed number.
    assert describe("room_t_low", "room 15.1 °C or less for 30 min", {"max_c": 15.1}, "zh-CN") == \
        "室温偏低 · room 15.1 °C or less for 30 min"


def test_the_rules_keep_what_the_text_needs_in_their_alarms(demo_db_url):
    """The chain: a rules file with other numbers → the engine's alarms → the wall's words."""
    from store import alarms, telemetry
    from store.db import get_pool
    from store.households import list_households
    from twin.alarm_rules import AlarmEngine, RuleConfig
    from twin.sync import load_network

    pool = get_pool(demo_db_url)
    network = load_network(pool)
    config = RuleConfig(room_warn_c=17.0, room_duration_s=3600.0, compliance_window_s=7200.0)
    engine = AlarmEngine(pool, network, config, window_s=300.0)
    households = list_households(pool, with_collector=True)
    community = households["community_id"].value_counts().index[0]
    rooms = households.loc[households["community_id"] == community, "sensor_id"].astype(str).tolist()[:10]
    at = pd.Timestamp.now(tz="UTC").floor("min") - pd.Timedelta(hours=1)
    times = pd.date_range(at - pd.Timedelta(minutes=110), at, freq="5min")
    for k, room in enumerate(rooms):
        telemetry.ingest_rows(pool, pd.DataFrame({"time": times, "sensor_id": room,
                                                  "value": 16.5 if k < 3 else 21.0}), "test")
    engine.evaluate(at)
    open_alarms = alarms.list_open_alarms(pool)
    worded = {}
    for row in open_alarms.itertuples():
        alarm = alarms.get_alarm(pool, int(row.id))
        worded[(row.cause, row.asset_id)] = describe(row.cause, alarm["message"], alarm["details"], "zh-CN")
    assert worded[("room_t_low", rooms[0])] == "室温偏低 · 室温 16.5 °C 以下已持续 1 小时"
    assert worded[("compliance_low", community)] == \
        "室温达标率低 · 近 2 小时室温达标率 70%（10 户中 3 户低于 17 °C，最低 16.5 °C）"


def test_english_keeps_the_rules_message_and_missing_numbers_fall_back_to_it():
    assert describe("room_t_low", "room 15.1 °C or less for 30 min", {"max_c": 15.1}, "en") == \
        "Room too cold · room 15.1 °C or less for 30 min"
    # An alarm raised before its numbers were kept: the stored message, never a half-filled template.
    assert describe("station_dp_low", "differential pressure 0.20 bar", {}, "zh-CN") == \
        "末端压差不足 · differential pressure 0.20 bar"
    assert describe("made_up_cause", "a person's note", None, "zh-CN") == "made_up_cause · a person's note"


def test_a_leak_says_what_the_detector_saw_and_how_far_the_location_firmed_up():
    details = {"rate_t_h": 560.0, "source_id": "SRC-1", "revision": 2, "region": ["P-1", "P-2"]}
    assert describe("leak", "make-up at SRC-1: 560 t/h", details, "zh-CN") == \
        "疑似泄漏（跑冒滴漏） · SRC-1 补水量高出基线 560.0 t/h · 随泄漏持续已复核定位 2 次 · 可能区段 2 段（地图高亮）"
    assert "sources send 120.0 t/h more" in describe("leak", "", {"rate_t_h": 120.0, "source_id": "imbalance"}, "en")


def test_a_reading_in_an_alarm_is_worded_to_four_figures():
    text = describe("sensor_stuck", "", {"value": 13.499434246959709, "readings": 40}, "zh-CN")
    assert "13.5" in text and "13.49943" not in text and "40" in text

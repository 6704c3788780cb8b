"""Alarm messages in the wall's language, worded from the numbers the rules keep in ``details``."""

from __future__ import annotations

from app.components.alarm_text import describe


def test_a_rule_alarm_is_worded_in_chinese_from_its_details():
    text = describe("room_t_low", "room 15.1 °C or less for 30 min", {"max_c": 15.1}, "zh-CN")
    assert text == "室温偏低 · 室温 15.1 °C 以下已持续 30 分钟"
    assert describe("sensor_offline", "no reading for 25 min", {"silent_s": 1500}, "zh-CN").endswith("已 25 分钟无数据")
    assert "达标率 70%（10 户中 3 户" in describe("compliance_low", "", {"share_ok": 0.7, "collectors": 10,
                                                                     "below": 3}, "zh-CN")


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

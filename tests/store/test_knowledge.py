"""The knowledge base: Chinese queries find their entries, an exact title ranks first, only entries valid
now are offered, and every change is in the audit trail with the entry before and after."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from store.audit import Actor, list_audit_events
from store.knowledge import add_entry, get_entry, retire_entry, search_knowledge, update_entry
from store.rowfiles import FieldError

SUPERVISOR = Actor("sup-li", role="supervisor", display_name="李主管")
NOW = datetime.now(UTC)


def _add(pool, title, answer="请按提示处理。", **fields):
    return add_entry(pool, title=title, answer=answer, actor=SUPERVISOR, **fields)


def test_a_two_character_query_finds_the_entry_titled_with_it(pool):
    wanted = _add(pool, "暖气不热怎么办", "请先检查入户阀门是否全开，再给暖气片排气。", category="room_cold")
    leak = _add(pool, "暖气片漏水怎么办", "关闭进回水阀门后报修。", category="leak")
    invoice = _add(pool, "采暖费发票怎么开", "在公众号申请电子发票。", category="invoice")
    found = search_knowledge(pool, "不热")
    assert list(found.columns) == ["id", "title", "answer", "category", "score"]
    assert found["id"].tolist() == [wanted]
    assert found.iloc[0]["title"] == "暖气不热怎么办" and found.iloc[0]["category"] == "room_cold"
    assert leak not in found["id"].tolist() and invoice not in found["id"].tolist()


def test_an_exact_title_ranks_first_even_against_entries_that_repeat_the_words(pool):
    longer = _add(pool, "暖气不热怎么办？楼上楼下都热", "暖气不热：楼上楼下都热时，暖气不热多为户内原因。",
                  keywords=["暖气不热", "暖气不热怎么办"], category="room_cold")
    repeats = _add(pool, "室温偏低的处理", "暖气不热怎么办？暖气不热怎么办？先排气。", keywords=["暖气不热怎么办"])
    exact = _add(pool, "暖气不热怎么办", "请先自查入户阀门。", category="room_cold")  # the newest: ids do not help it
    found = search_knowledge(pool, "暖气不热怎么办")
    assert found["id"].tolist()[0] == exact
    assert found.iloc[0]["score"] == 1.0
    assert set(found["id"].tolist()[1:]) == {longer, repeats}
    assert (found["score"].iloc[1:] < 1.0).all()


def test_the_exact_title_is_matched_across_punctuation_and_full_width_forms(pool):
    _add(pool, "暖气不热怎么办？楼上楼下都热", keywords=["暖气不热怎么办"])
    exact = _add(pool, "１２３４５转来的工单多久处理？")
    found = search_knowledge(pool, "12345 转来的工单多久处理")
    assert found.iloc[0]["id"] == exact and found.iloc[0]["score"] == 1.0


def test_a_caller_s_sentence_finds_the_entry_it_is_about(pool):
    cold = _add(pool, "暖气不热怎么办", "请给暖气片排气。", keywords=["温度低"])
    _add(pool, "暖气片漏水怎么办", "关闭阀门后报修。", keywords=["跑水"])
    _add(pool, "如何申请报停", "十月底前到营业厅办理。")
    assert search_knowledge(pool, "我家暖气片不热了").iloc[0]["id"] == cold
    # a synonym: the caller says 暖气费, the entry says 采暖费
    fee = _add(pool, "采暖费收费标准", "每平方米22元。")
    assert search_knowledge(pool, "暖气费多少钱").iloc[0]["id"] == fee


def test_expired_and_not_yet_valid_entries_are_not_offered(pool):
    current = _add(pool, "暖气不热怎么办", valid_from=NOW - timedelta(days=30))
    expired = _add(pool, "暖气不热怎么报修（旧）", valid_from=NOW - timedelta(days=400),
                   valid_to=NOW - timedelta(days=1))
    future = _add(pool, "暖气不热了（下个供暖期）", valid_from=NOW + timedelta(days=1))
    assert search_knowledge(pool, "不热")["id"].tolist() == [current]
    last_year = search_knowledge(pool, "不热", at=NOW - timedelta(days=100))["id"].tolist()
    assert last_year == [expired]
    assert search_knowledge(pool, "不热", at=NOW + timedelta(days=2))["id"].tolist() == [current, future]


def test_a_retired_entry_is_no_longer_offered(pool):
    entry = _add(pool, "暖气不热怎么办")
    assert search_knowledge(pool, "不热")["id"].tolist() == [entry]
    retire_entry(pool, entry, actor=SUPERVISOR)
    assert search_knowledge(pool, "不热").empty
    assert get_entry(pool, entry)["valid_to"] <= datetime.now(UTC)


def test_the_category_keeps_only_its_entries(pool):
    cold = _add(pool, "暖气不热怎么办", category="room_cold")
    refund = _add(pool, "暖气不热能退费吗", category="refund")
    assert set(search_knowledge(pool, "不热")["id"]) == {cold, refund}
    assert search_knowledge(pool, "不热", category="refund")["id"].tolist() == [refund]
    with pytest.raises(ValueError, match="category"):
        search_knowledge(pool, "不热", category="weather")


def test_a_query_of_question_words_or_nothing_still_answers(pool):
    entry = _add(pool, "报停怎么办理")
    assert search_knowledge(pool, "怎么")["id"].tolist() == [entry]
    assert search_knowledge(pool, "？？ ").empty
    assert search_knowledge(pool, "").empty


def test_every_change_is_audited_with_the_entry_before_and_after(pool):
    entry = _add(pool, "暖气不热怎么办", "先排气。", category="room_cold", keywords=["不热"])
    update_entry(pool, entry, actor=SUPERVISOR, answer="先检查阀门，再排气。", keywords=["不热", "温度低"])
    retire_entry(pool, entry, actor=SUPERVISOR)
    events = list_audit_events(pool, object_type="kb_entry", object_id=str(entry)).iloc[::-1]
    assert events["action"].tolist() == ["kb.manage"] * 3
    assert events["username"].tolist() == ["sup-li"] * 3 and events["role"].tolist() == ["supervisor"] * 3
    added, changed, retired = (events.iloc[k] for k in range(3))
    assert added["before"] is None and added["after"]["title"] == "暖气不热怎么办"
    assert changed["before"]["answer"] == "先排气。" and changed["after"]["answer"] == "先检查阀门，再排气。"
    assert changed["after"]["keywords"] == ["不热", "温度低"]
    assert retired["detail"] == "entry retired"
    assert get_entry(pool, entry)["updated_by"] == "sup-li"


def test_a_refused_change_leaves_the_entry_and_the_audit_trail_as_they_were(pool):
    entry = _add(pool, "暖气不热怎么办", "先排气。")
    before = len(list_audit_events(pool, object_type="kb_entry"))
    with pytest.raises(FieldError) as refused:
        update_entry(pool, entry, actor=SUPERVISOR, answer="新答案", category="weather")
    assert refused.value.field == "category"
    with pytest.raises(FieldError) as refused:
        _add(pool, "   ", "空标题")
    assert refused.value.field == "title"
    assert get_entry(pool, entry)["answer"] == "先排气。"
    assert len(list_audit_events(pool, object_type="kb_entry")) == before


def test_a_changed_title_is_found_by_its_new_words_only(pool):
    entry = _add(pool, "暖气不热怎么办")
    update_entry(pool, entry, actor=SUPERVISOR, title="发票抬头开错了怎么办")
    assert search_knowledge(pool, "不热").empty
    assert search_knowledge(pool, "发票")["id"].tolist() == [entry]

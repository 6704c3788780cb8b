"""Importing knowledge-base entries from a file: bad rows refused with file, row and field while the rest
loads; importing the same file again changes nothing; a changed row updates its entry, audited."""

from __future__ import annotations

import json

import pytest

from store.audit import Actor, list_audit_events
from store.knowledge import import_entries, list_entries, search_knowledge
from store.rowfiles import FileRefused

SUPERVISOR = Actor("sup-wang", role="supervisor")
HEADER = "ref,title,answer,category,keywords,valid_from,valid_to\n"


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_bad_rows_are_refused_with_file_row_and_field_and_the_rest_loads(pool, tmp_path):
    path = _write(tmp_path, "kb.csv", HEADER
                  + "KB-1,暖气不热怎么办,先排气。,room_cold,不热、温度低,,\n"
                  + "KB-2,没有答案的问题,,enquiry,,,\n"
                  + "KB-3,天气怎么样,晴。,weather,,,\n"
                  + "KB-4,过期的条目,旧口径。,payment,,2026-03-01,2026-02-01\n"
                  + "KB-5,发票怎么开,公众号申请。,invoice,发票 电子发票,,\n"
                  + "KB-6,日期写错,答案。,payment,,明天,\n"
                  + "KB-1,重复的编号,答案。,other,,,\n")
    result = import_entries(pool, path, actor=SUPERVISOR)
    refused = [(e.file, e.row, e.field) for e in result.errors]
    assert refused == [("kb.csv", 3, "answer"), ("kb.csv", 4, "category"), ("kb.csv", 5, "valid_to"),
                       ("kb.csv", 7, "valid_from"), ("kb.csv", 8, "ref")]
    assert "weather" in result.errors[1].message and "room_cold" in result.errors[1].message
    assert str(result.errors[0]).startswith("kb.csv, row 3, field answer:")
    assert len(result.added) == 2
    loaded = list_entries(pool)
    assert sorted(loaded["ref"]) == ["KB-1", "KB-5"]
    assert loaded.set_index("ref").loc["KB-1", "keywords"] == ["不热", "温度低"]
    assert search_knowledge(pool, "不热")["title"].tolist() == ["暖气不热怎么办"]


def test_importing_the_same_file_again_changes_nothing(pool, tmp_path):
    path = _write(tmp_path, "kb.csv", HEADER + "KB-1,暖气不热怎么办,先排气。,room_cold,,,\n"
                  + "KB-2,发票怎么开,公众号申请。,invoice,,,\n")
    first = import_entries(pool, path, actor=SUPERVISOR)
    audit_rows = len(list_audit_events(pool, object_type="kb_entry"))
    again = import_entries(pool, path, actor=SUPERVISOR)
    assert (len(first.added), len(again.added), len(again.updated), len(again.unchanged)) == (2, 0, 0, 2)
    assert len(list_entries(pool)) == 2
    assert len(list_audit_events(pool, object_type="kb_entry")) == audit_rows


def test_a_changed_row_updates_its_entry_by_ref_or_by_title_audited(pool, tmp_path):
    import_entries(pool, _write(tmp_path, "v1.csv", HEADER + "KB-1,暖气不热怎么办,先排气。,room_cold,,,\n"
                                + ",发票怎么开,公众号申请。,invoice,,,\n"), actor=SUPERVISOR)
    result = import_entries(pool, _write(tmp_path, "v2.csv", HEADER
                                         + "KB-1,暖气不热怎么处理,先检查阀门再排气。,room_cold,,,\n"
                                         + ",发票怎么开,公众号或营业厅申请。,invoice,,,\n"), actor=SUPERVISOR)
    assert (len(result.added), len(result.updated)) == (0, 2)
    entries = list_entries(pool).set_index("title")
    assert entries.loc["暖气不热怎么处理", "answer"] == "先检查阀门再排气。"
    assert entries.loc["发票怎么开", "answer"] == "公众号或营业厅申请。"
    changed = list_audit_events(pool, object_type="kb_entry", object_id=str(entries.loc["暖气不热怎么处理", "id"]))
    assert changed.iloc[0]["before"]["title"] == "暖气不热怎么办"
    assert changed.iloc[0]["after"]["title"] == "暖气不热怎么处理"
    assert changed.iloc[0]["detail"] == "entry changed from v2.csv"
    summary = list_audit_events(pool, object_type="kb_import", object_id="v2.csv")
    assert summary.iloc[0]["after"]["updated"] == 2 and summary.iloc[0]["username"] == "sup-wang"


def test_yaml_and_json_files_load_the_same_way(pool, tmp_path):
    yaml_path = _write(tmp_path, "kb.yaml", "entries:\n"
                       "  - {ref: Y-1, title: 暖气不热怎么办, answer: 先排气。, category: room_cold, keywords: [不热]}\n"
                       "  - {ref: Y-2, title: 只有标题}\n")
    json_path = _write(tmp_path, "kb.json", json.dumps([
        {"ref": "J-1", "title": "报停怎么办理", "answer": "十月底前办理。", "category": "suspend",
         "valid_to": "2099-12-31"}], ensure_ascii=False))
    from_yaml = import_entries(pool, yaml_path, actor=SUPERVISOR)
    from_json = import_entries(pool, json_path, actor=SUPERVISOR)
    assert [(e.row, e.field) for e in from_yaml.errors] == [(2, "answer")]
    assert (len(from_yaml.added), len(from_json.added)) == (1, 1)
    assert sorted(list_entries(pool)["ref"]) == ["J-1", "Y-1"]


def test_a_file_that_is_not_a_list_of_rows_is_refused_whole(pool, tmp_path):
    with pytest.raises(FileRefused, match="kb.json"):
        import_entries(pool, _write(tmp_path, "kb.json", "{not json"), actor=SUPERVISOR)
    with pytest.raises(FileRefused, match=r"\.txt"):
        import_entries(pool, _write(tmp_path, "kb.txt", "标题"), actor=SUPERVISOR)
    assert list_entries(pool).empty

"""``heattwin kb …`` and ``heattwin tickets …`` against a real PostgreSQL: who may change the knowledge
base, refused rows named on the terminal, and the 12345 round trip from a file to the reply."""

from __future__ import annotations

import json

import pytest
from platform_city import build_city

from scripts.actors import ActorError
from scripts.cli import main
from store.audit import Actor, list_audit_events
from store.users import add_user

SETUP = Actor("setup", "cli", "cli")


@pytest.fixture
def cli(db_url, pool, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", db_url)
    add_user(pool, username="sup-li", password="a long supervisor password", roles=["supervisor"], actor=SETUP)
    add_user(pool, username="agent-wu", password="a long agent password", roles=["agent"], actor=SETUP)
    return pool


def test_a_supervisor_adds_an_entry_an_agent_may_not_and_search_finds_it(cli, capsys):
    assert main(["kb", "add", "暖气不热怎么办", "先检查阀门，再排气。", "--category", "room_cold",
                 "--keyword", "不热", "--by", "sup-li"]) == 0
    assert "added by sup-li" in capsys.readouterr().out
    with pytest.raises(ActorError, match="kb.manage"):
        main(["kb", "add", "别的问题", "答案。", "--by", "agent-wu"])
    assert main(["kb", "search", "不热"]) == 0
    assert "暖气不热怎么办" in capsys.readouterr().out
    assert main(["kb", "add", "坏分类", "答案。", "--category", "weather"]) == 2
    assert "category" in capsys.readouterr().err
    assert list_audit_events(cli, action="kb.manage")["username"].tolist() == ["sup-li"]


def test_kb_import_names_each_refused_row_and_retire_stops_offering(cli, tmp_path, capsys):
    path = tmp_path / "kb.csv"
    path.write_text("ref,title,answer,category\nK-1,报停怎么办理,十月底前办理。,suspend\nK-2,没有答案,,suspend\n",
                    encoding="utf-8")
    assert main(["kb", "import", str(path), "--by", "sup-li"]) == 1
    out = capsys.readouterr()
    assert "kb.csv, row 3, field answer" in out.err and "1 added" in out.out
    main(["kb", "list"])
    listed = capsys.readouterr().out
    entry_id = int(listed.split()[0].lstrip("#"))
    assert "报停怎么办理" in listed
    assert main(["kb", "retire", str(entry_id), "--by", "sup-li"]) == 0
    main(["kb", "search", "报停"])
    assert "nothing found" in capsys.readouterr().out


def test_tickets_from_a_file_to_the_platform_s_reply(cli, tmp_path, capsys):
    build_city(cli)
    path = tmp_path / "12345.csv"
    path.write_text("工单编号,联系电话,诉求内容\nGD-1,13800000001,暖气不热\nGD-2,13800000002,\n", encoding="utf-8")
    assert main(["tickets", "import", str(path), "--by", "agent-wu"]) == 1
    out = capsys.readouterr()
    assert "12345.csv, row 3, field content" in out.err
    assert "GD-1: work order #" in out.out and "1 filed, 0 imported before" in out.out
    assert main(["tickets", "import", str(path)]) == 1
    assert "0 filed, 1 imported before (unchanged)" in capsys.readouterr().out
    reply = tmp_path / "reply.json"
    assert main(["tickets", "export", "-o", str(reply), "--by", "agent-wu"]) == 0
    replies = json.loads(reply.read_text(encoding="utf-8"))["replies"]
    assert [(r["ticket_no"], r["status"]) for r in replies] == [("GD-1", "accepted")]
    assert main(["tickets", "export", "--format", "csv"]) == 0
    assert capsys.readouterr().out.lstrip("\ufeff").startswith("ticket_no,work_order_id,status,")

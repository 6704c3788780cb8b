"""The audit trail and the accounts in a real PostgreSQL: a change and its audit row commit together or not
at all, the table is append-only, and no password is ever stored in clear."""

from __future__ import annotations

import shutil
import subprocess

import psycopg
import pytest

from store import alarms, users
from store.audit import Actor, audited, list_audit_events, record_event
from store.db import transaction
from store.migrate import migrate

WANG = Actor("wang", "dispatcher", "10.0.0.7", "值班调度 王建国")
SETUP = Actor("setup", "cli", "cli")


@pytest.fixture
def alarm_id(pool):
    with transaction(pool) as conn:
        conn.execute("INSERT INTO network_version (source_path) VALUES ('t')")
        conn.execute("INSERT INTO asset (id, kind, geometry, lon, lat, network_version) VALUES"
                     " ('ST-1', 'station', '{}', 119.1, 36.7, 1)")
    return alarms.add_alarm(pool, asset_id="ST-1", cause="station_dp_low", severity="alarm", message="dp low")


def _fail_on(conn, table: str, when: str) -> None:
    """A trigger that makes ``when`` (INSERT/UPDATE) on ``table`` fail, as a full disk or a bug would."""
    conn.execute("CREATE FUNCTION fail_now() RETURNS trigger LANGUAGE plpgsql AS"
                 " $$ BEGIN RAISE EXCEPTION 'forced failure'; END $$")
    conn.execute(f"CREATE TRIGGER fail_now BEFORE {when} ON {table} FOR EACH ROW EXECUTE FUNCTION fail_now()")


def test_an_acknowledgement_and_its_audit_row_are_one_transaction(pool, alarm_id):
    alarms.update_alarm_state(pool, alarm_id, "acknowledged", actor=WANG)
    row = list_audit_events(pool, object_type="alarm").iloc[0]
    assert (row.username, row.role, row.action, row.object_id, row.client_addr, row.outcome) == \
        ("wang", "dispatcher", "alarm.ack", str(alarm_id), "10.0.0.7", "ok")
    assert row.before == {"state": "raised"} and row.after["state"] == "acknowledged"


def test_a_change_that_fails_leaves_no_audit_row(pool, alarm_id):
    with transaction(pool) as conn:
        _fail_on(conn, "alarm", "UPDATE")
    with pytest.raises(psycopg.errors.RaiseException, match="forced failure"):
        alarms.update_alarm_state(pool, alarm_id, "acknowledged", actor=WANG)
    assert list_audit_events(pool, object_type="alarm").empty
    assert alarms.list_alarm_events(pool, alarm_id)["action"].tolist() == ["raised"]


def test_an_audit_row_that_cannot_be_written_undoes_the_change(pool, alarm_id):
    with transaction(pool) as conn:
        _fail_on(conn, "audit_event", "INSERT")
    with pytest.raises(psycopg.errors.RaiseException, match="forced failure"):
        alarms.update_alarm_state(pool, alarm_id, "cleared", actor=WANG, note="checked")
    assert alarms.get_alarm(pool, alarm_id)["state"] == "raised"


def test_an_exception_inside_an_audited_block_writes_nothing(pool, alarm_id):
    with pytest.raises(RuntimeError), audited(pool, WANG, "alarm.comment", "alarm", alarm_id) as change:
        change.conn.execute("INSERT INTO alarm_event (alarm_id, actor, action) VALUES (%s, 'wang', 'comment')",
                            (alarm_id,))
        raise RuntimeError("the caller changed its mind")
    assert list_audit_events(pool).empty and len(alarms.list_alarm_events(pool, alarm_id)) == 1


def test_the_audit_trail_is_append_only(pool):
    record_event(pool, WANG, "login")
    for statement in ("UPDATE audit_event SET username = 'someone else'", "DELETE FROM audit_event",
                      "TRUNCATE audit_event"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"), transaction(pool) as conn:
            conn.execute(statement)
    assert list_audit_events(pool)["username"].tolist() == ["wang"]


def test_oversized_and_empty_notes_are_refused_by_field_and_change_nothing(pool, alarm_id):
    with pytest.raises(ValueError, match=r"note: at most 1000 characters \(got 5000\)"):
        alarms.comment_alarm(pool, alarm_id, "x" * 5000, actor=WANG)
    with pytest.raises(ValueError, match="needs a note"):
        alarms.update_alarm_state(pool, alarm_id, "cleared", actor=WANG, note="  ")
    assert alarms.get_alarm(pool, alarm_id)["state"] == "raised" and list_audit_events(pool).empty


def test_user_rules_are_named_by_field(pool):
    with pytest.raises(users.UserError, match="password: at least 10"):
        users.add_user(pool, username="li", password="short", roles=["agent"], actor=SETUP)
    with pytest.raises(users.UserError, match="roles: boss is not a role"):
        users.add_user(pool, username="li", password="long enough pw", roles=["boss"], actor=SETUP)
    with pytest.raises(users.UserError, match="team: a crew member belongs to a team"):
        users.add_user(pool, username="li", password="long enough pw", roles=["crew"], actor=SETUP)
    with pytest.raises(users.UserError, match="username 'li wei'"):
        users.add_user(pool, username="li wei", password="long enough pw", roles=["agent"], actor=SETUP)
    users.add_user(pool, username="li", password="long enough pw", roles=["agent", "supervisor"], actor=SETUP)
    with pytest.raises(users.UserError, match="taken"):
        users.add_user(pool, username="LI", password="long enough pw", roles=["agent"], actor=SETUP)
    assert users.get_user(pool, "li")["roles"] == ["agent", "supervisor"]
    assert list_audit_events(pool, action="user.manage")["object_id"].tolist() == ["li"]


def _dump(url: str) -> str:
    pg_dump = shutil.which("pg_dump") or "/usr/lib/postgresql/15/bin/pg_dump"
    return subprocess.run([pg_dump, "--data-only", url], capture_output=True, text=True, check=True).stdout


def test_passwords_are_never_stored_or_logged_in_clear(pool, db_url, caplog):
    secret, changed = "Correct-Horse-Battery-7", "Staple-Again-Nine-9"
    caplog.set_level("DEBUG")
    users.add_user(pool, username="zhao", password=secret, roles=["dispatcher"], actor=SETUP)
    assert users.authenticate(pool, "zhao", "wrong " + secret).user is None
    assert users.authenticate(pool, "zhao", secret).user["username"] == "zhao"
    users.update_user_password(pool, "zhao", changed, actor=SETUP)
    dump = _dump(db_url)
    assert "$argon2id$" in dump  # the hash is there …
    assert secret not in dump and changed not in dump  # … and never the password
    assert secret not in caplog.text and changed not in caplog.text
    server_log = _server_log(db_url)
    assert server_log is None or (secret not in server_log and changed not in server_log)


def _server_log(db_url: str) -> str | None:
    with psycopg.connect(db_url) as conn:
        directory = conn.execute("SELECT current_setting('data_directory')").fetchone()[0]
    try:
        return open(f"{directory}/../postgres.log", encoding="utf-8", errors="replace").read()
    except OSError:
        return None


def test_migrating_again_keeps_the_audit_trail(pool, db_url):
    record_event(pool, WANG, "login")
    assert migrate(db_url) == []
    assert len(list_audit_events(pool)) == 1


def test_a_login_and_a_refusal_record_the_roles_the_user_holds(pool):
    users.add_user(pool, username="zhao", password="long enough pw", roles=["agent", "supervisor"], actor=SETUP)
    assert users.authenticate(pool, "zhao", "long enough pw", client_addr="10.0.0.9").user is not None
    record_event(pool, Actor("zhao", client_addr="10.0.0.9"), "scenario.run", outcome="refused", detail="page refused")
    users.authenticate(pool, "nobody", "whatever pw")
    rows = list_audit_events(pool, action="login").set_index("username")
    assert rows.loc["zhao", "role"] == "agent,supervisor"
    assert rows.loc["nobody", "role"] == ""
    assert list_audit_events(pool, action="scenario.run").iloc[0].role == "agent,supervisor"
    assert list_audit_events(pool, username="setup").iloc[0].role == "cli"  # a role given is kept

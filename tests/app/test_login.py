"""Logins against a real PostgreSQL through the real Flask app: right and wrong passwords, lock-out,
disabled users, ended sessions, CSRF, the rate limit, and what is audited."""

from __future__ import annotations

import time

import pytest
from accounts import SETUP, app_settings, client_login, csrf_from, role_users

from store.audit import list_audit_events
from store.users import MAX_FAILED_LOGINS, update_user_disabled, update_user_password


@pytest.fixture
def make_app(db_url):
    from app.server import create_app

    def make(**overrides):
        return create_app(db_url, app_settings(**overrides))
    return make


@pytest.fixture
def accounts(pool):
    return role_users(pool)


def test_every_page_and_callback_needs_a_login(make_app, pool):
    client = make_app().server.test_client()
    page = client.get("/scenarios?lang=en")
    assert page.status_code == 302 and page.headers["Location"].startswith("/login?next=%2Fscenarios")
    assert client.get("/_dash-layout").status_code == 401
    forged = client.post("/_dash-update-component", json={"output": "..wall-order-created.data...wall-order-msg.children..",
                                                          "inputs": [], "state": [], "changedPropIds": []})
    assert forged.status_code == 401 and forged.get_json()["login"] is True
    assert client.get("/login").status_code == 200 and client.get("/assets/auth.js").status_code == 200
    # Dash serves the assets folder, drawings included: those stay behind the login.
    assert client.get("/assets/drawings/stations/ST-0001.svg").status_code == 302
    assert client.get("/healthz").get_json() == {"ok": True}


def test_a_right_password_logs_in_with_a_safe_cookie_and_is_audited(make_app, pool, accounts):
    client = make_app().server.test_client()
    username, password = accounts["dispatcher"]
    response = client_login(client, username, password)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("heattwin_session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert client.get("/_dash-layout").status_code == 200
    logins = list_audit_events(pool, action="login", username=username)
    assert logins["outcome"].tolist() == ["ok"]


def test_wrong_passwords_lock_the_account_until_an_admin_resets_it(make_app, pool, accounts):
    client = make_app().server.test_client()
    username, password = accounts["engineer"]
    for _ in range(MAX_FAILED_LOGINS - 1):
        refused = client_login(client, username, "wrong password")
        assert refused.status_code == 401 and "用户名或密码错误" in refused.get_data(as_text=True)
    locked = client_login(client, username, "wrong password")
    assert "已锁定" in locked.get_data(as_text=True)
    assert client_login(client, username, password).status_code == 401  # the right password waits too
    details = list_audit_events(pool, action="login", username=username)["detail"].tolist()
    assert details.count("wrong_password") == MAX_FAILED_LOGINS - 1 and details.count("locked") == 2
    update_user_password(pool, username, "a brand new password", actor=SETUP)
    assert client_login(client, username, "a brand new password").status_code == 302


def test_an_unknown_user_and_a_disabled_user_are_refused(make_app, pool, accounts):
    client = make_app().server.test_client()
    assert client_login(client, "nobody-here", "whatever it is").status_code == 401
    username, password = accounts["agent"]
    update_user_disabled(pool, username, True, actor=SETUP)
    refused = client_login(client, username, password)
    assert refused.status_code == 401 and "已停用" in refused.get_data(as_text=True)
    assert set(list_audit_events(pool, action="login", outcome="refused")["detail"]) == {"unknown", "disabled"}


def test_disabling_or_a_new_password_ends_open_sessions_at_once(make_app, pool, accounts):
    app = make_app()
    first, second = app.server.test_client(), app.server.test_client()
    for client, role in ((first, "supervisor"), (second, "dispatcher")):
        client_login(client, *accounts[role])
        assert client.get("/_dash-layout").status_code == 200
    update_user_disabled(pool, accounts["supervisor"][0], True, actor=SETUP)
    update_user_password(pool, accounts["dispatcher"][0], "another long password", actor=SETUP)
    assert first.get("/_dash-layout").status_code == 401
    assert second.get("/_dash-layout").status_code == 401


def test_a_session_ends_after_the_configured_hours(make_app, pool, accounts):
    client = make_app(session_hours=12.0).server.test_client()
    client_login(client, *accounts["dispatcher"])
    assert client.get("/_dash-layout").status_code == 200
    with client.session_transaction() as session:  # the shift is over: logged in 12 h and a minute ago
        session["login_at"] = time.time() - 12 * 3600 - 60
    expired = client.get("/")
    assert expired.status_code == 302 and "expired=1" in expired.headers["Location"]


def test_a_login_without_the_forms_csrf_token_or_with_huge_fields_is_refused(make_app, pool, accounts):
    client = make_app().server.test_client()
    username, password = accounts["dispatcher"]
    client.get("/login")
    assert client.post("/login", data={"username": username, "password": password}).status_code == 400
    token = csrf_from(client.get("/login").get_data(as_text=True))
    huge = client.post("/login", data={"username": username, "password": "x" * 10_000, "csrf_token": token})
    assert huge.status_code == 400 and "过长" in huge.get_data(as_text=True)
    assert list_audit_events(pool, action="login", outcome="ok").empty


def test_logins_from_one_address_are_rate_limited(make_app, accounts):
    client = make_app(login_rate="3 per minute").server.test_client()
    codes = [client_login(client, "t-dispatcher", "wrong password").status_code for _ in range(4)]
    assert codes == [401, 401, 401, 429]


def test_after_login_the_user_goes_back_where_they_were_but_never_off_site(make_app, accounts):
    client = make_app().server.test_client()
    username, password = accounts["engineer"]
    for next_path, expected in (("/scenarios?lang=en", "/scenarios?lang=en"), ("//evil.example/x", "/"),
                                ("https://evil.example/", "/")):
        page = client.get("/login", query_string={"next": next_path})
        response = client.post("/login", query_string={"next": next_path},
                               data={"username": username, "password": password,
                                     "csrf_token": csrf_from(page.get_data(as_text=True))})
        assert response.headers["Location"] == expected


def test_logout_ends_the_session_and_is_audited(make_app, pool, accounts):
    client = make_app().server.test_client()
    username, password = accounts["admin"]
    client_login(client, username, password)
    page = client.get("/login")
    client.post("/logout", data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    assert client.get("/_dash-layout").status_code == 401
    assert list_audit_events(pool, action="logout", username=username)["outcome"].tolist() == ["ok"]

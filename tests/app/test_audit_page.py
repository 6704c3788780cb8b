"""The audit page, the refusal page and the 404 page speak the reader's language: actions by their labels,
recorded details translated, changes as ``key: old → new``; the grids' own texts come from ``grid.py``."""

from __future__ import annotations

import json
import sys

import pytest
from accounts import app_settings, client_login, role_users

from app.auth.guard import _refusal_page, action_label
from app.components.grid import DARK_GRID_THEME, dark_grid_options, grid_locale_text
from app.i18n import LANGUAGES, TRANSLATIONS
from heattwin.permissions import ACTIONS


@pytest.fixture(scope="module")
def audit():
    """The page module as the app loads it (``pages.audit``; imported any other way it would register its
    path a second time). The app is never asked for anything, so no database is needed."""
    from app.server import create_app

    create_app("postgresql:///not-used", app_settings())
    return sys.modules["pages.audit"]


def test_every_action_has_a_label_in_each_language():
    missing = [(a, lang) for a in ACTIONS for lang in LANGUAGES if not TRANSLATIONS.get(f"action.{a}", {}).get(lang)]
    assert missing == []
    assert action_label("work_order.revisit", "zh-CN") == "工单回访"
    assert action_label("no.such_action", "zh-CN") == "no.such_action"


def test_recorded_details_are_shown_in_chinese_and_kept_in_english(audit):
    _detail = audit._detail
    assert _detail("logged in", "zh-CN") == "登录成功"
    assert _detail("3 token(s) revoked", "zh-CN") == "吊销 3 个数据源令牌"
    assert _detail("entry added from kb_seed.yaml", "zh-CN") == "从 kb_seed.yaml 新增知识条目"
    assert _detail("kb_seed.yaml: 163 added, 0 updated, 0 unchanged, 0 refused", "zh-CN") == \
        "kb_seed.yaml：新增 163，更新 0，未变 0，拒收 0"
    assert _detail("Refused: none of your roles allows 'alarm.clear'. This was recorded.", "zh-CN") == \
        "操作被拒绝：您的角色不允许“手动消除告警”，已记录。"
    assert _detail("order 12 is closed", "zh-CN") == "order 12 is closed"  # an error's own text stays
    assert _detail("logged in", "en") == "logged in"


def test_a_change_reads_key_old_to_new(audit):
    _change = audit._change
    assert _change(None, None) == ""
    assert _change(None, {"roles": ["admin"], "team_id": None}) == "roles: admin; team_id: —"
    assert _change({"state": "raised", "note": "x"}, {"state": "acknowledged", "note": "x"}) == \
        "state: raised → acknowledged"
    assert _change({"state": "new"}, None) == "state: new → —"


def test_roles_are_shown_by_their_labels(audit):
    _role = audit._role
    assert _role("agent,supervisor", "zh-CN") == "客服坐席 · 主管"
    assert _role("cli", "zh-CN") == "命令行"
    assert _role("", "zh-CN") == ""
    assert _role("robot", "en") == "robot"


def test_the_refusal_page_names_the_action_not_its_key():
    text = str(_refusal_page(None, "work_order.revisit", "zh-CN"))
    assert "工单回访" in text and "(work_order.revisit)" not in text and "（work_order.revisit）" not in text


def test_the_grids_speak_the_page_language_and_size_with_the_viewport():
    zh = grid_locale_text("zh-CN")
    assert zh["pageSizeSelectorLabel"] == "每页行数：" and zh["noRowsToShow"] and zh["filterOoo"]
    assert grid_locale_text("en") == {}
    options = dark_grid_options("zh-CN", pagination=True)
    assert options["theme"] is DARK_GRID_THEME and options["localeText"] == zh and options["pagination"]
    assert "vw" in DARK_GRID_THEME["function"]


@pytest.fixture
def supervisor_client(db_url):
    from app.server import create_app
    from store.db import get_pool

    users = role_users(get_pool(db_url))
    app = create_app(db_url, app_settings())
    client = app.server.test_client()
    assert client_login(client, *users["supervisor"]).status_code == 302
    return app, client


def _route(app, client, pathname: str) -> str:
    router = next(o for o in app.callback_map if o.startswith(".._pages_content.children"))
    body = {"output": router, "outputs": [{"id": "_pages_content", "property": "children"},
                                          {"id": "_pages_store", "property": "data"}],
            "inputs": [{"id": "_pages_location", "property": "pathname", "value": pathname},
                       {"id": "_pages_location", "property": "search", "value": ""}],
            "state": [], "changedPropIds": ["_pages_location.pathname"]}
    response = client.post("/_dash-update-component", json=body)
    assert response.status_code == 200
    return json.dumps(response.get_json(), ensure_ascii=False)


def test_an_unknown_address_shows_the_404_page_in_the_users_language(supervisor_client):
    app, client = supervisor_client
    client.get("/")  # Dash registers its pages router on the first request
    text = _route(app, client, "/no-such-page")
    assert "页面不存在" in text and "404 - Page not found" not in text

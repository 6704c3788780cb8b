"""Every Dash callback and write route × every role, a kiosk and nobody, through the real Flask app over
its HTTP interface: allowed exactly when the permission table says so, refused (and audited) otherwise.

The callbacks are read from the app's own callback map, not listed by hand, so a new callback without a
permission entry fails ``test_every_callback_declares_its_action``.
"""

from __future__ import annotations

import json

import pytest
from accounts import SETUP, app_settings, client_login, role_users
from dash._utils import split_callback_id

from app.auth.guard import ROUTER_ACTION, callback_action
from app.auth.principal import kiosk_principal
from heattwin.choices import user_role_values
from heattwin.permissions import ROLE_ACTIONS
from store.audit import list_audit_events
from store.kiosks import add_kiosk
from store.tokens import add_token

PRINCIPALS = (*user_role_values, "kiosk", "anonymous")


@pytest.fixture(scope="module")
def matrix_db(pg_server, demo_template):
    """One demo database for the whole matrix (its calls are no-ops or refusals; nothing accumulates
    that another call reads)."""
    from tests.conftest import _create_from_template, _database_url, _drop

    name = _create_from_template(pg_server, demo_template)
    yield _database_url(pg_server, name)
    from store.db import close_pools

    close_pools()
    _drop(pg_server, name)


@pytest.fixture(scope="module")
def app_and_clients(matrix_db):
    from app.components import wall_data
    from app.server import create_app
    from store.db import get_pool

    wall_data._CACHE.clear()
    pool = get_pool(matrix_db)
    users = role_users(pool)
    app = create_app(matrix_db, app_settings())
    clients = {}
    for role, (username, password) in users.items():
        clients[role] = app.server.test_client()
        assert client_login(clients[role], username, password).status_code == 302
    clients["kiosk"] = app.server.test_client()
    token = add_kiosk(pool, "matrix-wall", actor=SETUP)
    assert clients["kiosk"].get(f"/?kiosk={token}").status_code == 302
    clients["anonymous"] = app.server.test_client()
    clients["anonymous"].get("/login")  # Dash registers its pages router on the first request
    return app, clients, pool


def _dependency(dep: dict):
    """A request entry for an input or state: pattern-matching (ALL) ones match no component."""
    component = dep["id"]
    if isinstance(component, dict) or str(component).startswith("{"):
        return []
    return {"id": component, "property": dep["property"], "value": None}


def _output(spec: dict):
    component = spec["id"]
    return [] if isinstance(component, dict) else {"id": component, "property": spec["property"]}


def _body(output: str, entry: dict) -> dict:
    """What the renderer would post for this callback, with nothing clicked (no input changed)."""
    specs = split_callback_id(output)
    outputs = [_output(o) for o in specs] if isinstance(specs, list) else _output(specs)
    return {"output": output, "outputs": outputs,
            "inputs": [_dependency(d) for d in entry["inputs"]], "state": [_dependency(d) for d in entry["state"]],
            "changedPropIds": []}


def _server_callbacks(app) -> dict:
    return {output: entry for output, entry in app.callback_map.items() if entry.get("callback")}


def _expected(principal: str, action: str) -> bool:
    if principal == "anonymous":
        return False
    if action == ROUTER_ACTION:
        return True
    if principal == "kiosk":
        return kiosk_principal("x").can(action)
    return action in ROLE_ACTIONS[principal]


def test_every_callback_declares_its_action(app_and_clients):
    app, _, _ = app_and_clients
    callbacks = _server_callbacks(app)
    assert len(callbacks) > 30  # the wall's, the scenarios page's, the audit page's and Dash's router
    undeclared = [o for o, entry in callbacks.items() if callback_action(app, {"output": o}) is None]
    assert undeclared == [], f"callbacks without @requires(action): {undeclared}"


@pytest.mark.parametrize("principal", PRINCIPALS)
def test_each_callback_is_allowed_exactly_as_the_table_says(app_and_clients, principal):
    app, clients, pool = app_and_clients
    client = clients[principal]
    wrong = []
    for output, entry in _server_callbacks(app).items():
        action = callback_action(app, {"output": output})
        response = client.post("/_dash-update-component", json=_body(output, entry))
        allowed = response.status_code not in (401, 403)
        if allowed != _expected(principal, action):
            wrong.append((output, action, response.status_code))
        if not allowed:
            body = response.get_json()
            assert body["refused"] and body["action"] == action and body["messages"]["zh-CN"]
            assert response.status_code == (401 if principal == "anonymous" else 403)
    assert wrong == [], f"{principal}: allowed/refused against the permission table: {wrong}"


def test_refusals_are_audited_with_who_and_what(app_and_clients):
    app, clients, pool = app_and_clients
    output = next(o for o in _server_callbacks(app) if callback_action(app, {"output": o}) == "alarm.clear")
    entry = app.callback_map[output]
    before = len(list_audit_events(pool, action="alarm.clear", outcome="refused", limit=10_000))
    for principal in ("engineer", "kiosk", "anonymous"):
        assert clients[principal].post("/_dash-update-component", json=_body(output, entry)).status_code in (401, 403)
    refused = list_audit_events(pool, action="alarm.clear", outcome="refused", limit=10_000)
    assert len(refused) == before + 3
    assert set(refused.head(3)["username"]) == {"t-engineer", "kiosk:matrix-wall", ""}
    assert set(refused.head(3)["object_type"]) == {"request"}


def test_the_write_routes_take_only_their_own_credentials(app_and_clients):
    """The ingest API writes with a data source's bearer token; a session or a kiosk is not one."""
    app, clients, pool = app_and_clients
    body = json.dumps([{"sensor_id": "S-NONE", "time": "2026-12-01T00:00:00Z", "value": 1.0}])
    for principal in PRINCIPALS:
        response = clients[principal].post("/api/v1/readings", data=body, content_type="application/json")
        assert response.status_code == 401, principal
    token = add_token(pool, "matrix-scada", actor=SETUP)
    accepted = clients["anonymous"].post("/api/v1/readings", data=body, content_type="application/json",
                                         headers={"Authorization": f"Bearer {token}"})
    assert accepted.status_code == 200 and accepted.get_json()["rejected"] == 1


def _declared_routes(app) -> list[tuple[str, str, str]]:
    """(url, method, action) of every Flask route that declares its action (``app.auth.guard.route``)."""
    routes = []
    for rule in app.server.url_map.iter_rules():
        action = getattr(app.server.view_functions[rule.endpoint], "heattwin_action", None)
        if action is None:
            continue
        url = (rule.rule.replace("<int:wo_id>", "1").replace("<sha256>", "0" * 64)
               .replace("<int:report_id>", "1").replace("<file_format>", "pdf"))
        routes.append((url, "POST" if "POST" in rule.methods else "GET", action))
    return routes


def test_each_declared_route_is_allowed_exactly_as_the_table_says(app_and_clients):
    app, clients, _ = app_and_clients
    routes = _declared_routes(app)
    assert {url for url, _, _ in routes} >= {"/api/v1/field/actions", f"/photos/1/{'0' * 64}"}
    wrong = []
    for principal in PRINCIPALS:
        for url, method, action in routes:
            response = clients[principal].open(url, method=method, json={"actions": []})
            to_login = response.status_code == 302 and response.headers["Location"].startswith("/login")
            allowed = response.status_code not in (401, 403) and not to_login
            if allowed != _expected(principal, action):
                wrong.append((principal, url, action, response.status_code))
    assert wrong == []


def test_pages_show_only_to_roles_that_may_see_them(app_and_clients):
    """The scenarios page's content (not just its links) is refused to roles without ``scenario.view``."""
    app, clients, _ = app_and_clients
    router = next(o for o in app.callback_map if o.startswith(".._pages_content.children"))
    entry = app.callback_map[router]
    for principal in PRINCIPALS:
        body = _body(router, entry)
        body["inputs"] = [{"id": "_pages_location", "property": "pathname", "value": "/scenarios"},
                          {"id": "_pages_location", "property": "search", "value": ""}]
        response = clients[principal].post("/_dash-update-component", json=body)
        if principal == "anonymous":
            assert response.status_code == 401
            continue
        refused = '"data-refused":"scenario.view"' in response.get_data(as_text=True)
        may = principal != "kiosk" and "scenario.view" in ROLE_ACTIONS[principal]
        assert refused != may, principal


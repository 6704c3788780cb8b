"""Who is asking: a logged-in user (from the session), a kiosk (from its cookie), or nobody.

Both are loaded from the database on every request, so disabling a user, changing a password or
revoking a kiosk token takes effect on the next request, in every worker.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import request
from flask_login import AnonymousUserMixin, UserMixin, current_user

from heattwin.permissions import ACTIONS, KIOSK_ACTIONS, granting_role
from store.audit import Actor

KIOSK_ROLE = "kiosk"


@dataclass(frozen=True)
class Principal:
    username: str
    display_name: str = ""
    roles: tuple[str, ...] = ()
    user_id: int | None = None
    team_id: str | None = None
    session_epoch: int = 0
    kiosk: str | None = None

    @property
    def label(self) -> str:
        return self.display_name or self.username

    def role_for(self, action: str) -> str | None:
        """The role that allows ``action`` (``kiosk`` for a kiosk's read-only wall), or None."""
        if self.kiosk is not None:
            granting_role((), action)  # an unknown action is an error here too
            return KIOSK_ROLE if action in KIOSK_ACTIONS else None
        return granting_role(self.roles, action)

    def can(self, action: str) -> bool:
        return self.role_for(action) is not None

    def actor(self, action: str = "") -> Actor:
        """This principal as the author of a change (or a refusal) of ``action``."""
        role = (self.role_for(action) if action in ACTIONS else "") or ""
        return Actor(self.username, role=role, client_addr=client_addr(), display_name=self.display_name)


def client_addr() -> str:
    try:
        return request.remote_addr or ""
    except RuntimeError:  # outside a request (a test calling a callback directly)
        return ""


def user_principal(user: dict) -> Principal:
    return Principal(username=user["username"], display_name=user["display_name"], roles=tuple(user["roles"]),
                     user_id=user["id"], team_id=user["team_id"], session_epoch=user["session_epoch"])


def kiosk_principal(name: str) -> Principal:
    return Principal(username=f"kiosk:{name}", display_name=name, kiosk=name)


class SessionUser(UserMixin):
    """Flask-Login's user: the session stores ``id:epoch`` so a password change ends older sessions."""

    def __init__(self, principal: Principal):
        self.principal = principal

    def get_id(self) -> str:
        return f"{self.principal.user_id}:{self.principal.session_epoch}"


class Anonymous(AnonymousUserMixin):
    principal = None


def current_principal() -> Principal | None:
    """The principal of this request, or None when nobody is logged in and no kiosk token came."""
    try:
        user = current_user._get_current_object()
    except (RuntimeError, AttributeError):
        return None
    return getattr(user, "principal", None)

"""Who a command-line change is by: ``--by USER`` names a HeatTwin user whose roles must allow the
action; without it the change is signed by the operating-system account (``cli:<name>``), since
whoever runs the command on the server already holds its database."""

from __future__ import annotations

import getpass

from heattwin.permissions import granting_role
from store.audit import Actor
from store.users import get_user

CLI_ROLE = "cli"


class ActorError(SystemExit):
    def __init__(self, message: str):
        super().__init__(message)


def cli_actor(pool, action: str, by: str | None = None) -> Actor:
    if not by:
        return Actor(f"cli:{getpass.getuser()}", role=CLI_ROLE, client_addr="cli")
    user = get_user(pool, by)
    if user is None or user["disabled_at"] is not None:
        raise ActorError(f"--by {by}: no active HeatTwin user of that name (heattwin user list)")
    role = granting_role(user["roles"], action)
    if role is None:
        raise ActorError(f"--by {by}: none of {by}'s roles ({', '.join(user['roles'])}) allows {action}")
    return Actor(user["username"], role=role, client_addr="cli", display_name=user["display_name"])

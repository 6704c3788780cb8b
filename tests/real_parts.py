"""Whether the real parts a test needs (a server, a browser, a broker) are here.

Under ``CI=true`` a missing part is an error, never a skip.
"""

from __future__ import annotations

import os

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require(condition: bool, reason: str) -> None:
    """Skip when a real part is missing on a developer's machine; fail under CI."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: a missing part is an error)")
    pytest.skip(reason)

"""What a network import found: errors (refuse the file), warnings (store it, but look) and snaps.

Every message names the layer and the feature id (or row number), the field when one is at fault,
and the rule broken, so a GIS editor can find and fix the feature without reading code.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

MAX_LISTED = 10  # ids listed in one message before the rest become "(+N more)"


@dataclass
class Report:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    snaps: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def lines(self) -> list[str]:
        """Every message, prefixed by its class, errors first."""
        return ([f"error: {m}" for m in self.errors] + [f"warning: {m}" for m in self.warnings]
                + [f"snap: {m}" for m in self.snaps])

    def summary(self) -> str:
        return f"{len(self.errors)} errors, {len(self.warnings)} warnings, {len(self.snaps)} snaps"


def listing(ids: Iterable[str], limit: int = MAX_LISTED) -> str:
    """``a, b, c`` — or the first ``limit`` ids and ``(+N more)`` so one message stays readable."""
    ids = [str(i) for i in ids]
    shown = ", ".join(ids[:limit])
    return shown if len(ids) <= limit else f"{shown} (+{len(ids) - limit} more)"

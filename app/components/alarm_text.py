"""An alarm's message in the wall's language.

The rules store an English message with its numbers (what the command line and the logs show) and
the same numbers in ``details``; the wall words Chinese messages from ``details`` with the
``alarm.<cause>`` templates. A template that cannot be filled (an older alarm, a cause without one)
falls back to the stored message, so nothing is ever shown empty.
"""

from __future__ import annotations

from app.components import fmt
from app.i18n import t


def describe(cause: str, message: str | None, details: dict | None, lang: str) -> str:
    """The cause's name, then what it saw: ``室温偏低 · 室温 15.1 °C 以下已持续 30 分钟``."""
    label = t(f"cause.{cause}", lang)
    label = cause if label == f"cause.{cause}" else label
    saw = _worded(cause, details or {}, lang) or message
    return f"{label} · {saw}" if saw else label


def _worded(cause: str, details: dict, lang: str) -> str | None:
    if cause == "leak" and "rate_t_h" in details:
        return leak_summary(details, lang)
    if lang == "en":
        return None   # the stored message is English already
    key = f"alarm.{cause}"
    template = t(key, lang)
    if template == key:
        return None
    fields = dict(details)
    if "silent_s" in fields:
        fields["silent_min"] = round(float(fields["silent_s"]) / 60.0)
    if "share_ok" in fields:
        fields["share_pct"] = round(100.0 * float(fields["share_ok"]))
    try:
        return template.format(**fields)
    except (KeyError, ValueError, TypeError):
        return None


def leak_summary(details: dict, lang: str) -> str:
    """What the detector saw, in the wall's language: the excess, and how far the location has firmed up."""
    rate = fmt.number(details.get("rate_t_h"), "")
    source = str(details.get("source_id", ""))
    kind = "imbalance" if source == "imbalance" else "makeup"
    parts = [t(f"leak.summary.{kind}", lang).format(rate=rate, source=source)]
    if details.get("revision"):
        parts.append(t("leak.summary.revised", lang).format(n=details["revision"]))
    if details.get("region"):
        parts.append(t("leak.summary.region", lang).format(n=len(details["region"])))
    return " · ".join(parts)

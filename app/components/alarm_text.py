"""An alarm's message in the wall's language.

The rules store an English message with its numbers (what the command line and the logs show) and
the same numbers in ``details``; the wall words Chinese messages from ``details`` with the
``alarm.<cause>`` templates. A template that cannot be filled (an older alarm, a cause without one)
falls back to the stored message, so nothing is ever shown empty.
"""

from __future__ import annotations

from app.components import fmt
from app.i18n import t
from heattwin.settings import load_settings


def describe(cause: str, message: str | None, details: dict | None, lang: str) -> str:
    """The cause's name, then what it saw: ``室温偏低 · 室温 15.1 °C 以下已持续 30 分钟``."""
    label = t(f"cause.{cause}", lang)
    label = cause if label == f"cause.{cause}" else label
    saw = _worded(cause, details or {}, lang) or message
    return f"{label} · {saw}" if saw else label


def _worded(cause: str, details: dict, lang: str) -> str | None:
    if cause == "leak" and "rate_t_h" in details:
        return leak_summary(details, lang)
    if cause in ("sla_warning", "sla_breach") and details.get("orders"):
        return sla_summary(cause, details, lang)
    if lang == "en":
        return None   # the stored message is English already
    key = f"alarm.{cause}"
    template = t(key, lang)
    if template == key:
        return None
    fields = dict(details)
    fields.setdefault("unit", "")  # the sensor's unit, where the wall knows it (wall_data.with_hosts)
    for seconds, minutes in (("silent_s", "silent_min"), ("still_s", "still_min")):
        if seconds in fields:
            fields[minutes] = round(float(fields[seconds]) / 60.0)
    if "share_ok" in fields:
        fields["share_pct"] = round(100.0 * float(fields["share_ok"]))
        # Alarms raised before the rule kept the coldest room are worded without it.
        fields["worst"] = t("alarm.worst", lang).format(worst_c=f"{float(fields['worst_c']):.1f}") \
            if "worst_c" in fields else ""
    # The rules file sets these (HEATTWIN_ALARM_RULES); the alarm keeps the values it was raised with.
    if "threshold_c" in fields:
        fields["threshold_c"] = f"{float(fields['threshold_c']):g}"
    for seconds, name in (("duration_s", "duration"), ("window_s", "window")):
        if seconds in fields:
            fields[name] = duration(float(fields[seconds]), lang)
    # A reading is kept at full precision; a person reads four figures ("13.5", not 13.499434246959709).
    fields = {k: f"{v:.4g}" if isinstance(v, float) else v for k, v in fields.items()}
    try:
        return template.format(**fields).strip()
    except (KeyError, ValueError, TypeError):
        return None


def duration(seconds: float, lang: str) -> str:
    """``30 分钟``, ``1 小时``, ``1.5 小时``: whole minutes under an hour, hours from there on."""
    if seconds < 3600.0:
        return t("alarm.minutes", lang).format(n=round(seconds / 60.0))
    return t("alarm.hours", lang).format(n=f"{round(seconds / 3600.0, 2):g}")


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


SLA_ORDERS_SHOWN = 3  # orders an SLA alarm names; the panel's work orders list them all


def sla_summary(cause: str, details: dict, lang: str, timezone: str | None = None) -> str:
    """Which orders an SLA alarm is about, due times in ``timezone`` (default ``HEATTWIN_TIMEZONE``):
    ``2 张工单已超时：#12（到达现场，10-09 15:00 到期）、#15（…）``."""
    timezone = timezone or load_settings().timezone
    orders = details["orders"]
    sep = "、" if lang == "zh-CN" else ", "
    named = [t("alarm.sla_order", lang).format(
        id=o["id"], clocks="/".join(t(f"sla_clock.{c}", lang) for c in o.get("clocks", ())),
        due=fmt.clock(o.get("due_at"), timezone, with_date=True)) for o in orders[:SLA_ORDERS_SHOWN]]
    more = t("alarm.sla_more", lang).format(n=len(orders) - SLA_ORDERS_SHOWN) if len(orders) > SLA_ORDERS_SHOWN else ""
    return t(f"alarm.{cause}", lang).format(count=details.get("count", len(orders)), orders=sep.join(named) + more)

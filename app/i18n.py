"""The translation table: every label the UI shows, in zh-CN and en. Pages call ``t(key, lang)``."""

from __future__ import annotations

LANGUAGES = ("zh-CN", "en")

TRANSLATIONS: dict[str, dict[str, str]] = {
    "app.title": {"zh-CN": "智慧供热调度中心", "en": "HeatTwin Dispatch Center"},
    "nav.wall": {"zh-CN": "调度大屏", "en": "Video wall"},
    "nav.overview": {"zh-CN": "数据概览", "en": "Overview"},
    "overview.title": {"zh-CN": "已加载的数据", "en": "What is loaded"},
    "overview.network_version": {"zh-CN": "管网版本", "en": "Network version"},
    "overview.imported_at": {"zh-CN": "导入时间", "en": "Imported at"},
    "overview.elements": {"zh-CN": "管网要素", "en": "Network elements"},
    "overview.records": {"zh-CN": "档案记录", "en": "Records"},
    "overview.empty": {"zh-CN": "尚未导入管网：运行 heattwin import", "en": "No network yet: run heattwin import"},
    "kind.source": {"zh-CN": "热源", "en": "Sources"},
    "kind.station": {"zh-CN": "换热站", "en": "Stations"},
    "kind.node": {"zh-CN": "节点", "en": "Nodes"},
    "kind.pipe": {"zh-CN": "管段", "en": "Pipes"},
    "kind.valve": {"zh-CN": "阀门", "en": "Valves"},
    "kind.sensor": {"zh-CN": "测点", "en": "Sensors"},
    "kind.community": {"zh-CN": "小区", "en": "Communities"},
    "kind.household": {"zh-CN": "住户", "en": "Households"},
    "table.equipment": {"zh-CN": "设备", "en": "Equipment"},
    "table.maintenance_log": {"zh-CN": "维修记录", "en": "Maintenance entries"},
    "table.drawing": {"zh-CN": "图纸", "en": "Drawings"},
    "table.team": {"zh-CN": "抢修队", "en": "Crews"},
    "table.household": {"zh-CN": "住户", "en": "Households"},
    "table.work_order": {"zh-CN": "工单", "en": "Work orders"},
    "table.measurement": {"zh-CN": "遥测数据", "en": "Readings"},
    "label.count": {"zh-CN": "数量", "en": "Count"},
    "label.language": {"zh-CN": "English", "en": "中文"},
}


def t(key: str, lang: str = "zh-CN") -> str:
    """The label for ``key`` in ``lang``; a missing key shows itself so it is noticed, not hidden."""
    entry = TRANSLATIONS.get(key)
    if entry is None:
        return key
    return entry.get(lang) or entry.get("en") or key

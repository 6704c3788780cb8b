"""What every dash-ag-grid of the desks shares: the control room's dark colours (AG Grid's theming API), sized
with the viewport like the pages' text, and the grid's own texts (pager, filters, no rows) in the page's language.

A page passes ``dashGridOptions=dark_grid_options(lang, pagination=True, …)``; a page that builds its own options
adds ``"theme": DARK_GRID_THEME, "localeText": grid_locale_text(lang)``. A ``rowHeight`` in the options would fix
the rows in px again: the theme's row height follows the font.
"""

from __future__ import annotations

# The pages size their text with clamp(13px, 0.75vw, 32px); the grid's font, spacing and icons follow the same
# curve (14.4 px / 8 px / 16 px at 1920 wide, twice that at 3840), so rows and headers grow with the text.
_FONT_SIZE = "clamp(13px, 0.75vw, 32px)"
_SPACING = "clamp(6px, 0.42vw, 18px)"
_ICON_SIZE = "clamp(14px, 0.84vw, 36px)"

DARK_GRID_THEME = {"function": "themeQuartz.withParams({backgroundColor: '#0b1422', foregroundColor: '#e6edf5',"
                               " headerBackgroundColor: '#111d30', borderColor: '#1d2940', accentColor: '#4dabf7',"
                               " fontFamily: 'Noto Sans CJK SC, Noto Sans SC, sans-serif',"
                               f" fontSize: '{_FONT_SIZE}', headerFontSize: '{_FONT_SIZE}',"
                               f" spacing: '{_SPACING}', iconSize: '{_ICON_SIZE}'}})"}

# AG Grid's own texts (its ``localeText`` keys) that the desks' grids show: the pager, the column filters, the
# empty and loading overlays. English is AG Grid's default.
_LOCALE_ZH_CN = {
    # pager: "页 1 / 4", "1 – 50 / 182" (AG Grid puts these words between the numbers)
    "page": "页", "to": "–", "of": "/", "more": "更多", "pageLastRowUnknown": "?",
    "pageSizeSelectorLabel": "每页行数：", "ariaPageSizeSelectorLabel": "每页行数",
    "firstPage": "首页", "previousPage": "上一页", "nextPage": "下一页", "lastPage": "末页",
    # overlays
    "noRowsToShow": "没有记录", "loadingOoo": "加载中…", "loadingError": "加载出错",
    # column filters
    "filterOoo": "筛选…", "applyFilter": "应用", "clearFilter": "清除", "resetFilter": "重置",
    "cancelFilter": "取消", "textFilter": "文本筛选", "numberFilter": "数值筛选", "dateFilter": "日期筛选",
    "setFilter": "集合筛选", "empty": "请选择", "equals": "等于", "notEqual": "不等于", "lessThan": "小于",
    "greaterThan": "大于", "lessThanOrEqual": "小于等于", "greaterThanOrEqual": "大于等于", "inRange": "介于",
    "inRangeStart": "从", "inRangeEnd": "到", "contains": "包含", "notContains": "不包含",
    "startsWith": "开头是", "endsWith": "结尾是", "blank": "为空", "notBlank": "不为空", "blanks": "（空）",
    "before": "早于", "after": "晚于", "andCondition": "且", "orCondition": "或", "dateFormatOoo": "yyyy-mm-dd",
    "invalidDate": "日期无效", "invalidNumber": "数值无效", "searchOoo": "搜索…", "selectAll": "（全选）",
    "noMatches": "无匹配项",
    # screen readers
    "ariaFilterMenuOpen": "打开筛选菜单", "ariaLabelColumnFilter": "列筛选", "ariaLabelColumnMenu": "列菜单",
    "ariaFilterValue": "筛选值", "ariaFilterFromValue": "起始值", "ariaFilterToValue": "结束值",
    "ariaSortableColumn": "按回车键排序", "ariaChecked": "已选", "ariaUnchecked": "未选",
    "ariaIndeterminate": "部分选中",
}


def grid_locale_text(lang: str) -> dict[str, str]:
    """AG Grid's ``localeText`` for a page in ``lang`` (empty: AG Grid's English)."""
    return dict(_LOCALE_ZH_CN) if lang == "zh-CN" else {}


def dark_grid_options(lang: str, **options) -> dict:
    """``dashGridOptions`` for a desk's grid in ``lang``: the dark theme, AG Grid's texts, then ``options``."""
    return {"theme": DARK_GRID_THEME, "localeText": grid_locale_text(lang), **options}


def fluid_columns(columns: list[dict]) -> list[dict]:
    """Columns sized in px become shares of the grid's width (their px at 1920 as a floor), so they grow
    with the text on a 4K screen instead of cutting it off ("3…", "受…")."""
    out = []
    for column in columns:
        column = dict(column)
        width = column.pop("width", None)
        if width is not None and "flex" not in column:
            column.update(flex=width / 100.0, minWidth=width)
        out.append(column)
    return out

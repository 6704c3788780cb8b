"""The people who file, dispatch, repair, call back and close the demo city's work orders (usernames).

The demo's own accounts (``scripts/demo_accounts.py``: dispatcher, agent, crew, supervisor, …) are among
them, so their history is theirs; the crew account belongs to the first team, as the demo makes it.
"""

from __future__ import annotations

import numpy as np

AGENTS = ("agent", "zhao.li", "sun.yue", "qian.na", "zhou.ting", "feng.xue")  # hotline and revisit seats
DISPATCHERS = ("dispatcher", "wu.gang", "zheng.hao", "chen.bo")
SUPERVISORS = ("supervisor", "he.jun")
INSPECTORS = ("grid.liu", "grid.ma", "grid.tang")  # 网格员 and inspectors who report what they find
CREW_PER_TEAM = 3
_SURNAMES = ("wang", "li", "zhang", "liu", "chen", "yang", "huang", "zhou", "xu", "sun", "hu", "zhu", "gao",
             "lin", "guo", "ma", "luo", "liang", "song", "han")
_GIVEN = ("wei", "qiang", "lei", "jun", "yong", "jie", "tao", "ming", "chao", "hui", "peng", "bin", "hao", "fei",
          "xin", "kai")


def crew_names(team_count: int) -> np.ndarray:
    """``(team_count, CREW_PER_TEAM)`` usernames, unique, the same for the same count; team 1 has ``crew``."""
    need = team_count * CREW_PER_TEAM
    base = [f"{s}.{g}" for g in _GIVEN for s in _SURNAMES]
    names = [name + (str(k // len(base)) if k >= len(base) else "") for k, name in
             zip(range(need), base * (need // len(base) + 1), strict=False)]
    crew = np.array(names, dtype=object).reshape(team_count, CREW_PER_TEAM)
    crew[0, 0] = "crew"
    return crew.astype(str)


REPAIR_CREW = tuple(crew_names(3).ravel())  # the repair teams every city has (T-01 … T-03)

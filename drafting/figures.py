"""Minimal figure extraction for chunk metadata.

``chunk_figures`` returns the quantities a drafter may want to reuse or check — a number (or a
``*`` mask standing for a number in the redacted seed reports) followed by a unit or measure word —
exactly as written and in order of appearance::

    >>> chunk_figures("新增公共停车泊位*.**万个，同比增长8.5%，完成投资3.2亿元，2023年9月")
    ['*.**万个', '8.5%', '3.2亿元']

Years and dates (``2023年``, ``9月9日``) are never figures: 年/月/日 are not in the unit list.
Ordinals (``第97次``) are skipped too.
"""

from __future__ import annotations

import re

__all__ = ["UNITS", "chunk_figures"]

# Longest first, so that "个百分点" wins over "个" and "平方公里" over "公里".
UNITS: tuple[str, ...] = tuple(
    sorted(
        {
            "个百分点",
            "百分点",
            "%",
            "％",
            "‰",
            "万平方米",
            "平方公里",
            "平方千米",
            "平方米",
            "平米",
            "立方米",
            "万立方米",
            "公里",
            "千米",
            "米",
            "公顷",
            "亩",
            "吨",
            "公斤",
            "千克",
            "万元",
            "亿元",
            "元",
            "千瓦时",
            "千瓦",
            "兆瓦",
            "万千瓦",
            "户",
            "套",
            "栋",
            "幢",
            "间",
            "人次",
            "人",
            "家",
            "项",
            "次",
            "件",
            "处",
            "所",
            "座",
            "条",
            "辆",
            "倍",
            "天",
            "小时",
            "分钟",
            "个月",
            "台",
            "张",
            "名",
            "批次",
            "批",
            "场",
            "期",
            "轮",
            "个",
            "部",
            "块",
            "株",
            "棵",
            "盏",
            "根",
            "口",
            "艘",
            "架次",
            "床",
            "位",
            "支",
            "类",
            "宗",
            "笔",
            "份",
            "起",
            "例",
            "标箱",
        },
        key=len,
        reverse=True,
    )
)

_NUMBER = r"(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\*+(?:\.\*+)?)"
_MAGNITUDE = r"(?:万亿|亿|万|千|百)"
_UNIT = "(?:" + "|".join(re.escape(u) for u in UNITS) + ")"
_FIGURE_RE = re.compile(
    r"(?<![\d.,*第])"  # not the tail of a longer number, not an ordinal
    + _NUMBER
    + r"(?:余|多)?"
    + r"(?: ?(?:"
    + _MAGNITUDE
    + r"(?:余|多)?"
    + _UNIT
    + r"?"  # 1.2万个 / 2亿多元 / 1200万
    + r"|"
    + _UNIT  # 8.5% / 30个
    + r"))"
)


def chunk_figures(text: str) -> list[str]:
    """Numbers (or ``*`` masks) with a magnitude and/or unit, as written, in order."""
    return [m.group(0) for m in _FIGURE_RE.finditer(text)]

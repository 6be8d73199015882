"""A figure is a fact, not a value: what it counts, its qualifier, direction, comparison base and period.

:func:`facts_of` reads, for each figure the lexer (:mod:`drafting.quantities`) found, the words of its
own clause around it::

    全年接待游客5020万人次      indicator 接待游客, period 本年
    增长了约12.5%（同比）       direction up, qualifier {ABOUT}, base 上年
    超过1200套 / 1200套以上     qualifier {MORE}
    上年棚改2845套              indicator 棚改, period 上年

:func:`similarity` compares two indicators, tolerant of rewording (棚户区改造 ~ 棚改, 带动全社会投入 ~
撬动社会资金) but not of a different thing (接待游客 vs 新开工公租房).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from drafting.quantities import Figure

__all__ = ["Fact", "facts_of", "indicator_words", "informative", "similarity"]

_CLAUSE_STOP = "，,。；;：:！？!?\n"
_SENTENCE_STOP = "。；;！？!?\n"

# qualifier classes: what the figure claims about the true value
_QUAL_BEFORE = {
    "超过": "MORE", "超出": "MORE", "突破": "MORE", "逾": "MORE", "超": "MORE", "过": "MORE", "高于": "MORE",
    "不少于": "MORE", "不低于": "MORE", "至少": "MORE",
    "不足": "LESS", "不到": "LESS", "低于": "LESS", "少于": "LESS", "不超过": "LESS", "未满": "LESS",
    "最多": "LESS",
    "约": "ABOUT", "大约": "ABOUT", "大概": "ABOUT", "左右": "ABOUT",
    "近": "NEAR", "将近": "NEAR", "接近": "NEAR", "近乎": "NEAR",
}  # fmt: skip
_QUAL_AFTER = {
    "以上": "MORE", "之多": "MORE", "有余": "MORE", "多": "MORE", "余": "MORE",
    "左右": "ABOUT", "上下": "ABOUT",
    "以内": "LESS", "以下": "LESS",
}  # fmt: skip
_QUAL_CLAUSE = {"力争": "TARGET", "争取": "TARGET", "预计": "TARGET", "计划": "TARGET", "目标": "TARGET",
                "累计": "CUMUL"}
_QB = sorted(_QUAL_BEFORE, key=len, reverse=True)
_QA = sorted(_QUAL_AFTER, key=len, reverse=True)

_UP = ("增长", "提高", "增加", "上升", "扩大", "提升", "攀升", "增幅", "增速", "多增", "拉动")
_DOWN = ("下降", "降低", "减少", "回落", "下滑", "缩小", "缩减", "压减", "降幅", "减幅", "少增", "减")
_DIR_RE = re.compile("|".join(sorted(_UP + _DOWN, key=len, reverse=True)))
_DIR_REACH = 10

_BASE_RE = re.compile(
    r"同比|环比|(?:比|较)(?:上年|去年|上期|上月|上季度|(?:19|20)[0-9]{2}年)(?:同期|底|末)?|(?:上年|去年)同期"
)
_PERIODS = {
    "全年": "本年", "今年": "本年", "本年": "本年", "当年": "本年", "年内": "本年", "本年度": "本年",
    "上年": "上年", "去年": "上年", "上一年": "上年", "上年度": "上年",
    "上半年": "上半年", "下半年": "下半年",
    "一季度": "一季度", "第一季度": "一季度", "二季度": "二季度", "第二季度": "二季度",
    "三季度": "三季度", "第三季度": "三季度", "四季度": "四季度", "第四季度": "四季度",
    "前三季度": "前三季度", "前两季度": "上半年",
    "年底": "年底", "年末": "年底", "年初": "年初",
}  # fmt: skip
_PERIOD_RE = re.compile("|".join(sorted(_PERIODS, key=len, reverse=True)))

_TRAIL = (
    "比上年同期增长", "同比增长", "同比下降", "比上年增长", "较上年增长", "增长", "提高", "下降", "降低",
    "增加", "减少", "上升", "达到", "完成", "突破", "超过", "实现", "累计", "合计", "共计", "总计", "分别",
    "新增", "约为", "不少于", "不足", "达", "超", "约", "近", "逾", "共", "计", "为", "是", "有", "至", "到",
    "了", "的", "由", "从", "比", "较", "占", "本期", "今年", "本年", "当年", "上年", "去年", "同比", "已",
)  # fmt: skip
_LEAD = ("其中", "完成", "实现", "共完成", "累计完成", "全年", "全市", "全县", "全区", "全省", "累计", "共",
         "已", "并", "和", "及", "同时", "另外", "此外")
# characters that say nothing about what is counted
_FILLER = set("的了和与及在对为是等年月日全市省县区共已并其中将把被个这那各此")


@dataclass
class Fact:
    """A figure with what the words of its clause say about it."""

    figure: Figure
    indicator: str
    qualifiers: frozenset[str]
    qualifier_words: str
    direction: str  # "up" | "down" | ""
    base: str  # "上年" | "上期" | "2020年" | ""
    period: str  # normalised: 本年, 上年, 上半年, 一季度 … or ""
    period_word: str  # as written
    inherited: bool = False  # the indicator was taken from an earlier figure of the sentence
    line: int = 0  # the line of its text it stands on (for bullets: which note)


def _clause_start(text: str, pos: int, stops: str = _CLAUSE_STOP) -> int:
    return max(text.rfind(ch, 0, pos) for ch in stops) + 1


def indicator_words(run: str) -> str:
    """The words of ``run`` that name what is counted: verbs, qualifiers and periods stripped."""
    thing = _BASE_RE.sub("", run)
    thing = re.sub(r"(?:19|20)[0-9]{2}年|[0-9]{1,2}(?:-[0-9]{1,2})?月(?:[0-9]{1,2}日)?|力争|争取|预计|计划|"
                   r"累计|截至|截止|到|至", "", thing)
    thing = _PERIOD_RE.sub("", thing)
    thing = re.sub(r"[0-9０-９.%％*]+", "", thing)
    thing = thing.strip(" \u3000、“”\"'（）()【】")
    changed = True
    while changed and thing:
        changed = False
        for w in _TRAIL:
            if thing.endswith(w):
                thing = thing[: -len(w)]
                changed = True
                break
        for w in _LEAD:
            if thing.startswith(w) and len(thing) > len(w):
                thing = thing[len(w) :]
                changed = True
                break
        thing = thing.strip(" \u3000、，")
    return thing[-14:]


def _content(s: str) -> str:
    return "".join(ch for ch in s if ch not in _FILLER and "\u4e00" <= ch <= "\u9fff"
                   or ch.isalpha() and ch not in _FILLER)


def informative(indicator: str) -> bool:
    """True when an indicator has at least two characters that say what is counted (not 其中, 为全区)."""
    return len(_content(indicator)) >= 2


def similarity(a: str, b: str) -> float:
    """0..1: how far two indicators name the same thing (character and bigram overlap, fillers ignored)."""
    ca, cb = _content(a), _content(b)
    if not ca or not cb:
        return 0.0
    sa, sb = set(ca), set(cb)
    chars = 2 * len(sa & sb) / (len(sa) + len(sb))
    ba = {ca[i : i + 2] for i in range(len(ca) - 1)}
    bb = {cb[i : i + 2] for i in range(len(cb) - 1)}
    grams = 2 * len(ba & bb) / (len(ba) + len(bb)) if ba and bb else chars
    return (chars + grams) / 2


def _qualifiers(text: str, f: Figure, clause_lo: int) -> tuple[set[str], str]:
    assert f.start is not None and f.end is not None
    found: set[str] = set()
    words: list[str] = []
    before = text[max(clause_lo, f.start - 4) : f.start]
    for w in _QB:
        if before.endswith(w) or before.rstrip("了达到至为").endswith(w):
            found.add(_QUAL_BEFORE[w])
            words.append(w)
            break
    raw = f.raw
    if raw.endswith(("余", "多")) or re.search(r"[0-9](?:余|多)", raw):
        found.add("MORE")
        words.append("余" if "余" in raw else "多")
    after = text[f.end : f.end + 3]
    for w in _QA:
        if after.startswith(w) and not (w == "多" and after.startswith("多个")):
            found.add(_QUAL_AFTER[w])
            words.append(w)
            break
    prefix = text[clause_lo : f.start]
    for w, cls in _QUAL_CLAUSE.items():
        if w in prefix:
            found.add(cls)
            words.append(w)
    return found, "、".join(words)


def _direction(text: str, f: Figure, clause_lo: int) -> str:
    assert f.start is not None
    prefix = text[clause_lo : f.start]
    last = None
    for m in _DIR_RE.finditer(prefix):
        last = m
    if last is None or len(prefix) - last.end() > _DIR_REACH:
        return ""
    between = prefix[last.end() :]
    if re.search(r"[\u4e00-\u9fff]{3,}", re.sub(r"[0-9.%％万亿千百个百分点、了约近超过]", "", between)):
        return ""  # the verb governs something else: 增长较快的产业投资100亿元
    return "up" if last.group() in _UP else "down"


def facts_of(text: str, figures: Sequence[Figure], *, notes: bool = False) -> list[Fact]:
    """Each figure of ``text`` with its indicator, qualifiers, direction, base and period.

    ``notes``: ``text`` is a writer's bullets, one note a line; a line with no words of its own for what
    it counts (``同比增长74.5%``) continues the line before (``工业固定资产投资完成93.1亿元``).
    """
    stops = _SENTENCE_STOP.replace("\n", "") if notes else _SENTENCE_STOP
    out: list[Fact] = []
    for i, f in enumerate(figures):
        if f.start is None or f.end is None:
            continue
        clause_lo = _clause_start(text, f.start)
        sentence_lo = _clause_start(text, f.start, stops)
        seg_lo = clause_lo
        prev = figures[i - 1] if i > 0 else None
        if prev is not None and prev.end is not None and prev.end > seg_lo and prev.end <= f.start:
            seg_lo = prev.end
        seg = text[seg_lo : f.start]
        if "、" in seg and len(seg.rsplit("、", 1)[1]) >= 2:
            seg = seg.rsplit("、", 1)[1]
        indicator = indicator_words(seg)
        inherited = False
        if (not informative(indicator) and out and out[-1].figure.start is not None
                and out[-1].figure.start >= sentence_lo):
            crosses_line = "\n" in text[out[-1].figure.start : f.start]
            # a note continues the line before only when it says how that figure changed (同比增长74.5%)
            if (not crosses_line or _DIR_RE.search(seg) or _BASE_RE.search(seg) or "分别" in seg
                    or "占" in seg):
                indicator, inherited = out[-1].indicator, True
        quals, qwords = _qualifiers(text, f, clause_lo)
        direction = _direction(text, f, clause_lo)
        prefix = text[clause_lo : f.start]
        bases = _BASE_RE.findall(prefix)
        base = ""
        if bases:
            b = bases[-1]
            named_year = re.search(r"(?:19|20)[0-9]{2}年", b)
            base = "上期" if ("环比" in b or "上期" in b or "上月" in b or "上季度" in b) else (
                named_year.group() if named_year else "上年"
            )
        period_word = ""
        for pm in _PERIOD_RE.finditer(_BASE_RE.sub(lambda m: "＃" * len(m.group()), prefix)):
            period_word = pm.group()
        out.append(
            Fact(f, indicator, frozenset(quals), qwords, direction, base, _PERIODS.get(period_word, ""),
                 period_word, inherited, text.count("\n", 0, f.start))
        )
    return out

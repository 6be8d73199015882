"""The figure guard: deterministic, unit-aware checking of the numbers in a draft.

A *figure* is a number with its unit or measure word (``1.2万个``, ``8.5%``, ``3个百分点``,
``三千户``).  Figures are normalised so that equal values match whatever way they were written::

    1.2万个 == 12000个        1,234 == 1，234 == １２３４        3.2亿元 == 32000万元 == 320000000元

``%`` and ``个百分点`` are different units; ``个`` and ``户`` are different units; a bare number
(no unit) matches any unit with the same value.

What is never a figure:

* dates and years: ``2023年``, ``2023年9月``, ``9月9日``, ``1-9月``, ``2023-09-09``, ``上半年``, and
  a bare four-digit 1900–2099 integer without a unit (``“绿盾2018”``, ``2015、2016年度``);
* ordinals and markers: ``第一``, ``第8.6代``, ``一是``, ``（一）``, ``（1）``, ``1.``/``1、`` at a
  line start, ``附件2``, ``1号文件``, document numbers ``〔2021〕20号``;
* codes glued to Latin letters: ``5G``, ``4S店``, ``PM2.5``, ``AR-E3000``, ``GB 50011``;
* set phrases (``二十大``, ``十四五``, ``两个确立``, ``四个意识``, ``三次产业`` …) and Chinese
  numerals that are not followed by a measure word, that are a lone ``一`` or that open a
  quotation (``“六个翻番”``);
* ``*`` masks (``*.**万个``) from the redacted past reports and ``【待补充】`` placeholders.

:func:`check_figures` compares a draft with the writer's figures (bullets and/or a figures table
rendered as text): ``missing`` lists provided figures absent from the draft, ``unverified`` lists
draft figures nobody provided.  Growth rates next to an indicator whose this-period and
last-period values are known (``pairs``, or ``本期…，上年…`` / ``由A提高到B`` in the bullets) are
recomputed; a correct rate is reported under ``derived`` instead of ``unverified``, a wrong one
is reported under ``derived`` with ``ok=False`` and the arithmetic spelled out in Chinese.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation
from collections.abc import Sequence
from typing import Literal

from drafting.figures import UNITS as _CHUNK_UNITS

__all__ = [
    "UNIT_ALIASES",
    "DerivedCheck",
    "Figure",
    "Finding",
    "Source",
    "GuardReport",
    "check_figures",
    "compare_suggestion",
    "extract_figures",
    "same_value",
]

# ------------------------------------------------------------------------------------------
# units


_MAGNITUDES: dict[str, int] = {"万亿": 10**12, "亿": 10**8, "万": 10**4, "千": 10**3, "百": 100}
_CHAR_MAGNITUDE: dict[str, int] = {"亿": 10**8, "万": 10**4, "千": 10**3, "百": 100}

# Units that start with a magnitude character are spelled as magnitude + unit (万元 = 万 + 元),
# except the real units that begin with 千 (千米, 千瓦 …), which are tried before magnitudes.
_EXTRA_UNITS = {
    "美元",
    "欧元",
    "斤",
    "度",
    "眼",
    "蒸吨",
    "场次",
    "千伏",
    "千伏安",
    "兆瓦时",
    "吨标准煤",
    "周",
    "周年",
    "周岁",
    "岁",
    "分",
}
_ARABIC_ONLY_UNITS = {"年", "分"}  # "4年" is a duration, "95分" a score; "五年来", "十分" are not
_LATIN_UNITS: dict[str, str] = {
    "km²": "平方公里",
    "km2": "平方公里",
    "m²": "平方米",
    "m2": "平方米",
    "㎡": "平方米",
    "m³": "立方米",
    "m3": "立方米",
    "km": "公里",
    "kg": "公斤",
    "kWh": "千瓦时",
    "kW": "千瓦",
    "MWh": "兆瓦时",
    "MW": "兆瓦",
    "GWh": "吉瓦时",
    "GW": "吉瓦",
    "kV": "千伏",
    "m": "米",
    "t": "吨",
}
UNIT_ALIASES: dict[str, str] = {
    "％": "%",
    "百分点": "个百分点",
    "平米": "平方米",
    "平方千米": "平方公里",
    "千米": "公里",
    "千克": "公斤",
    **_LATIN_UNITS,
}
_BASE_UNITS = {u for u in _CHUNK_UNITS if u[0] not in "万亿"} | _EXTRA_UNITS | {"年"}
# Units after a Chinese numeral: no 年/分 (五年来, 十分重要), no 期 (二期工程), no 口 (三口之家).
_CN_UNITS = _BASE_UNITS - _ARABIC_ONLY_UNITS - {"期", "口", "度", "周", "周年", "周岁", "岁"}


def _alternation(units: set[str] | list[str]) -> str:
    return "|".join(re.escape(u) for u in sorted(units, key=len, reverse=True))


_AR_UNIT = _alternation(sorted(_BASE_UNITS) + list(_LATIN_UNITS))
_CN_UNIT = _alternation(_CN_UNITS)
_MAG = r"[千百]?(?:万亿|亿|万)|千|百"  # 9千亿元, 3百万 too

# Full-width digits and signs map one-to-one onto ASCII, so offsets never move.
_FULLWIDTH = str.maketrans("０１２３４５６７８９．％＊", "0123456789.%*")

_ARABIC_RE = re.compile(
    r"(?<![0-9.])"
    r"(?P<num>[0-9]{1,3}(?:[,，][0-9]{3})+(?:\.[0-9]+)?(?![0-9])|[0-9]+(?:\.[0-9]+)?)"
    r"(?P<q1>余|多)?"
    r"(?: ?(?:(?P<unit1>" + _AR_UNIT + r")"
    r"|(?P<mag>" + _MAG + r")(?P<q2>余|多)?(?P<unit2>" + _AR_UNIT + r")?))?"
)
_CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CN_SMALL = {"十": 10, "百": 100, "千": 1000}
_CN_CHARS = "".join(_CN_DIGITS) + "十百千万亿"
_CN_RE = re.compile(
    r"(?<![第" + _CN_CHARS + r"])(?P<num>[" + _CN_CHARS + r"]+)(?P<q>余|多)?(?P<unit>" + _CN_UNIT + r")"
)
_MASK_RE = re.compile(r"[*]+(?:\.[*]+)?")

# ------------------------------------------------------------------------------------------
# what is never a figure

_SET_PHRASES = (
    "二十大", "十九大", "十八大", "十七大", "二十届", "十九届", "十五五", "十四五", "十三五", "十二五",
    "十一五", "三农", "两个确立", "两个维护", "两个确保", "两个毫不动摇", "两个结合", "两个务必",
    "三个务必", "三个代表", "四个意识", "四个自信", "四个全面", "五位一体", "一带一路", "一网通办",
    "一网统管", "一件事", "三连冠", "一把手", "一支部一品牌", "三感", "双碳", "一体化", "一站式",
    "一次性", "一批", "进一步", "统一", "唯一", "一定", "一些", "一系列", "一起", "三次产业",
    "二次供水", "二次元", "八项规定", "三条红线", "三条控制线", "七台河", "五家渠", "三个一批",
    "六个翻番", "一户一档", "一张图", "一张网", "一盘棋", "一条龙", "一揽子", "三会一课", "两学一做",
    "三严三实", "一岗双责", "一票否决", "三供一业", "千万工程", "两位数", "三位数", "个位数",
    "四级三类", "五级三类", "两条线",
)  # fmt: skip
_SET_PHRASE_RE = re.compile(
    _alternation(list(_SET_PHRASES)) + r"|12345(?=热线|政务|便民|市民|平台)|(?:附件|附表)\s*[0-9]+"
)
_N = "[零〇一二两三四五六七八九十百0-9]+"
# 一届人大五次会议, 十一届十次、十一次全会, 第一、二、三位
_ORDINAL_RE = re.compile(
    _N + "届" + _N + "(?:次|中)"
    + "|" + _N + "次(?=(?:全体)?会议|全会|党代会|代表大会|常委会)"
    + "|第" + _N + "(?:[、和及至到-]" + _N + ")+"
    + "|(?:十五|15)分钟(?=[^，。；]{0,4}圈)"
)  # fmt: skip
_DOC_NO_RE = re.compile(r"[〔\[［【(（]\s*(?:19|20)[0-9]{2}\s*[〕\]］】)）]\s*第?\s*[0-9]*\s*号?")
_DATE_RE = re.compile(
    r"(?:19|20)[0-9]{2}\s*(?:[-/.]\s*(?:0?[1-9]|1[0-2])\s*[-/.]\s*(?:[0-2]?[0-9]|3[01])"
    r"|[-/]\s*(?:0?[1-9]|1[0-2]))(?![0-9])"
    r"|(?<![0-9.])(?:[01]?[0-9]|2[0-4]):[0-5][0-9](?![0-9.])"
)
_MARKER_RE = re.compile(
    r"(?m)^[ \t\u3000]*(?:[（(][0-9]{1,2}[)）]|[0-9]{1,2}[.、)）])(?![0-9])|[（(][0-9]{1,2}[)）]"
    r"|[［\[][0-9]{1,3}[］\]]"  # footnote markers ［12］
    r"|(?:国道|省道|县道)\s*[0-9]+|[0-9]+\s*(?:国道|省道|县道)|[0-9]+(?:\.[0-9]+)?版"  # 国道318, 2.0版
)
# a date/label right after a bare number: 9月, 25日, 20号, 10时, 1-9月
_DATE_TAIL_RE = re.compile(r"\s*(?:[-—–~～至到]\s*[0-9]{1,2}\s*)?(?:月|日|号|时(?!间))")
_QUOTES = {"“": "”", "「": "」", "『": "』", "‘": "’", "《": "》", '"': '"'}
_QUOTE_REACH = 8

_CJK_LO, _CJK_HI = "\u4e00", "\u9fff"


def _is_cjk(ch: str) -> bool:
    return _CJK_LO <= ch <= _CJK_HI


def _is_latin(ch: str) -> bool:
    return ("a" <= ch <= "z") or ("A" <= ch <= "Z")


# ------------------------------------------------------------------------------------------
# data


@dataclass
class Figure:
    """One figure as written in a text, with its normalised value and unit.

    ``start``/``end`` are offsets into the text it was extracted from (``text[start:end] == raw``);
    they are ``None`` for a *missing* figure, which by definition has no place in the draft.
    """

    raw: str
    value: float
    unit: str
    thing: str
    start: int | None
    end: int | None
    source: str = ""  # for a writer's figure: where it was given (要点3, 数字表第1行, 你的修改, 你的确认)

    def to_json(self) -> dict:
        out = {
            "text": self.raw,
            "value": self.value,
            "unit": self.unit,
            "thing": self.thing,
            "start": self.start,
            "end": self.end,
        }
        if self.source:
            out["source"] = self.source
        return out


@dataclass(frozen=True)
class Source:
    """One place the writer gave facts: a bullet, a figure-table row, the heading, an edit, a confirmation.

    ``label`` is what the checks panel shows as the fact's origin: 要点3, 数字表第1行, 标题, 你的修改, 你的确认.
    """

    label: str
    text: str


def join_sources(provided: str | Sequence[str] | Sequence[Source]) -> tuple[str, list[tuple[int, int, str]]]:
    """The provided text joined with newlines, and (start, end, label) of each source in it."""
    if isinstance(provided, str):
        return provided, [(0, len(provided), "")]
    parts: list[str] = []
    spans: list[tuple[int, int, str]] = []
    pos = 0
    for item in provided or []:
        label, text = (item.label, item.text) if isinstance(item, Source) else ("", str(item))
        spans.append((pos, pos + len(text), label))
        parts.append(text)
        pos += len(text) + 1
    return "\n".join(parts), spans


def _label_at(spans: list[tuple[int, int, str]], pos: int) -> str:
    for start, end, label in spans:
        if start <= pos <= end:
            return label
    return ""


@dataclass
class DerivedCheck:
    """A growth rate (or percentage-point change) in the draft, recomputed from known values.

    ``stated`` and ``computed`` are signed: ``下降5%`` is ``-5.0``.
    """

    statement: str
    stated: float
    computed: float
    ok: bool
    start: int
    end: int
    explanation: str

    def to_json(self) -> dict:
        return {
            "statement": self.statement,
            "stated": self.stated,
            "computed": self.computed,
            "ok": self.ok,
            "start": self.start,
            "end": self.end,
            "explanation": self.explanation,
        }


@dataclass(frozen=True)
class Finding:
    """One problem the guard found, in the form every consumer (UI, CLI, bench) reads.

    ``kind`` is ``missing`` (a writer's fact absent from the draft), ``unverified`` (a fact in the
    draft nobody gave, or one that changed) or ``derived`` (a rate that does not compute).
    ``reason`` says what differs (``value``, ``unit``, ``indicator``, ``qualifier``, ``direction``,
    ``period``, ``date``, ``rank``, ``citation``, ``not_given``, ``reused``, ``rate``).  ``severity`` is
    ``必查`` (the draft needs review) or ``提示`` (shown, to verify, does not block).
    """

    kind: str
    reason: str
    text: str
    message: str
    start: int | None = None
    end: int | None = None
    severity: str = "必查"

    def key(self) -> tuple[str, str, str]:
        """What a finding is about, independent of where it sits: for comparing two reports."""
        return (self.kind, self.reason, self.text)


@dataclass
class GuardReport:
    provided: list[Figure]
    missing: list[Figure]
    unverified: list[Figure]
    derived: list[DerivedCheck]

    def findings(self) -> list[Finding]:
        out = [Finding("missing", "missing", f.raw, f"漏写：{f.raw}") for f in self.missing]
        out += [Finding("unverified", "not_given", f.raw, f"无出处：{f.raw}", f.start, f.end) for f in self.unverified]
        out += [Finding("derived", "rate", d.statement, d.explanation, d.start, d.end) for d in self.derived if not d.ok]
        return out

    @property
    def status(self) -> Literal["ok", "needs_review"]:
        if self.missing or self.unverified or any(not d.ok for d in self.derived):
            return "needs_review"
        return "ok"

    def to_json(self) -> dict:
        return {
            "provided": [f.to_json() for f in self.provided],
            "missing": [f.to_json() for f in self.missing],
            "unverified": [f.to_json() for f in self.unverified],
            "derived": [d.to_json() for d in self.derived],
        }


# ------------------------------------------------------------------------------------------
# extraction


def _cn_small(s: str) -> int | None:
    """Value of a numeral below 10000 (``三千五百``, ``十二``, ``一百零五``); None if malformed."""
    if not s:
        return 0
    total = 0
    digit: int | None = None
    last_mult: int | None = None
    after_zero = False
    for i, ch in enumerate(s):
        if ch in _CN_DIGITS:
            d = _CN_DIGITS[ch]
            if d == 0:
                if digit is not None or i == len(s) - 1:
                    return None
                after_zero = True
                continue
            if digit is not None:
                return None  # 九九, 二〇二三
            digit = d
        else:
            mult = _CN_SMALL[ch]
            if last_mult is not None and mult >= last_mult:
                return None  # 十百, 百百
            if digit is None:
                if ch != "十" or i != 0:
                    return None
                digit = 1
            total += digit * mult
            digit = None
            last_mult = mult
            after_zero = False
    if digit is not None:
        # a trailing digit must be units: 二十三, 一百零五 — not 一百五 (colloquial 150)
        if last_mult not in (None, 10) and not after_zero:
            return None
        total += digit
    return total


def _cn_value(s: str) -> int | None:
    for mark, mult in (("亿", 10**8), ("万", 10**4)):
        if mark in s:
            head, _, tail = s.partition(mark)
            if not head:
                return None
            high = _cn_value(head)
            if high is None or high == 0:
                return None
            if tail and tail[0] not in "零〇" and len(tail) == 1:
                return None  # 三万五 (colloquial)
            low = _cn_value(tail) if tail else 0
            if low is None:
                return None
            return high * mult + low
    return _cn_small(s)


def _norm_unit(unit: str) -> str:
    return UNIT_ALIASES.get(unit, unit)


_THING_TRAIL = (
    "比上年同期增长", "同比增长", "同比下降", "比上年增长", "较上年增长", "增长", "提高", "下降",
    "达到", "完成", "突破", "超过", "实现", "累计", "合计", "共计", "总计", "分别", "新增", "增加",
    "减少", "约为", "不少于", "达", "超", "约", "近", "逾", "共", "计", "为", "是", "有", "至", "到",
    "了", "的", "由", "从", "比", "较", "占", "本期", "今年", "本年", "当年", "上年", "去年",
)  # fmt: skip
_THING_LEAD = ("其中", "全年", "全市", "累计", "新增", "新建", "建成", "完成", "共", "已", "并", "和", "及")


def _thing(text: str, start: int) -> str:
    """The few CJK characters before a number: what it counts, best effort."""
    i = start
    while i > 0 and start - i < 16 and _is_cjk(text[i - 1]):
        i -= 1
    run = text[i:start]
    thing = run
    changed = True
    while changed and thing:
        changed = False
        for w in _THING_TRAIL:
            if thing.endswith(w) and len(thing) > len(w):
                thing = thing[: -len(w)]
                changed = True
                break
    changed = True
    while changed and thing:
        changed = False
        for w in _THING_LEAD:
            if thing.startswith(w) and len(thing) > len(w) + 1:
                thing = thing[len(w) :]
                changed = True
                break
    if len(thing) < 2:
        thing = run
    return thing[-8:]


def _in_short_quote(text: str, start: int, end: int) -> bool:
    """Inside a short quotation such as “收支两条线”: a slogan, not a count."""
    for i in range(start - 1, max(-1, start - 1 - _QUOTE_REACH), -1):
        ch = text[i]
        if ch in _QUOTES:
            close = _QUOTES[ch]
            j = text.find(close, end, end + _QUOTE_REACH)
            return j >= 0 and not any(c in text[i + 1 : start] for c in "，。；")
        if ch in "”」』’》，。；\n":
            return False
    return False


def _spans(pattern: re.Pattern[str], text: str) -> list[tuple[int, int]]:
    return [m.span() for m in pattern.finditer(text)]


def _overlaps(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    return any(s < end and start < e for s, e in spans)


def _prev_nonspace(text: str, i: int) -> tuple[str, int]:
    j = i - 1
    while j >= 0 and text[j] in " \u3000":
        j -= 1
    return (text[j], j) if j >= 0 else ("", -1)


def _is_code_context(text: str, start: int, end: int) -> bool:
    """Numbers glued to Latin letters are codes (5G, 4S, PM2.5, AR-E3000, GB 50011-2010)."""
    if end < len(text) and _is_latin(text[end]):
        return True
    if start > 0:
        prev = text[start - 1]
        if _is_latin(prev):
            return True
        if prev in "-_/ " and start > 1 and _is_latin(text[start - 2]):
            return True
    return False


def extract_figures(text: str) -> list[Figure]:
    """All figures in ``text`` in order of appearance; ``text[f.start:f.end] == f.raw``."""
    if not text:
        return []
    norm = text.translate(_FULLWIDTH)
    blocked = (
        _spans(_SET_PHRASE_RE, norm)
        + _spans(_ORDINAL_RE, norm)
        + _spans(_DOC_NO_RE, norm)
        + _spans(_DATE_RE, norm)
        + _spans(_MARKER_RE, norm)
    )
    found: list[Figure] = []

    for m in _ARABIC_RE.finditer(norm):
        start, end = m.span()
        num = m.group("num")
        unit_raw = m.group("unit1") or m.group("unit2") or ""
        mag = m.group("mag")
        if end > start and norm[end - 1] == " ":  # never end a figure on the optional space
            end -= 1
        # masked slots (1*, *2) and codes
        if (start > 0 and norm[start - 1] == "*") or (end < len(norm) and norm[end] == "*"):
            continue
        if _is_code_context(norm, start, end):
            continue
        prev, _ = _prev_nonspace(norm, start)
        if prev == "第":
            continue
        if _overlaps(blocked, start, start + len(num)):
            continue
        plain = num.replace(",", "").replace("，", "")
        if not unit_raw and not mag and _DATE_TAIL_RE.match(norm, end):
            continue  # 9月, 25日, 20号, 1-9月, 10时
        formatted = "." in plain or "," in num or "，" in num
        if (
            not formatted
            and len(plain) == 4
            and 1900 <= int(plain) <= 2099
            and not mag
            and unit_raw in ("", "年")
        ):
            continue  # a year
        try:
            value = Decimal(plain)
        except InvalidOperation:  # pragma: no cover - the regex only lets digits through
            continue
        for ch in mag or "":
            value *= _CHAR_MAGNITUDE[ch]
        found.append(
            Figure(
                raw=text[start:end],
                value=float(value),
                unit=_norm_unit(unit_raw),
                thing=_thing(text, start),
                start=start,
                end=end,
            )
        )

    taken = [m.span() for m in _MASK_RE.finditer(norm)] + [(f.start or 0, f.end or 0) for f in found]
    for m in _CN_RE.finditer(norm):
        start, end = m.span()
        numeral = m.group("num")
        if numeral[0] not in "一二两三四五六七八九十" or numeral in ("一", "二"):
            continue  # 一批, 一次性; 二类水质, 二轮延包, 二次供水 (a count says 两)
        if len(numeral) == 1 and m.group("unit") == "元":
            continue  # 三元 is a name or 三元结构, money is written in digits
        if _in_short_quote(norm, start, end):
            continue  # “六个翻番”, “收支两条线”, “四级三类”: slogans
        if _overlaps(blocked, start, end) or _overlaps(taken, start, end):
            continue
        value = _cn_value(numeral)
        if value is None:
            continue
        found.append(
            Figure(
                raw=text[start:end],
                value=float(value),
                unit=_norm_unit(m.group("unit")),
                thing=_thing(text, start),
                start=start,
                end=end,
            )
        )

    found.sort(key=lambda f: f.start or 0)
    return found


# ------------------------------------------------------------------------------------------
# comparison


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def same_value(a: Figure, b: Figure) -> bool:
    """Equal after normalisation and unit-compatible (a bare number matches any unit)."""
    if a.unit and b.unit and a.unit != b.unit:
        return False
    return _close(a.value, b.value)


def _key(f: Figure) -> tuple[float, str]:
    return (float(f"{f.value:.12g}"), f.unit)


def compare_suggestion(original: str, suggestion: str) -> list[str]:
    """Chinese notes on every figure a rewrite added, removed or changed; [] when none."""
    before = extract_figures(original)
    after = extract_figures(suggestion)
    surplus_before = Counter(_key(f) for f in before) - Counter(_key(f) for f in after)
    surplus_after = Counter(_key(f) for f in after) - Counter(_key(f) for f in before)

    def pick(figs: list[Figure], surplus: Counter) -> list[Figure]:
        left = Counter(surplus)
        out = []
        for f in figs:
            if left[_key(f)] > 0:
                left[_key(f)] -= 1
                out.append(f)
        return out

    removed = pick(before, surplus_before)
    added = pick(after, surplus_after)
    notes: list[str] = []
    # a removed and an added figure of the same unit (and, first, the same thing) are one change
    for same_thing in (True, False):
        for r in list(removed):
            for a in added:
                if a.unit == r.unit and (not same_thing or (r.thing and a.thing == r.thing)):
                    notes.append(f"修改数字：{r.raw}→{a.raw}")
                    removed.remove(r)
                    added.remove(a)
                    break
    notes += [f"删除数字：{r.raw}" for r in removed]
    notes += [f"新增数字：{a.raw}" for a in added]
    return notes


# ------------------------------------------------------------------------------------------
# derived figures


@dataclass
class _Pair:
    indicator: str
    this: float
    last: float
    unit: str

    def figure(self, value: float) -> Figure:
        return Figure(raw="", value=value, unit=self.unit, thing=self.indicator, start=None, end=None)


_RATE_RE = re.compile(
    r"(?:(?:同比|环比|比上年同期|较上年同期|比去年同期|较去年同期|比上年|较上年|比去年|较去年|比上期|较上期)"
    r"(?:分别)?)?"
    r"(?P<verb>增长|提高|上升|增加|下降|减少|降低|回落|下滑)了?\s*"
    r"(?P<num>[0-9]+(?:\.[0-9]+)?)\s*(?P<unit>%|个百分点|百分点)"
)
_DOWN = {"下降", "减少", "降低", "回落", "下滑"}
_CLAUSE_END = "。！？!?；;\n"
_MAX_GAP = 24
_LAST_BETWEEN_RE = re.compile(
    r"^\s*[，,、;；（(]?\s*(?:比|较)?(?:上年同期|去年同期|上年|去年|上期|[0-9]{4}年(?:同期)?)"
    r"(?:同期)?(?:为|是|有|达|达到|完成|的|共)?\s*$"
)
_THIS_BETWEEN_RE = re.compile(
    r"^\s*[，,、;；]?\s*(?:本期|今年|本年|当期|当年|全年)(?:为|是|有|达到|完成|新增)?\s*$"
)
_FROM_TO_BETWEEN_RE = re.compile(
    r"^\s*(?:提高|增加|增长|上升|扩大|下降|减少|降低|调整|发展|提升|缩小|压缩)?\s*(?:到|至)\s*$"
)
_FROM_BEFORE_RE = re.compile(r"(由|从)[^，,。；;\n0-9]{0,8}$")
_LAST_BEFORE_RE = re.compile(r"(上年|去年|上期)(?:同期)?[^，,。；;\n0-9]{0,4}$")


def _unit_merge(a: Figure, b: Figure) -> str | None:
    if a.unit and b.unit and a.unit != b.unit:
        return None
    return a.unit or b.unit


def _pairs_from_text(text: str, figs: list[Figure]) -> list[_Pair]:
    """``本期A，上年B`` / ``A，上年同期B`` / ``由B提高到A`` / ``上年B，今年A`` in the bullets."""
    pairs: list[_Pair] = []
    for f1, f2 in itertools.pairwise(figs):
        assert f1.start is not None and f1.end is not None and f2.start is not None
        between = text[f1.end : f2.start]
        unit = _unit_merge(f1, f2)
        if unit is None or any(ch in between for ch in "。\n"):
            continue
        before = text[max(0, f1.start - 12) : f1.start]
        if _LAST_BETWEEN_RE.match(between):
            pairs.append(_Pair(f1.thing, f1.value, f2.value, unit))
        elif (_FROM_TO_BETWEEN_RE.match(between) and (m := _FROM_BEFORE_RE.search(before))) or (
            _THIS_BETWEEN_RE.match(between) and (m := _LAST_BEFORE_RE.search(before))
        ):
            # 由A提高到B / 上年A，今年B: the second figure is this period
            pairs.append(_Pair(_thing(text, f1.start - len(before) + m.start()), f2.value, f1.value, unit))
    return pairs


def _fmt(v: float) -> str:
    if math.isfinite(v) and v == int(v) and abs(v) < 1e15:
        return str(int(v))
    return f"{v:.10g}"


def _round_half_up(v: float, places: int) -> Decimal:
    # enough digits for any finite float (up to 1.8e308) with ``places`` decimals: the default
    # context (28 digits) raises InvalidOperation for a rate of 1e28% or more
    wide = Context(prec=330 + places)
    return Decimal(repr(v)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP, context=wide)


def _find_pair(draft: str, figs: list[Figure], pairs: list[_Pair], pos: int, pp: bool) -> _Pair | None:
    """The pair whose indicator or this-period value sits right before the rate at ``pos``.

    The anchor must be in the same clause (no 。；), at most ``_MAX_GAP`` characters before the
    rate, with no other figure in between (``投资3亿元，同比增长8%`` is about the 3亿元).
    """
    lo = max(draft.rfind(ch, 0, pos) for ch in _CLAUSE_END) + 1
    inside = [f for f in figs if f.start is not None and f.end is not None and lo <= f.start and f.end <= pos]
    best: tuple[int, _Pair] | None = None
    for pair in pairs:
        if pp and pair.unit not in ("%", "‰"):
            continue
        at = -1
        if len(pair.indicator) >= 2:
            i = draft.rfind(pair.indicator, lo, pos)
            if i >= 0:
                at = i + len(pair.indicator)
        this_fig, last_fig = pair.figure(pair.this), pair.figure(pair.last)
        for f in inside:
            if same_value(f, this_fig):
                at = max(at, f.end or 0)
        if at < 0 or pos - at > _MAX_GAP:
            continue
        if any(
            (f.start or 0) >= at and not same_value(f, this_fig) and not same_value(f, last_fig)
            for f in inside
        ):
            continue
        if best is None or at > best[0]:
            best = (at, pair)
    return best[1] if best else None


def _derived_checks(
    draft: str, figs: list[Figure], pairs: list[_Pair]
) -> tuple[list[DerivedCheck], set[int], list[_Pair]]:
    """Rate statements recomputed; the draft offsets of correct rates; the pairs that were used."""
    checks: list[DerivedCheck] = []
    ok_starts: set[int] = set()
    used: list[_Pair] = []
    if not pairs:
        return checks, ok_starts, used
    norm = draft.translate(_FULLWIDTH)
    for m in _RATE_RE.finditer(norm):
        if "均" in norm[max(0, m.start() - 3) : m.start("verb")]:
            continue  # 年均增长: a compound rate, not (this-last)/last
        pp = m.group("unit") != "%"
        pair = _find_pair(draft, figs, pairs, m.start(), pp)
        if pair is None:
            continue
        num = m.group("num")
        places = len(num.partition(".")[2])
        sign = -1 if m.group("verb") in _DOWN else 1
        stated = sign * float(num)
        said = draft[m.start("verb") : m.end()]
        if pp:
            computed = pair.this - pair.last
            arithmetic = f"{_fmt(pair.this)}%-{_fmt(pair.last)}%={computed:.{places + 1}f}个百分点"
            suffix = "个百分点"
        else:
            if pair.last == 0:
                continue
            computed = (pair.this - pair.last) / pair.last * 100
            arithmetic = (
                f"（{_fmt(pair.this)}-{_fmt(pair.last)}）/{_fmt(pair.last)}={computed:.{places + 1}f}%"
            )
            suffix = "%"
        if not math.isfinite(computed):
            continue  # inf/nan values (a figure such as 1e308 or "nan"): nothing to check against
        ok = abs(computed - stated) <= 0.5 * 10**-places + 1e-9
        rounded = _round_half_up(abs(computed), places)
        right = f"{'下降' if computed < 0 else '增长'}{rounded}{suffix}"
        if pp:
            right = f"{'下降' if computed < 0 else '提高'}{rounded}{suffix}"
        if ok:
            explanation = f"{pair.indicator}：{arithmetic}，与“{said}”一致"
        else:
            explanation = f"{pair.indicator}：{arithmetic}，应为“{right}”，文中写作“{said}”"
        used.append(pair)
        checks.append(
            DerivedCheck(
                statement=draft[m.start() : m.end()],
                stated=stated,
                computed=round(computed, 10),
                ok=ok,
                start=m.start(),
                end=m.end(),
                explanation=explanation,
            )
        )
        if ok:
            ok_starts.add(m.start("num"))
    return checks, ok_starts, used


def _split_unit(unit: str) -> tuple[int, str]:
    """``万个`` -> (10000, "个"); ``千米`` -> (1, "公里"); ``%`` -> (1, "%")."""
    unit = unit.strip().translate(_FULLWIDTH)
    if unit in _BASE_UNITS or unit in UNIT_ALIASES:
        return 1, _norm_unit(unit)
    for mag, mult in _MAGNITUDES.items():
        if unit.startswith(mag):
            return mult, _norm_unit(unit[len(mag) :])
    return 1, _norm_unit(unit)


# ------------------------------------------------------------------------------------------
# the guard


def check_figures(
    draft: str,
    provided: str | Sequence[str] | Sequence[Source],
    *,
    pairs: list[tuple[str, float, float, str]] | None = None,
) -> GuardReport:
    """Compare the figures of ``draft`` with the writer's ``provided`` figures.

    ``provided`` is the writer's bullets (a string, or a list of lines joined with ``\\n``) and/or a
    figures table rendered as text.  ``report.provided`` holds its unique figures, with offsets into
    that joined text.  ``missing`` figures have ``start``/``end`` None (they are not in the draft);
    ``unverified`` figures carry their offsets in the draft.  ``pairs`` rows ``(indicator,
    this_period, last_period, unit)`` (unit may carry a magnitude: ``万个``) drive the derived
    checks; their values are allowed in the draft but not required.  A provided last-period value
    that a rate statement in the draft was checked against is not reported missing.
    """
    provided_text, spans = join_sources(provided)
    given = extract_figures(provided_text)
    for f in given:
        f.source = _label_at(spans, f.start or 0)
    unique: list[Figure] = []
    seen: set[tuple[float, str]] = set()
    for f in given:
        if _key(f) not in seen:
            seen.add(_key(f))
            unique.append(f)

    all_pairs = _pairs_from_text(provided_text, given)
    for indicator, this, last, unit in pairs or []:
        mult, base = _split_unit(unit or "")
        all_pairs.append(_Pair(indicator, float(this) * mult, float(last) * mult, base))
    allowed = given + [p.figure(v) for p in all_pairs for v in (p.this, p.last)]

    figs = extract_figures(draft or "")
    derived, ok_starts, used = _derived_checks(draft or "", figs, all_pairs)
    # a last-period value consumed by a rate statement need not be repeated in the draft
    consumed = [p.figure(p.last) for p in used]

    missing = [
        Figure(f.raw, f.value, f.unit, f.thing, None, None, f.source)
        for f in unique
        if not any(same_value(f, d) for d in figs) and not any(same_value(f, c) for c in consumed)
    ]
    unverified = [f for f in figs if f.start not in ok_starts and not any(same_value(f, a) for a in allowed)]
    return GuardReport(provided=unique, missing=missing, unverified=unverified, derived=derived)

"""The one figure lexer: text → the quantities, dates, rankings, claims and citations in it.

Every module that needs a number from text comes here (the guard, offline, polish, evaluate,
structure, style, export): there is no second extractor.  Chinese numerals are read through
:mod:`drafting.numerals`, the one table.

A *figure* is a number with its unit or measure word (``1.2万个``, ``8.5%``, ``3个百分点``,
``三千户``, ``五成``, ``百分之三十``, ``三分之一``, ``一半``, ``3-5个``).  Figures are normalised so that
equal values match whatever way they were written::

    1.2万个 == 12000个        1,234 == 1，234 == １２３４        3.2亿元 == 32000万元
    五成 == 百分之五十 == 50%     一半 == 50%

``%`` and ``个百分点`` are different units; ``个`` and ``户`` are different units.

What is never a figure, but may be another kind of fact:

* dates and years (``2023年``, ``11月6日``, ``1-10月``) are :class:`DateMention` (see :func:`extract_dates`);
* rankings (``居全省第4``, ``首位``, ``前三``) are :class:`Mention` of kind ``rank``; superlative
  claims (``首次``, ``创历史新高``, ``全国领先``) of kind ``claim``; titles in 《》 and document numbers
  (``沪建综规〔2024〕61号``) of kind ``citation``;
* ordinals and markers: ``第一``, ``第8.6代``, ``一是``, ``（一）``, ``（1）``, ``1.``/``1、`` at a
  line start, ``附件2``, ``1号文件``;
* codes glued to Latin letters: ``5G``, ``4S店``, ``PM2.5``, ``AR-E3000``, ``GB 50011``;
* set phrases (``二十大``, ``十四五``, ``两个确立``, ``四个意识``, ``三次产业`` …) and Chinese
  numerals that are not followed by a measure word, that are a lone ``一`` or that open a
  quotation (``“六个翻番”``);
* ``*`` masks (``*.**万个``) from the redacted past reports and ``【待补充】`` placeholders.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from drafting.numerals import CN_NUMERAL_CHARS, cn_digits_to_int, cn_to_int

__all__ = [
    "NUMBER_STRINGS_RE",
    "UNITS",
    "UNIT_ALIASES",
    "DateMention",
    "Figure",
    "Mention",
    "canonical_number",
    "digit_runs",
    "extract_citations",
    "extract_claims",
    "extract_dates",
    "extract_figures",
    "extract_masks",
    "extract_ranks",
    "extract_sessions",
    "fold_digits",
    "norm_unit",
    "split_unit",
]

# ------------------------------------------------------------------------------------------
# units

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
    "英寸",
    "寸",
    "厘米",
    "毫米",
    "升",
    "毫升",
    "立方",
    "平方",
    "层",
    "班",
    "组",
    "片",
    "段",
    "篇",
    "本",
    "对",
    "镇",
    "村",
    "县",
    "区",
    "届",
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
_BASE_UNITS = {u for u in UNITS if u[0] not in "万亿"} | _EXTRA_UNITS | {"年"}
# Units after a Chinese numeral: no 年/分 (五年来, 十分重要), no 期 (二期工程), no 口 (三口之家).
_CN_UNITS = _BASE_UNITS - _ARABIC_ONLY_UNITS - {
    "期", "口", "度", "周", "周年", "周岁", "岁", "层", "班", "组", "片", "段", "篇", "本", "对", "镇", "村",
    "县", "区", "届", "立方", "平方", "寸",
} | {"大"}  # fmt: skip  (三大攻坚战, 六大科技专项: a count of named things)
# A Chinese numeral with 年 is a count of years (提前三年, 这五年, 五十年一遇), not a year or a plan
# (五年规划).
_CN_YEARS_RE = re.compile(
    r"(?<![第〇零一二两三四五六七八九十百千])"
    r"(?P<num>[两三四五六七八九]|[二三四五六七八九]?十[一二三四五六七八九]?)(?P<q>多)?(?P<unit>年|个月)"
    r"(?!级|代|前|后|度|底|末|初|计划|规划|行动|制|期|份)"
)
# 五成 / 超五成 / 百分之三十 / 三分之一 / 一半 / 翻一番: shares and multiples in words, as percentages
_CN_SHARE_RE = re.compile(
    r"(?P<pct>百分之(?P<pn>[零〇一二两三四五六七八九十百点]+))"
    r"|(?P<frac>(?P<den>[二两三四五六七八九十百千万]+)分之(?P<nom>[一二两三四五六七八九十]+))"
    r"|(?P<cheng>(?<![" + CN_NUMERAL_CHARS
    + r"])(?P<cn>[一二两三四五六七八九]|十)成(?![功为立果员本熟型效绩交都不]))"
    r"|(?P<half>(?<![一二两三四五六七八九十第])一半)"
    r"|(?P<fan>翻(?P<fn>[一两二三四五])番)"
)


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
_CN_CHARS = CN_NUMERAL_CHARS
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
    ``high`` is the upper end of a range (``3-5个``), else None.
    """

    raw: str
    value: float
    unit: str
    thing: str
    start: int | None
    end: int | None
    source: str = ""  # for a writer's figure: where it was given (要点3, 数字表第1行, 你的修改, 你的确认)
    high: float | None = None

    def to_json(self) -> dict:
        out = {
            "text": self.raw,
            "value": self.value,
            "unit": self.unit,
            "thing": self.thing,
            "start": self.start,
            "end": self.end,
        }
        if self.high is not None:
            out["high"] = self.high
        if self.source:
            out["source"] = self.source
        return out


@dataclass
class Mention:
    """A fact that is not a quantity: a ranking, a superlative claim, or a cited document.

    ``kind`` is ``rank`` / ``claim`` / ``citation``; ``key`` is what must match between the writer's
    text and the draft (``全省|4`` for 居全省第4位, ``首次``, ``《测试办法》``, ``〔2024〕61号``).
    """

    kind: str
    raw: str
    key: str
    start: int
    end: int
    source: str = ""

    def to_json(self) -> dict:
        out = {"kind": self.kind, "text": self.raw, "key": self.key, "start": self.start, "end": self.end}
        if self.source:
            out["source"] = self.source
        return out


@dataclass
class DateMention:
    """A year, month, day or month range as written (``2023年11月6日``, ``1-10月``, ``二〇二三年``).

    Unknown parts are None; ``month`` may be a range such as ``1-10``.
    """

    raw: str
    year: int | None
    month: str | None
    day: int | None
    start: int
    end: int
    source: str = ""
    parts: tuple = field(default=(), repr=False)

    def to_json(self) -> dict:
        out = {"kind": "date", "text": self.raw, "start": self.start, "end": self.end}
        if self.source:
            out["source"] = self.source
        return out

    def fits(self, other: DateMention) -> bool:
        """True when every part this mention states is stated the same way by ``other``."""
        return all(
            mine is None or theirs == mine
            for mine, theirs in ((self.year, other.year), (self.month, other.month), (self.day, other.day))
        )


# ------------------------------------------------------------------------------------------
# extraction


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


def extract_figures(text: str) -> list[Figure]:  # noqa: C901  the lexer: one branch per figure form
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
        # a count inside a slogan (“三个定位”, “四项保障机制”) is still a count the writer gave
        if _overlaps(blocked, start, end) or _overlaps(taken, start, end):
            continue
        count = cn_to_int(numeral)
        if count is None:
            continue
        found.append(
            Figure(
                raw=text[start:end],
                value=float(count),
                unit=_norm_unit(m.group("unit")),
                thing=_thing(text, start),
                start=start,
                end=end,
            )
        )

    taken += [(f.start or 0, f.end or 0) for f in found]
    found += _word_figures(text, norm, blocked, taken)
    found.sort(key=lambda f: f.start or 0)
    return _merge_ranges(text, found)




def _num_of(raw: str) -> float | None:
    m = re.search(r"[0-9]+(?:\.[0-9]+)?", raw.translate(_FULLWIDTH).replace(",", "").replace("，", ""))
    return float(m.group()) if m else None


_RANGE_JOIN_RE = re.compile(r"\s*(?:-|—|–|~|～|至|到)\s*$")


def _merge_ranges(text: str, found: list[Figure]) -> list[Figure]:
    """``3-5个``, ``3至5个``, ``1-2万元``: one figure with ``value`` the low end and ``high`` the high end."""
    out: list[Figure] = []
    for f in found:
        prev = out[-1] if out else None
        if (
            prev is not None
            and not prev.unit
            and prev.high is None
            and prev.end is not None
            and f.start is not None
            and f.start - prev.end <= 3
            and _RANGE_JOIN_RE.match(text[prev.end : f.start] + "")
            and f.unit
        ):
            low_plain, high_plain = _num_of(prev.raw), _num_of(f.raw)
            scale = f.value / high_plain if high_plain else 1.0
            if low_plain is not None and low_plain * scale < f.value:
                out[-1] = Figure(
                    raw=text[prev.start : f.end],
                    value=low_plain * scale,
                    unit=f.unit,
                    thing=prev.thing,
                    start=prev.start,
                    end=f.end,
                    high=f.value,
                )
                continue
        out.append(f)
    return out


def _cn_decimal(s: str) -> float | None:
    """``三十`` → 30, ``三点五`` → 3.5, ``百`` → 100 (百分之百)."""
    if s == "百":
        return 100.0
    head, _, tail = s.partition("点")
    whole = cn_to_int(head) if head else 0
    if whole is None:
        return None
    if not tail:
        return float(whole)
    digits = [cn_digits_to_int(ch) for ch in tail]
    if any(d is None for d in digits):
        return None
    return float(f"{whole}." + "".join(str(d) for d in digits))


def _word_figures(text: str, norm: str, blocked: list[tuple[int, int]],
                  taken: list[tuple[int, int]]) -> list[Figure]:
    """Shares, multiples and year counts written in words: 五成, 百分之三十, 三分之一, 一半,
    翻一番, 提前三年."""
    out: list[Figure] = []
    for m in _CN_SHARE_RE.finditer(norm):
        start, end = m.span()
        if _overlaps(blocked, start, end) or _overlaps(taken, start,
                                                       end) or _in_short_quote(norm, start, end):
            continue
        value: float | None
        unit = "%"
        if m.group("pct"):
            value = _cn_decimal(m.group("pn"))
        elif m.group("frac"):
            den, nom = cn_to_int(m.group("den")), cn_to_int(m.group("nom"))
            value = nom / den * 100 if den and nom is not None and nom < den else None
        elif m.group("cheng"):
            if norm.startswith("一成不变", start):
                continue
            n = cn_to_int(m.group("cn"))
            value = n * 10.0 if n is not None else None
        elif m.group("half"):
            value = 50.0
        else:
            n = cn_to_int(m.group("fn"))
            value, unit = (float(n), "番") if n is not None else (None, "")
        if value is None:
            continue
        out.append(Figure(raw=text[start:end], value=value, unit=unit, thing=_thing(text, start), start=start,
                          end=end))
    for m in _CN_YEARS_RE.finditer(norm):
        group, unit = "num", m.group("unit")
        start, end = m.start(group), m.end()
        if _overlaps(blocked, start, end) or _overlaps(taken, start, end):
            continue
        n = cn_to_int(m.group(group))
        if n is None:
            continue
        out.append(Figure(raw=text[start:end], value=float(n), unit=unit, thing=_thing(text, start),
                          start=start, end=end))
    return out


def norm_unit(unit: str) -> str:
    """The one spelling of a unit: ``％`` → ``%``, ``平米`` → ``平方米``, ``km`` → ``公里``."""
    return _norm_unit(unit)


def split_unit(unit: str) -> tuple[int, str]:
    """``万个`` -> (10000, "个"); ``千米`` -> (1, "公里"); ``%`` -> (1, "%")."""
    unit = unit.strip().translate(_FULLWIDTH)
    if unit in _BASE_UNITS or unit in UNIT_ALIASES:
        return 1, _norm_unit(unit)
    for mag, mult in _MAGNITUDES.items():
        if unit.startswith(mag):
            return mult, _norm_unit(unit[len(mag) :])
    return 1, _norm_unit(unit)


# ------------------------------------------------------------------------------------------
# dates

_RANGE = r"\s*(?:-|—|–|~|～|至|到)\s*"
_DATE_ARABIC_RE = re.compile(
    r"(?<![0-9.])(?:(?P<y>(?:19|20)[0-9]{2})\s*年(?!代)(?:度)?)?"
    r"(?:(?<![0-9.])(?P<m>(?:1[0-2]|0?[1-9])(?:" + _RANGE + r"(?:1[0-2]|0?[1-9]))?)\s*月"
    r"(?:份)?(?:(?P<d>[12][0-9]|3[01]|0?[1-9])\s*[日号](?!报))?)?"
)
_DATE_ISO_RE = re.compile(
    r"(?<![0-9.])(?P<y>(?:19|20)[0-9]{2})\s*[-/.]\s*(?P<m>1[0-2]|0?[1-9])(?:\s*[-/.]\s*(?P<d>[12][0-9]|3[01]|0?[1-9]))?(?![0-9.])"
)
_YEAR_RANGE_RE = re.compile(r"(?<![0-9.])(?P<y>(?:19|20)[0-9]{2})(?=" + _RANGE + r"(?:19|20)[0-9]{2}\s*年)")
_DAY_ONLY_RE = re.compile(r"(?<![0-9.月])(?P<d>[12][0-9]|3[01]|0?[1-9])\s*日(?![报常])")
_CN_DATE_RE = re.compile(
    r"(?P<y>[〇○零Ｏ一二三四五六七八九]{4})年(?:(?P<m>十[一二]?|[一二三四五六七八九])月(?:(?P<d>[一二三]?十[一二三四五六七八九]?|[一二三四五六七八九])日)?)?"
)


def _month_key(raw: str) -> str:
    parts = [str(int(p)) for p in re.findall(r"[0-9]+", raw)]
    return "-".join(parts)


def extract_dates(text: str) -> list[DateMention]:
    """Years, months and days as written, in order: ``2023年11月6日``, ``1-10月``, ``二〇二三年``,
    ``2023-09-09``."""
    if not text:
        return []
    norm = text.translate(_FULLWIDTH)
    out: list[DateMention] = []
    taken: list[tuple[int, int]] = []
    for m in _DATE_ISO_RE.finditer(norm):
        if _is_code_context(norm, m.start(), m.end()):
            continue
        out.append(
            DateMention(text[m.start() : m.end()], int(m.group("y")), _month_key(m.group("m")),
                        int(m.group("d")) if m.group("d") else None, m.start(), m.end())
        )  # fmt: skip
        taken.append(m.span())
    for m in _DATE_ARABIC_RE.finditer(norm):
        if m.end() == m.start() or not (m.group("y") or m.group("m")) or _overlaps(taken, *m.span()):
            continue
        if m.group("y") is None and m.group("m") and _is_code_context(norm, m.start(), m.end()):
            continue
        year = int(m.group("y")) if m.group("y") else None
        out.append(
            DateMention(text[m.start() : m.end()], year, _month_key(m.group("m")) if m.group("m") else None,
                        int(m.group("d")) if m.group("d") else None, m.start(), m.end())
        )  # fmt: skip
        taken.append(m.span())
    for m in _YEAR_RANGE_RE.finditer(norm):
        if not _overlaps(taken, *m.span()):
            out.append(DateMention(text[m.start() : m.end()], int(m.group("y")), None, None, m.start(),
                                   m.end()))
            taken.append(m.span())
    for m in _DAY_ONLY_RE.finditer(norm):
        if not _overlaps(taken, *m.span()):
            out.append(DateMention(text[m.start() : m.end()], None, None, int(m.group("d")), m.start(),
                                   m.end()))
            taken.append(m.span())
    for m in _CN_DATE_RE.finditer(norm):
        year = cn_digits_to_int(m.group("y"))
        if year is None or not 1900 <= year <= 2099 or _overlaps(taken, *m.span()):
            continue
        month = cn_to_int(m.group("m")) if m.group("m") else None
        day = cn_to_int(m.group("d")) if m.group("d") else None
        out.append(DateMention(text[m.start() : m.end()], year, str(month) if month else None, day, m.start(),
                               m.end()))
    out.sort(key=lambda d: d.start)
    return out


# ------------------------------------------------------------------------------------------
# rankings, superlative claims, cited documents

_SCOPES = (
    "全国", "全省", "全市", "全区", "全州", "全盟", "全县", "全自治区", "全疆", "全行业", "同类城市",
    "省辖市", "地级市", "中部地区", "西部地区", "东北地区", "全国同类城市", "全省同类城市",
)  # fmt: skip
_SCOPE = "|".join(sorted(_SCOPES, key=len, reverse=True))
_RANK_N = r"[0-9]{1,3}|[一二三四五六七八九十]{1,3}"
_RANK_LEAD = (
    r"居|位居|位列|排名|排在|排位|排|列|名列|稳居|跃居|保持|位于|进入|跻身|升至|升到|上升至|跃升至|跃升到|"
    r"上升到"
)
_RANK_RE = re.compile(
    r"(?P<lead>" + _RANK_LEAD + r")?\s*(?P<scope>" + _SCOPE + r")?\s*(?:排名|排位)?"
    r"[“\"]?(?:第(?P<n>" + _RANK_N + r")(?P<tail>位|名|个|方阵)?"
    r"(?![批届次期个项家轮类产代书季章条款节部分组号])"
    r"|前(?P<top>" + _RANK_N + r")(?:位|名|强)?"
    r"|(?P<first>首位|榜首))"
)
_CLAIM_RE = re.compile(
    r"首次|首个|首家|首批|创历史新高|历史新高|历史最高|历史最好|历史最低|历史最佳|"
    r"全国领先|全省领先|全市领先|全区领先|国内领先|国际领先|全国前列|全省前列|前列|名列前茅|第一方阵|"
    r"唯一|最大(?!限度|化|程度|努力|的努力)|最高(?!人民|检察|法院|领导)|最多|最早|最快|最低(?!生活)|最优|最佳|最先进"
)
_TITLE_RE = re.compile(r"《[^《》\n]{2,60}》")
_DOCNO_RE = re.compile(r"[\u4e00-\u9fff]{0,10}(?P<no>[〔\[［【(（]\s*(?:19|20)[0-9]{2}\s*[〕\]］】)）"
                       r"]\s*第?\s*[0-9]{1,4}\s*号)")


def _rank_value(n: str) -> int | None:
    return int(n) if n.isdigit() else cn_to_int(n)


def extract_ranks(text: str) -> list[Mention]:
    """Rankings: ``居全省第4``, ``全市第三位``, ``位列全国前十``, ``首位``; key ``scope|N`` (``前N``
    for top N)."""
    if not text:
        return []
    norm = text.translate(_FULLWIDTH)
    out: list[Mention] = []
    for m in _RANK_RE.finditer(norm):
        lead, scope, tail = m.group("lead"), m.group("scope"), m.group("tail")
        value: int | None  # None: the numeral is not a count (then no ranking)
        if m.group("first"):
            value, prefix = 1, ""
        elif m.group("top"):
            if not (lead or scope):
                continue  # 前三季度, 前十个月: not a ranking
            if norm[m.end() : m.end() + 2] in ("季度",
                                               "个月") or norm[m.end() : m.end() + 1] in ("年", "月", "季"):
                continue
            value, prefix = _rank_value(m.group("top")), "前"
        else:
            if not (lead or scope or tail) or (tail == "个" and not scope):
                continue  # 第三产业, 第一书记, 第8.6代, 第三个项目 (全国第三个…省份 is a ranking)
            if norm[m.end() : m.end() + 1] == ".":
                continue
            value, prefix = _rank_value(m.group("n")), "方阵" if tail == "方阵" else ""
        if value is None:
            continue
        start = m.start()
        # 居第三: fine; 排第一: fine; 列第一: needs 位/名 or a scope to be a ranking
        if lead in ("列", "排", "保持", "进入",
                    "位于") and not (scope or tail or m.group("first") or m.group("top")):
            continue
        out.append(Mention("rank", text[start : m.end()], f"{scope or ''}|{prefix}{value}", start, m.end()))
    return out


_SESSION_RE = re.compile(
    r"(?P<a>[零〇一二两三四五六七八九十百0-9]+)届(?:[\u4e00-\u9fff]{0,6}?)(?P<b>[零〇一二两三四五六七八九十百0-9]+)次(?:全体)?(?:会议|全会)"
)


def extract_sessions(text: str) -> list[Mention]:
    """Sessions of a congress or committee: ``市四届人大四次会议`` → key ``4届4次``."""
    out = []
    for m in _SESSION_RE.finditer((text or "").translate(_FULLWIDTH)):
        a, b = (x if x.isdigit() else str(cn_to_int(x)) for x in (m.group("a"), m.group("b")))
        out.append(Mention("session", text[m.start() : m.end()], f"{a}届{b}次", m.start(), m.end()))
    return out


def extract_claims(text: str) -> list[Mention]:
    """Superlative claims that are facts to verify: ``首次``, ``创历史新高``, ``全国领先``, ``最大`` …"""
    norm = (text or "").translate(_FULLWIDTH)
    return [Mention("claim", text[m.start() : m.end()], m.group(), m.start(), m.end())
            for m in _CLAIM_RE.finditer(norm)]


def extract_citations(text: str) -> list[Mention]:
    """Cited documents: titles in 《》 and document numbers such as ``沪建综规〔2024〕61号``."""
    norm = (text or "").translate(_FULLWIDTH)
    out = [Mention("citation", text[m.start() : m.end()], m.group(), m.start(), m.end())
           for m in _TITLE_RE.finditer(norm)]
    for m in _DOCNO_RE.finditer(norm):
        key = re.sub(r"\s+|第", "", m.group("no")).translate(str.maketrans("[［【(（]］】)）",
                                                                           "〔〔〔〔〔〕〕〕〕〕"))
        out.append(Mention("citation", text[m.start() : m.end()], key, m.start(), m.end()))
    out.sort(key=lambda c: c.start)
    return out


# ------------------------------------------------------------------------------------------
# plain number strings: what a reader counts as "a number", figure or not (years included)

_DIGIT_RUN_RE = re.compile(r"[0-9]+(?:\.[0-9]+)?")
# digits (years, dates), 二〇二二年, and durations or rounds such as 连续四年, 三个月, 十届
NUMBER_STRINGS_RE = re.compile(
    r"[0-9０-９]+(?:[.．][0-9０-９]+)?"
    r"|[一二三四五六七八九〇零]{4}年"
    r"|(?<![第〇零一二两三四五六七八九十百千])[二两三四五六七八九十][〇零一二两三四五六七八九十百千]*(?=年|个月|周年|届)"
)


def canonical_number(num: str) -> str:
    """``010.50`` → ``10.5``: equal values written differently compare equal."""
    whole, _, frac = num.translate(_FULLWIDTH).partition(".")
    whole = whole.lstrip("0") or "0"
    frac = frac.rstrip("0")
    return f"{whole}.{frac}" if frac else whole


def fold_digits(text: str) -> str:
    """Full-width digits, point, ％ and ＊ as ASCII, one character for one, so offsets stay."""
    return text.translate(_FULLWIDTH)


def digit_runs(text: str) -> list[tuple[int, int, str]]:
    """(start, end, canonical value) of every run of digits in ``text``, full-width digits too."""
    return [(m.start(), m.end(), canonical_number(m.group()))
            for m in _DIGIT_RUN_RE.finditer(text.translate(_FULLWIDTH))]


# ------------------------------------------------------------------------------------------
# masked figures of the redacted seed reports

_MASK_FIGURE_RE = re.compile(
    r"(?<![0-9.,*第])[*]+(?:\.[*]+)?(?:余|多)?(?: ?(?:(?:万亿|亿|万|千|百)(?:余|多)?(?:"
    + "|".join(re.escape(u) for u in UNITS)
    + r")?|(?:"
    + "|".join(re.escape(u) for u in UNITS)
    + r")))"
)


def extract_masks(text: str) -> list[tuple[int, int, str]]:
    """``*.**万个``, ``**%``: the masked figures (a ``*`` for each digit) with a magnitude and/or unit."""
    return [(m.start(), m.end(), m.group(0)) for m in _MASK_FIGURE_RE.finditer(text or "")]

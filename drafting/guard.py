"""The fact guard: every fact in a draft is the writer's own, or it is flagged.

The lexer (:mod:`drafting.quantities`) finds the figures, dates, rankings, claims and cited
documents of a text; :mod:`drafting.facts` reads what each figure's clause says about it (indicator,
qualifier, direction, comparison base, period).  :func:`check_figures` then compares the draft's facts
with the writer's — bullets, figure table, heading, the writer's own edits and confirmations, each a
:class:`Source` — and reports:

* ``missing``: a writer's figure, ranking or cited document that the draft dropped;
* ``unverified`` (必查, the draft needs review): a figure nobody gave; a writer's value standing with
  another indicator (two figures swapped, or a value reused for something else); a writer's figure
  whose qualifier (以上, 左右, 超过 → 不足), direction (增长 → 下降), base (同比 → 环比) or period
  (上半年 → 全年, 上年 dropped) changed; a year, month or day the writer did not give; a ranking or
  document number that differs;
* ``to_verify`` (提示, shown but not blocking): a ranking in words, a superlative claim (首次, 创历史新高,
  全国领先) or a title in 《》 that the writer did not give, and a writer's date the draft left out;
* ``derived``: growth rates recomputed wherever a current and a previous value are known — from the
  figure table (``pairs``) or the bullets' prose (``上年2845套``, ``比上年增加355套``, ``由A提高到B``) —
  stated to at least one decimal (22.4%, not 22%), with the two figures it came from.

A paraphrase is not a false alarm: 「撬动社会资金35.2亿元」 for the bullet 「带动全社会投入35.2亿元」
keeps the value with the same indicator (:func:`drafting.facts.similarity`).
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Context, Decimal
from typing import Any, Literal

from drafting.facts import Fact, facts_of, indicator_words, informative, similarity
from drafting.quantities import (
    _FULLWIDTH,
    UNIT_ALIASES,
    DateMention,
    Figure,
    Mention,
    extract_citations,
    extract_claims,
    extract_dates,
    extract_figures,
    extract_ranks,
    extract_sessions,
    split_unit,
)

__all__ = [
    "UNIT_ALIASES",
    "DerivedCheck",
    "Figure",
    "Finding",
    "Flag",
    "GuardReport",
    "Source",
    "check_figures",
    "compare_suggestion",
    "extract_figures",
    "same_value",
    "strict_same",
]

# ------------------------------------------------------------------------------------------
# data


@dataclass(frozen=True)
class Source:
    """One place the writer gave facts: a bullet, a figure-table row, the heading, an edit, a confirmation.

    ``label`` is what the checks panel shows as the fact's origin: 要点3, 数字表第1行,
    标题, 你的修改, 你的确认.
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
    said: str = ""  # where the two values were given, for the explanation

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
            pairs.append(_Pair(indicator_words(text[max(0, f1.start - 40) : f1.start - len(before)
                                                    + m.start()]) or f1.thing, f2.value, f1.value, unit))
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


def _find_pair(
    draft: str, figs: list[Figure], pairs: list[_Pair], pos: int, pp: bool,
    changes: frozenset[int | None] = frozenset()
) -> tuple[_Pair, Figure | None] | None:
    """The pair whose indicator or this-period value sits right before the rate at ``pos``.

    The anchor must be in the same clause (no 。；), at most ``_MAX_GAP`` characters before the
    rate, with no other figure in between (``投资3亿元，同比增长8%`` is about the 3亿元).  A figure of
    the pair's unit between the indicator and the rate that is not the writer's this-period value is
    the draft's own claim (``棚户区改造3300套，同比增长12.5%``): it is returned, and the rate is
    recomputed from it, so a changed base value cannot leave its rate green.
    """
    lo = max(draft.rfind(ch, 0, pos) for ch in _CLAUSE_END) + 1
    inside = [f for f in figs if f.start is not None and f.end is not None and lo <= f.start and f.end <= pos]
    best: tuple[int, _Pair, Figure | None] | None = None
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
        own: Figure | None = None
        if at < 0 or pos - at > _MAX_GAP:
            continue
        step = pair.figure(abs(pair.this - pair.last))  # 比上年增加355套: the change, not a value
        others = [
            f
            for f in inside
            if (f.start or 0) >= at and not any(same_value(f, x) for x in (this_fig, last_fig, step))
            and f.start not in changes  # 比上年增加455套 is a change, checked on its own
        ]
        if others:
            if not pp and len(others) == 1 and others[0].unit == pair.unit:
                own = others[0]
            else:
                continue
        if best is None or at > best[0]:
            best = (at, pair, own)
    return (best[1], best[2]) if best else None


def _derived_checks(
    draft: str, figs: list[Figure], dfacts: list[Fact], pairs: list[_Pair]
) -> tuple[list[DerivedCheck], set[int], list[_Pair]]:
    """Rate statements recomputed; the draft offsets of correct rates; the pairs that were used."""
    checks: list[DerivedCheck] = []
    ok_starts: set[int] = set()
    used: list[_Pair] = []
    if not pairs:
        return checks, ok_starts, used
    norm = draft.translate(_FULLWIDTH)
    rate_facts = {f.figure.start: f for f in dfacts if f.figure.start is not None}
    changes = frozenset(s for s, f in rate_facts.items() if f.base and f.direction
                        and f.figure.unit not in ("%", "个百分点"))
    for m in _RATE_RE.finditer(norm):
        if "均" in norm[max(0, m.start() - 3) : m.start("verb")]:
            continue  # 年均增长: a compound rate, not (this-last)/last
        pp = m.group("unit") != "%"
        found = _find_pair(draft, figs, pairs, m.start(), pp, changes)
        if found is None:
            continue
        pair, own = found
        fact = rate_facts.get(m.start("num"))
        if (fact is not None and informative(fact.indicator) and not fact.inherited
                and similarity(fact.indicator, pair.indicator) < 0.3):
            continue  # PM2.5下降12% after 优良天数…: the rate is about something else
        this = own.value if own is not None else pair.this
        num = m.group("num")
        places = len(num.partition(".")[2])
        sign = -1 if m.group("verb") in _DOWN else 1
        stated = sign * float(num)
        said = draft[m.start("verb") : m.end()]
        if pp:
            computed = this - pair.last
            arithmetic = f"{_fmt(this)}%-{_fmt(pair.last)}%={computed:.{max(places, 1)}f}个百分点"
            suffix = "个百分点"
        else:
            if pair.last == 0:
                continue
            computed = (this - pair.last) / pair.last * 100
            arithmetic = (f"（{_fmt(this)}-{_fmt(pair.last)}）/{_fmt(pair.last)}"
                          f"={computed:.{max(places, 1)}f}%")
            suffix = "%"
        if not math.isfinite(computed):
            continue  # inf/nan values (a figure such as 1e308 or "nan"): nothing to check against
        ok = abs(computed - stated) <= 0.5 * 10**-places + 1e-9
        rounded = _round_half_up(abs(computed), max(places, 1))
        right = f"{'下降' if computed < 0 else '增长'}{rounded}{suffix}"
        if pp:
            right = f"{'下降' if computed < 0 else '提高'}{rounded}{suffix}"
        basis = f"（{pair.said or f'本期{_fmt(pair.this)}，上期{_fmt(pair.last)}'}"
        basis += f"；稿中本期写作“{own.raw}”）" if own is not None else "）"
        if ok:
            explanation = f"{pair.indicator}：{arithmetic}，与“{said}”一致{basis}"
        else:
            explanation = f"{pair.indicator}：{arithmetic}，应为“{right}”，文中写作“{said}”{basis}"
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
        if own is not None:
            ok_starts.discard(m.start("num"))
    return checks, ok_starts, used


# ------------------------------------------------------------------------------------------
# the report


@dataclass
class Flag:
    """A fact the guard flags: a draft fact (with its place) or a writer's fact the draft dropped."""

    raw: str
    start: int | None
    end: int | None
    reason: str
    message: str
    severity: str = "必查"
    kind: str = "figure"  # figure | date | rank | claim | citation
    value: float | None = None
    unit: str = ""
    thing: str = ""
    source: str = ""

    def to_json(self) -> dict:
        out: dict[str, Any] = {
            "text": self.raw,
            "value": self.value,
            "unit": self.unit,
            "thing": self.thing,
            "start": self.start,
            "end": self.end,
            "kind": self.kind,
            "reason": self.reason,
            "message": self.message,
            "severity": self.severity,
        }
        if self.source:
            out["source"] = self.source
        return out


@dataclass
class GuardReport:
    provided: list[Figure]
    missing: list[Flag]
    unverified: list[Flag]
    derived: list[DerivedCheck]
    to_verify: list[Flag] = field(default_factory=list)

    @property
    def status(self) -> Literal["ok", "needs_review"]:
        if self.missing or self.unverified or any(not d.ok for d in self.derived):
            return "needs_review"
        return "ok"

    def findings(self) -> list[Finding]:
        out = [Finding("missing", f.reason, f.raw, f.message, None, None, f.severity) for f in self.missing]
        out += [Finding("unverified", f.reason, f.raw, f.message, f.start, f.end, f.severity)
                for f in self.unverified]
        out += [Finding("derived", "rate", d.statement, d.explanation, d.start, d.end) for d in self.derived
                if not d.ok]
        out += [Finding("unverified", f.reason, f.raw, f.message, f.start, f.end, "提示")
                for f in self.to_verify]
        return out

    def to_json(self) -> dict:
        return {
            "provided": [f.to_json() for f in self.provided],
            "missing": [f.to_json() for f in self.missing],
            "unverified": [f.to_json() for f in self.unverified],
            "derived": [d.to_json() for d in self.derived],
            "to_verify": [f.to_json() for f in self.to_verify],
        }


def _flag(f: Figure, reason: str, message: str, *, missing: bool = False) -> Flag:
    return Flag(f.raw, None if missing else f.start, None if missing else f.end, reason, message,
                value=f.value, unit=f.unit, thing=f.thing, source=f.source)  # fmt: skip


def _mflag(m: Mention | DateMention, reason: str, message: str, severity: str = "必查", *,
           missing: bool = False) -> Flag:
    kind = m.kind if isinstance(m, Mention) else "date"
    return Flag(m.raw, None if missing else m.start, None if missing else m.end, reason, message, severity,
                kind,
                source=m.source)  # fmt: skip


# ------------------------------------------------------------------------------------------
# comparing facts

_QUAL_ZH = {"MORE": "以上/超过", "LESS": "不足/以内", "ABOUT": "左右/约", "NEAR": "近", "TARGET": "力争/预计",
            "CUMUL": "累计"}
_PERIOD_LAST = "上年"
_SAME_INDICATOR = 0.6  # similarity at which another writer figure's indicator "is" this one
_MARGIN = 0.2


def strict_same(d: Figure, g: Figure) -> bool:
    """Equal value (and range), and the same unit — a bare number in the draft may stand for a unit figure,
    but a writer's bare number (a slogan's 4 in “8+4”) does not vouch for 4个百分点 or 15英寸."""
    if not _close(d.value, g.value):
        return False
    if (d.high is None) != (g.high is None) or (
            d.high is not None and g.high is not None and not _close(d.high, g.high)):
        return False
    return d.unit == g.unit or not d.unit


def _src(f: Figure | Mention | DateMention) -> str:
    return f"（{f.source}）" if f.source else ""


def _qual_text(fact: Fact) -> str:
    return fact.qualifier_words or "无限定词"


def _is_last(f: Fact) -> bool:
    """A last-period value: 上年棚改2845套, 比上年的2845套 (a base with no change verb)."""
    return f.period == _PERIOD_LAST or (f.base == _PERIOD_LAST and not f.direction)


def _compare_fact(d: Fact, g: Fact, gfacts: Sequence[Fact], provided_text: str) -> tuple[str, str] | None:
    """(reason, Chinese message) when draft fact ``d`` differs from the writer's ``g`` it matched."""
    d_inf, g_inf = informative(d.indicator), informative(g.indicator)
    own = similarity(d.indicator, g.indicator) if g_inf else 0.0
    rivals = [
        (similarity(d.indicator, v.indicator), v)
        for v in gfacts
        if v.figure.unit == d.figure.unit and not strict_same(d.figure, v.figure) and informative(v.indicator)
        and _is_last(v) == _is_last(d)  # 比上年的2845套 is last year's: only last year's figures compete
    ]
    exact = [v for v in gfacts if v.figure.unit == d.figure.unit and not strict_same(d.figure, v.figure)
             and v.indicator == d.indicator and informative(d.indicator) and not d.inherited
             and _is_last(v) == _is_last(d)]  # fmt: skip
    if exact and d.indicator != g.indicator and not (g_inf and d.indicator in g.indicator):
        rival = exact[0]
        return "indicator", (
            f"“{d.figure.raw}”在要点中是“{g.indicator if g_inf else g.figure.raw}”的数字{_src(g.figure)}，"
            f"这里写在“{d.indicator}”后面；要点里“{rival.indicator}”是{rival.figure.raw}{_src(rival.figure)}。"
            "请核对是否张冠李戴。"
        )
    if d_inf and rivals and not (d.inherited and not g_inf):
        best_sim, rival = max(rivals, key=lambda t: t[0])
        # with no words of its own in the bullets, a figure moved only if another one's words fit exactly
        need = _SAME_INDICATOR if g_inf else 0.9
        if best_sim >= need and best_sim > own + _MARGIN:
            return "indicator", (
                f"“{d.figure.raw}”在要点中是“{g.indicator if g_inf else g.figure.raw}”"
                f"的数字{_src(g.figure)}，"
                f"这里写在“{d.indicator}”后面；要点里“{rival.indicator}”是{rival.figure.raw}{_src(rival.figure)}。"
                "请核对是否张冠李戴。"
            )
    if d_inf and g_inf and own == 0.0 and not d.inherited and not g.inherited:
        return "indicator", (
            f"“{d.figure.raw}”在要点中是“{g.indicator}”的数字{_src(g.figure)}，这里写成了“{d.indicator}”。请核对指标。"
        )
    if d.qualifiers != g.qualifiers:
        return "qualifier", (
            f"限定词变了：要点写的是“{_qual_text(g)}”{_src(g.figure)}，稿中“{d.figure.raw}”是“{_qual_text(d)}”。"
            "“以上、超过、不足、左右、约、近、力争、累计”会改变数字的含义，请按要点写。"
        )
    if d.direction and g.direction and d.direction != g.direction:
        said = {"up": "增长/提高", "down": "下降/减少"}
        return "direction", (
            f"方向反了：要点中“{g.figure.raw}”是{said[g.direction]}{_src(g.figure)}，稿中写成了{said[d.direction]}。"
        )
    if d.base and g.base and d.base != g.base:
        return "base", (f"比较基期变了：要点是与{g.base}比{_src(g.figure)}，"
                        f"稿中“{d.figure.raw}”是与{d.base}比。")
    if d.period != g.period:
        if d.period and g.period:
            return "period", (
                f"时段变了：要点中“{g.figure.raw}”是{g.period_word}{_src(g.figure)}，"
                f"稿中写成{d.period_word}。"
            )
        if g.period == _PERIOD_LAST and not _is_last(d):
            return "period", (
                f"“{g.figure.raw}”在要点中是上年的数字{_src(g.figure)}，稿中没写“上年”，读起来像今年的成绩。"
            )
        # the report's own year (全年, 今年) is what a section is about unless the writer said otherwise
        if d.period and d.period != "本年" and d.period_word not in provided_text:
            return "period", (f"时段“{d.period_word}”要点中没有："
                              f"“{d.figure.raw}”在要点中未注明时段{_src(g.figure)}。")
    return None


def _value_message(d: Fact, gfacts: Sequence[Fact]) -> tuple[str, str]:
    same_unit = [(similarity(d.indicator, g.indicator), g) for g in gfacts if g.figure.unit == d.figure.unit]
    if same_unit:
        sim, g = max(same_unit, key=lambda t: t[0])
        if sim >= 0.5:
            return "value", (
                f"与要点不符：“{g.indicator}”要点写的是{g.figure.raw}{_src(g.figure)}，稿中是{d.figure.raw}。"
            )
    return "not_given", f"无出处：“{d.figure.raw}”要点和数字表里都没有，请核实或删去。"


def _difference_checks(draft: str, dfacts: list[Fact], pairs: list[_Pair],
                       skip: set[int]) -> list[DerivedCheck]:
    """``比上年增加355套`` recomputed: a change stated against last year, with the unit of a known pair,
    is this − last of that pair (the one whose indicator fits best), in the stated direction."""
    out: list[DerivedCheck] = []
    for d in dfacts:
        f = d.figure
        if (f.start is None or f.end is None or f.start in skip or not d.base
                or d.direction not in ("up", "down")):
            continue
        fits = [p for p in pairs if p.unit == f.unit and f.unit not in ("%", "个百分点", "")]
        if not fits:
            continue
        pair = max(fits, key=lambda p: similarity(d.indicator, p.indicator))
        change = pair.this - pair.last
        stated = f.value if d.direction == "up" else -f.value
        fits_pair = informative(d.indicator) and similarity(d.indicator, pair.indicator) >= 0.3
        if not _close(abs(change), f.value) and not fits_pair:
            continue  # a change of something else
        ok = _close(change, stated)
        right = f"{'增加' if change >= 0 else '减少'}{_fmt(abs(change))}{f.unit}"
        arithmetic = f"{_fmt(pair.this)}-{_fmt(pair.last)}={_fmt(change)}{f.unit}"
        basis = f"（{pair.said or f'本期{_fmt(pair.this)}，上期{_fmt(pair.last)}'}）"
        explanation = (f"{pair.indicator}：{arithmetic}，与“{f.raw}”一致{basis}" if ok
                       else f"{pair.indicator}：{arithmetic}，应为“{right}”，"
                            f"文中写作“{f.raw}”{basis}")  # fmt: skip
        out.append(DerivedCheck(draft[f.start : f.end], stated, change, ok, f.start, f.end, explanation))
    return out


def _check_figure_facts(
    dfacts: list[Fact], gfacts: list[Fact], pair_figs: list[Figure], skip: set[int], provided_text: str,
    draft: str
) -> list[Flag]:
    flags: list[Flag] = []
    uses: dict[int, list[tuple[float, Fact]]] = {}
    for d in dfacts:
        if d.figure.start in skip:
            continue
        cands = [g for g in gfacts if strict_same(d.figure, g.figure)]
        if not cands:
            if any(strict_same(d.figure, p) for p in pair_figs):
                continue
            reason, message = _value_message(d, gfacts)
            flags.append(_flag(d.figure, reason, message))
            continue
        # the writer's figure it agrees with, if any (0余 and 0 given, the draft's 0 is the second), else
        # the one whose indicator fits best; candidates are tried best fit first, and the first that
        # agrees ends the search (a long list of equal values stays linear per figure)
        cands.sort(key=lambda c: similarity(d.indicator, c.indicator), reverse=True)
        g, problem = cands[0], _compare_fact(d, cands[0], gfacts, provided_text)
        for c in cands[1:] if problem else ():
            if _compare_fact(d, c, gfacts, provided_text) is None:
                g, problem = c, None
                break
        uses.setdefault(id(g), []).append((similarity(d.indicator, g.indicator), d))
        if problem:
            flags.append(_flag(d.figure, *problem))
    flags += _order_flags(draft, dfacts, gfacts, {f.start for f in flags})
    # a writer's figure used more often than given: the extra uses with the least fitting indicator
    by_id = {id(g): g for g in gfacts}
    flagged = {id(f) for f in flags}
    for gid, used in uses.items():
        g = by_id[gid]
        given = sum(1 for h in gfacts if strict_same(h.figure, g.figure) and h.figure.unit == g.figure.unit)
        if len(used) <= given:
            continue
        # a use with no words of its own cannot be judged: count it as fitting, so the extra is the other one
        used.sort(key=lambda t: t[0] if informative(t[1].indicator) else 0.5)
        for sim, d in used[: len(used) - given]:
            if sim >= 0.5 or id(d) in flagged or not informative(d.indicator):
                continue
            flags.append(
                _flag(d.figure, "reused", (
                    f"“{d.figure.raw}”要点中只给了{given}次，"
                    f"是“{g.indicator or g.figure.raw}”的数字{_src(g.figure)}；"
                    f"这里又用在“{d.indicator}”上。请核对这个数字。"
                ))
            )
    flags.sort(key=lambda f: f.start or 0)
    return flags


def _distinct_things(indicators: list[str]) -> int:
    """How many different things these indicators name (棚户区改造 and 棚改 are one)."""
    kept: list[str] = []
    for ind in indicators:
        if informative(ind) and not any(similarity(ind, k) >= _SAME_INDICATOR for k in kept):
            kept.append(ind)
    return max(1, len(kept))  # a figure with no words of its own is not counted as another thing


def _order_flags(draft: str, dfacts: list[Fact], gfacts: list[Fact], flagged: set[int | None]) -> list[Flag]:
    """Two of the writer's figures of one note, listed side by side in the draft in the other order:
    ``分别完成37820元、28104元`` → ``28104元、37820元``, ``从1.6万元提高到2.4万元`` →
    ``从2.4万元提高到1.6万元``."""
    out: list[Flag] = []
    for a, b in itertools.pairwise(dfacts):
        fa, fb = a.figure, b.figure
        if (fa.end is None or fb.start is None or fa.start in flagged or fb.start in flagged
                or fa.unit != fb.unit):
            continue
        if strict_same(fa, fb):
            continue
        between = draft[fa.end : fb.start]
        if informative(indicator_words(between)) or any(ch in between for ch in "。；;\n"):
            continue  # words between them name what each counts: their order is the writer's choice
        ga = [g for g in gfacts if strict_same(fa, g.figure)]
        gb = [g for g in gfacts if strict_same(fb, g.figure)]
        if any((x.figure.start or 0) < (y.figure.start or 0) for x in ga for y in gb):
            continue  # the writer also wrote them in this order somewhere
        reversed_note = next(
            ((x, y) for x in ga for y in gb
             if informative(x.indicator) and x.indicator == y.indicator and x.line == y.line),
            None,
        )  # fmt: skip
        if reversed_note is not None:
            x, y = reversed_note
            out.append(_flag(fb, "indicator", (
                f"“{fa.raw}”和“{fb.raw}”的先后与要点相反（要点{_src(y.figure)}中先写{y.figure.raw}、后写{x.figure.raw}），"
                "分别对应的指标会张冠李戴，请核对顺序。"
            )))  # fmt: skip
    return out


def _check_dates(draft: str, given: list[DateMention],
                 allowed_years: set[int]) -> tuple[list[Flag], list[Flag]]:
    years = {d.year for d in given if d.year is not None} | allowed_years
    pairs = {(d.month, d.day) for d in given}
    flags: list[Flag] = []
    stated = extract_dates(draft)
    for d in stated:
        bad_year = d.year is not None and d.year not in years
        bad_md = (d.month is not None or d.day is not None) and not any(
            (d.month is None or d.month == m) and (d.day is None or d.day == day) for m, day in pairs
        )
        if bad_year or bad_md:
            said = "、".join(sorted({g.raw for g in given})) or "没有日期"
            flags.append(_mflag(d, "date",
                                f"日期“{d.raw}”要点中没有（要点里：{said}）。请核对年份、月份和日期。"))
    left = list(stated)
    missing = []
    for g in given:  # each draft date accounts for one of the writer's (2019年 … 2019年: twice)
        hit = next((d for d in left if d.fits(g) and g.fits(d)), None)
        if hit is not None:
            left.remove(hit)
        elif not any(g.raw in x.raw for x in given if x is not g):
            missing.append(_mflag(g, "date", f"要点中的日期“{g.raw}”{_src(g)}稿中没有写：如不需要可忽略。",
                                  "提示", missing=True))
    return flags, missing


def _rank_parts(key: str) -> tuple[str, str]:
    scope, _, value = key.partition("|")
    return scope, value


def _check_mentions(  # noqa: C901  one flat pass, a branch per mention kind (ranking, claim, citation, 文号)
    draft: str, provided_text: str, spans: list[tuple[int, int, str]]
) -> tuple[list[Flag], list[Flag], list[Flag]]:
    """(unverified, missing, to_verify) for rankings, claims and cited documents."""
    unverified: list[Flag] = []
    missing: list[Flag] = []
    notes: list[Flag] = []

    def given(ms: list[Mention]) -> list[Mention]:
        for m in ms:
            m.source = _label_at(spans, m.start)
        return ms

    granks, dranks = given(extract_ranks(provided_text)), extract_ranks(draft)
    for d in dranks:
        ds, dv = _rank_parts(d.key)
        fits = [g for g in granks if _rank_parts(g.key)[1] == dv
                and (not ds or not _rank_parts(g.key)[0] or _rank_parts(g.key)[0] == ds)]
        if fits:
            continue
        rivals = [g for g in granks if not ds or _rank_parts(g.key)[0] in ("", ds)]
        said = f"要点写的是“{rivals[0].raw}”{_src(rivals[0])}" if rivals else "要点中没有这个排名"
        # a ranking in digits belongs with the figures (its clause is a bullet); one in words may
        # come from a sentence the bullets left out, so it is shown to verify, not blocked
        if re.search(r"[0-9]", d.raw):
            unverified.append(_mflag(d, "rank", f"排名“{d.raw}”与要点不符：{said}。请核对。"))
        else:
            notes.append(_mflag(d, "rank", f"排名“{d.raw}”：{said}，请核实。", "提示"))
    left = list(dranks)  # each draft ranking accounts for one of the writer's (the same one twice: 第4 … 第4)
    for g in granks:
        gs, gv = _rank_parts(g.key)
        hit = next((d for d in left if _rank_parts(d.key)[1] == gv and _rank_parts(d.key)[0] in ("", gs)),
                   None)
        hit = hit or next((d for d in left if _rank_parts(d.key)[1] == gv and not gs), None)
        if hit is None:
            missing.append(_mflag(g, "rank", f"要点中的排名“{g.raw}”{_src(g)}稿中没有写或写错了。",
                                  missing=True))
        else:
            left.remove(hit)

    gsessions, dsessions = given(extract_sessions(provided_text)), extract_sessions(draft)
    gkeys_s = Counter(s.key for s in gsessions)
    for d in dsessions:
        if d.key not in gkeys_s:
            said = f"要点写的是“{gsessions[0].raw}”" if gsessions else "要点中没有"
            if gsessions:
                unverified.append(_mflag(d, "session", f"会议届次“{d.raw}”与要点不符：{said}。"))
            else:
                notes.append(_mflag(d, "session", f"会议届次“{d.raw}”{said}，请核实。", "提示"))
    have_s = Counter(d.key for d in dsessions)
    for g in gsessions:
        if have_s[g.key] > 0:
            have_s[g.key] -= 1
        else:
            missing.append(_mflag(g, "session", f"要点中的“{g.raw}”{_src(g)}稿中没有写或写错了。",
                                  missing=True))

    gclaims = {c.key for c in extract_claims(provided_text)}
    for c in extract_claims(draft):
        if c.key not in gclaims:
            notes.append(_mflag(c, "claim", f"“{c.raw}”是需要出处的说法，要点中没有，请核实。", "提示"))

    gcites, dcites = given(extract_citations(provided_text)), extract_citations(draft)
    dkeys_c = {c.key for c in dcites}
    gkeys_c = {c.key for c in gcites}
    for c in dcites:
        if c.key in gkeys_c:
            continue
        if c.key.startswith("《"):
            notes.append(_mflag(c, "citation", f"引用的文件“{c.raw}”要点中没有，请核实名称。", "提示"))
        else:
            unverified.append(_mflag(c, "citation", f"文号“{c.raw}”要点中没有，请核对文号。"))
    for c in gcites:
        if c.key not in dkeys_c:
            missing.append(_mflag(c, "citation", f"要点中的依据“{c.raw}”{_src(c)}稿中没有写。", missing=True))
    return unverified, missing, notes


def _pairs_from_facts(gfacts: list[Fact]) -> list[_Pair]:
    """Last-period values given in prose: ``上年棚改2845套`` beside ``完成棚户区改造3200套``, and
    ``比上年增加355套`` after ``3200套`` (last = 3200 − 355)."""
    pairs: list[_Pair] = []
    for f in gfacts:
        if f.period != _PERIOD_LAST or f.figure.unit in ("%", "个百分点"):
            continue
        best: tuple[float, Fact] | None = None
        for g in gfacts:
            if g is f or g.period == _PERIOD_LAST or g.figure.unit != f.figure.unit or g.base:
                continue
            sim = similarity(f.indicator, g.indicator)
            if sim >= 0.3 and (best is None or sim > best[0]):
                best = (sim, g)
        if best is not None:
            g = best[1]
            said = f"上期{f.figure.raw}{_src(f.figure)}，本期{g.figure.raw}{_src(g.figure)}"
            pairs.append(_Pair(g.indicator, g.figure.value, f.figure.value, g.figure.unit, said))
    for prev, f in itertools.pairwise(gfacts):
        if not f.base or f.direction not in ("up", "down") or f.figure.unit in ("%", "个百分点", ""):
            continue
        if prev.figure.unit != f.figure.unit or prev.base or prev.period == _PERIOD_LAST:
            continue
        sign = 1 if f.direction == "up" else -1
        last = prev.figure.value - sign * f.figure.value
        said = (
            f"本期{prev.figure.raw}{_src(prev.figure)}，"
            f"比上年{'增加' if sign > 0 else '减少'}{f.figure.raw}，上期即{_fmt(last)}{f.figure.unit}"
        )
        pairs.append(_Pair(prev.indicator, prev.figure.value, last, f.figure.unit, said))
    return pairs


# ------------------------------------------------------------------------------------------
# the guard


def check_figures(
    draft: str,
    provided: str | Sequence[str] | Sequence[Source],
    *,
    pairs: list[tuple[str, float, float, str]] | None = None,
    allowed_years: Sequence[int] = (),
) -> GuardReport:
    """Compare the facts of ``draft`` with the writer's ``provided`` facts.

    ``provided`` is the writer's text: a string, lines, or :class:`Source` items (bullets, table rows,
    heading, edits, confirmations) whose labels say where each fact was given.  ``report.provided``
    holds the writer's unique figures.  ``pairs`` rows ``(indicator, this_period, last_period, unit)``
    (unit may carry a magnitude: ``万个``) drive the derived checks; their values are allowed in the
    draft but not required.  ``allowed_years`` are the document's own period (from the request).
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
    gfacts = facts_of(provided_text, given, notes=True)

    all_pairs = _pairs_from_text(provided_text, given) + _pairs_from_facts(gfacts)
    for indicator, this, last, unit in pairs or []:
        mult, base = split_unit(unit or "")
        all_pairs.append(_Pair(indicator, float(this) * mult, float(last) * mult, base,
                               f"数字表：本期{_fmt(this)}、上期{_fmt(last)}{unit}"))
    pair_figs = [p.figure(v) for p in all_pairs for v in (p.this, p.last)]

    draft = draft or ""
    figs = extract_figures(draft)
    dfacts = facts_of(draft, figs)
    derived, ok_starts, used = _derived_checks(draft, figs, dfacts, all_pairs)
    consumed = [p.figure(p.last) for p in used]

    missing = []
    for f in unique:
        # the same figure for two things (国家级工厂6家、省级工厂6家) is two facts; a bullet and a table
        # row giving one fact twice are one
        need = _distinct_things([g.indicator for g in gfacts if _key(g.figure) == _key(f)])
        have = sum(1 for d in figs if strict_same(d, f))
        if have and any(strict_same(d, f)
                        and draft[max(0, (d.start or 0) - 1) : d.start] in ("各", "均") for d in figs):
            have = need  # 国家级工厂和省级工厂各6家: one figure for several things
        if have >= need or (have == 0 and any(same_value(f, c) for c in consumed)):
            continue
        if have == 0:
            message = f"漏写：“{f.raw}”{_src(f)}稿中没有。请补上，或确认不需要。"
        else:
            message = f"漏写：“{f.raw}”要点中写了{need}处，稿中只有{have}处。请核对是否漏了一处。"
        missing.append(_flag(f, "missing", message, missing=True))
    diffs = _difference_checks(draft, dfacts, all_pairs, ok_starts)
    derived += diffs
    ok_starts |= {d.start for d in diffs if d.ok}
    unverified = _check_figure_facts(dfacts, gfacts, pair_figs, ok_starts, provided_text, draft)

    gdates = extract_dates(provided_text)
    for d in gdates:
        d.source = _label_at(spans, d.start)
    date_flags, date_missing = _check_dates(draft, gdates, set(allowed_years))
    m_unverified, m_missing, notes = _check_mentions(draft, provided_text, spans)
    unverified = sorted(unverified + date_flags + m_unverified, key=lambda f: f.start or 0)
    return GuardReport(
        provided=unique,
        missing=missing + m_missing,
        unverified=unverified,
        derived=derived,
        to_verify=sorted(date_missing + notes, key=lambda f: f.start or 0),
    )

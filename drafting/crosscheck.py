"""Checks across the sections of one document (the checks of one section are :mod:`drafting.guard`'s).

* **The same figure, two values.**  A figure stated in two sections with the same indicator
  (:func:`drafting.facts.similarity` ≥ ``SAME``), period, unit and no change word (增长/下降 …, those are
  rates of their own) must have the same value.  Two parts under one 一、 whose 总述 states that
  figure are its parts (分项), left to the total check.
* **Numbering.**  Heading lines run in sequence through the whole document: the outline's 一、/（一）
  (numbered by position) and the ``1.``/``（1）`` lines inside a section's text, each level restarting
  under the heading above it.  A ``一、`` or ``（二）`` line inside a section's text is out of place (the
  outline owns those levels) and is reported as such.
* **总述 and its parts.**  A figure in the text under a 一、 heading (its 总述) whose indicator the
  sections below it state too must equal their sum, or one of their values (``超过``/``不足``/``约``
  allow what they say).

Figures come from the one lexer (:func:`drafting.quantities.extract_figures`) read as facts
(:func:`drafting.facts.facts_of`); no number is parsed here.  Findings are Chinese and say what to do.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import lru_cache

from drafting.facts import Fact, facts_of, informative, similarity
from drafting.headings import split_marker
from drafting.numerals import cn_to_int
from drafting.outline import number
from drafting.quantities import extract_figures

__all__ = ["CrossFinding", "Part", "check_document"]

SAME = 0.75  # indicator similarity from which two sections speak of the same figure
_ABOUT = 0.05  # 约/左右/近: within 5 %


@dataclass
class Part:
    """One section of the document as the checks read it."""

    heading: str  # numbered, as the document prints it (一、… / （一）…)
    level: int  # 1 or 2
    text: str  # the body (no heading line of its own)


@dataclass
class CrossFinding:
    kind: str  # "figure" | "numbering" | "total"
    message: str  # Chinese: what differs and what to do
    where: list[str] = field(default_factory=list)  # the headings concerned

    def to_json(self) -> dict[str, object]:
        return {"kind": self.kind, "message": self.message, "where": self.where}


def _name(heading: str) -> str:
    """A heading as named in a finding: its number and its first clause when long, never cut mid-word
    unless a clause runs past 16 characters."""
    level, marker, rest = split_marker(heading)
    return marker + _head(rest, 12) if level else _head(heading, 14)


def _head(rest: str, keep: int = 16) -> str:
    """A heading line's heading as quoted in a finding: up to its first stop; when longer than ``keep``,
    its first clause (or 16 characters and …)."""
    head = re.split(r"[。：:！？；]", rest, maxsplit=1)[0]
    if len(head) > keep:
        comma = head.find("，")
        head = head[:comma] if 2 <= comma <= 16 else head[:16] + "…"
    return head


def _facts(text: str) -> list[Fact]:
    return [f for f in facts_of(text, extract_figures(text))
            if informative(f.indicator) and not f.direction and not f.base and f.figure.unit != "%"
            and f.figure.high is None]


@lru_cache(maxsize=65_536)
def _same_indicator(a: str, b: str) -> bool:
    return similarity(a, b) >= SAME


def _comparable(a: Fact, b: Fact) -> bool:
    periods = {a.period, b.period}
    return (a.figure.unit == b.figure.unit and (len(periods) == 1 or periods == {"", "本年"})
            and _same_indicator(a.indicator, b.indicator))


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def _fmt(value: float, unit: str) -> str:
    return f"{value:,.10g}{unit}".replace(",", "")


# --------------------------------------------------------------------------------------------


def _parents(parts: list[Part]) -> list[int | None]:
    """For each part, the index of the level-1 part it sits under (None for a level-1 part)."""
    out: list[int | None] = []
    head: int | None = None
    for i, p in enumerate(parts):
        if p.level == 1:
            head = i
            out.append(None)
        else:
            out.append(head)
    return out


def _same_figure(parts: list[Part], facts: list[list[Fact]], parents: list[int | None]) -> list[CrossFinding]:
    out: list[CrossFinding] = []
    seen: set[tuple[str, str, str]] = set()
    for i in range(len(parts)):
        for j in range(i + 1, len(parts)):
            if parents[j] == i:  # a 总述 and a part below it: the total check's business
                continue
            for a in facts[i]:
                for b in facts[j]:
                    if not _comparable(a, b) or _close(a.figure.value, b.figure.value):
                        continue
                    if a.qualifiers != b.qualifiers and (a.qualifiers or b.qualifiers):
                        continue  # 超过1200套 and 1250套 may both be true
                    shared = parents[i] if parents[i] is not None and parents[i] == parents[j] else None
                    if shared is not None and any(_comparable(a, t) for t in facts[shared]):
                        continue  # parts of a total their 总述 states: the total check's business
                    key = (a.indicator, parts[i].heading, parts[j].heading)
                    if key in seen:
                        continue
                    seen.add(key)
                    out.append(CrossFinding(
                        "figure",
                        f"“{a.indicator}”在{_name(parts[i].heading)}写作{a.figure.raw}，在{_name(parts[j].heading)}"
                        f"写作{b.figure.raw}，同一数字前后不一致。请核实后统一；若确是两个口径，请在句中写明区别。",
                        [parts[i].heading, parts[j].heading]))
    return out


def _totals(parts: list[Part], facts: list[list[Fact]], parents: list[int | None]) -> list[CrossFinding]:
    out: list[CrossFinding] = []
    for i, p in enumerate(parts):
        if p.level != 1:
            continue
        kids = [j for j, par in enumerate(parents) if par == i]
        for total in facts[i]:
            found = [(j, b) for j in kids for b in facts[j] if _comparable(total, b)]
            if not found:
                continue
            values = [b.figure.value for _j, b in found]
            whole = sum(values)
            t = total.figure.value
            q = total.qualifiers
            if "MORE" in q:
                ok = whole >= t or any(v >= t for v in values)
            elif "LESS" in q:
                ok = whole <= t or any(v <= t for v in values)
            elif q & {"ABOUT", "NEAR"}:
                ok = any(abs(x - t) <= _ABOUT * t for x in [whole, *values])
            else:
                ok = _close(whole, t) or any(_close(v, t) for v in values)
            if ok:
                continue
            listed = "＋".join(f"{_name(parts[j].heading)}{b.figure.raw}" for j, b in found)
            out.append(CrossFinding(
                "total",
                f"{_name(p.heading)}的总述写“{total.indicator}”{total.figure.raw}，下文各节写的是{listed}"
                f"（合计{_fmt(whole, total.figure.unit)}），两者对不上。请核实总述的数字，"
                "或补上下文漏写的部分。",
                [p.heading, *(parts[j].heading for j, _b in found)]))
    return out


def _numbering(parts: list[Part]) -> list[CrossFinding]:
    out: list[CrossFinding] = []
    counters = [0, 0, 0, 0, 0]
    for p in parts:
        for k, line in enumerate([p.heading, *p.text.split("\n")]):
            level, marker, rest = split_marker(line)
            if not level:
                continue
            head = _head(rest)
            if k and level <= 2:  # the outline's levels inside a section's text
                out.append(CrossFinding(
                    "numbering",
                    f"{_name(p.heading)}的正文里有提纲级别的标题“{marker}{head}”，整篇的序号会因此错乱。"
                    "请把它作为提纲的一项添加（在“提纲”里），或删去这个序号。",
                    [p.heading]))
                continue
            digits = "".join(ch for ch in marker if ch.isdigit())
            n = int(digits) if digits else (cn_to_int(marker.strip("（()）、")) or 0)
            expected = counters[level] + 1
            if n and n != expected:
                out.append(CrossFinding(
                    "numbering",
                    f"标题序号不连续：“{marker}{head}”（在{_name(p.heading)}）"
                    f"应为“{number(level, expected)}”。"
                    "请改正这一处的序号。",
                    [p.heading]))
            counters[level] = n or expected
            for deeper in range(level + 1, len(counters)):
                counters[deeper] = 0
    return out


def check_document(parts: list[Part]) -> list[CrossFinding]:
    """All cross-section findings of a document's parts, in document order of the checks above."""
    facts = [_facts(p.text) for p in parts]
    parents = _parents(parts)
    return [*_same_figure(parts, facts, parents), *_numbering(parts), *_totals(parts, facts, parents)]

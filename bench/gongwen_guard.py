"""A Python port of gongwen's AI-rewrite fact guard, for bench/guard.py to measure beside ours.

Source: billowsand/gongwen, ``src/ai_guard.rs`` (read at commits 18c8406b7587 and 697b3bd2db9f; the
extraction and comparison are the same in both, the first adds ``{{公文:…}}`` reference markers and a
``compare_key_facts_precise`` variant without the organisation-name heuristic).  gongwen checks a
rewrite against its original: it extracts a *set* of "key facts" from each text and reports every
fact present in one set and not in the other, as 被删除 (removed) or 被新增 (added).  Nothing is
normalised: ``10万元`` and ``100000元`` are different facts, and a fact that occurs twice counts once.

What it extracts, in this order (``extract_facts``):

* ``Document`` — each ``{{公文:ID}}`` reference marker (as ``公文引用:ID``);
* ``Unit`` / ``Person`` — each vocabulary entry (canonical name) found verbatim in the text;
* ``DateTime`` — ``2026年8月21日`` (optionally ``（星期五）``), ``8月21日``, ``9:30`` / ``9：30``;
* ``Number`` — ``12.5%``; a number with optional 万/亿 and one of 元 人 户 家 个 项 件 份 次 场 名 套
  公里 千米 平方米 亩 吨 天 日 月 年; or any four digits starting with 1 or 2 (``[12]\\d{3}``);
* ``Document`` — a ``《…》`` title of 2 to 80 characters;
* ``Unit`` (only in ``compare_key_facts``, not in ``compare_key_facts_precise``) — a greedy run of 2
  to 24 Han characters ending in an organisation suffix (委员会 人民政府 办公室 … 局 处 科 中心 公司 …).

Ported exactly: the four regular expressions (Rust's ``regex`` ``\\d`` is Unicode, as Python's is;
``\\p{Han}``, which Python's ``re`` lacks, is spelled as the Han ranges of Unicode), leftmost-first
non-overlapping matching, set semantics and the removed/added difference.

Not ported: the snapshot expansion of ``{{公文:ID}}`` markers into ``《title》（number）`` (it needs
the document's ``<!-- gongwen-reference … -->`` JSON definitions; the markers themselves are ported
as facts and definition lines are dropped, as ``expanded`` does), the Markdown code/math spans in
which gongwen ignores markers, and the user's vocabulary (a ``vocabulary`` argument is accepted; the
bench passes none, as gongwen's own test does).

gongwen is MIT-licensed, Copyright (c) 2026 Gongwen Assistant contributors; the four regular
expressions below are theirs, translated to Python's ``re``.  This file is a measuring instrument for
bench/guard.py and is not imported by the ``drafting`` package.
"""

from __future__ import annotations

import re

__all__ = ["check", "extract_facts"]

# \p{Han}: the Unicode Han script (CJK ideographs and extensions, radicals, 々 〇 〡-〩 〸-〻)
_HAN = (
    "\u2e80-\u2e99\u2e9b-\u2ef3\u2f00-\u2fd5\u3005\u3007\u3021-\u3029\u3038-\u303b"
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufa6d\ufa70-\ufad9\U00020000-\U0003134f"
)
_DATETIME = re.compile(
    r"(?:[12]\d{3}年(?:1[0-2]|0?[1-9])月(?:3[01]|[12]\d|0?[1-9])日(?:（星期[一二三四五六日天]）)?"
    r"|(?:1[0-2]|0?[1-9])月(?:3[01]|[12]\d|0?[1-9])日|(?:[01]?\d|2[0-3])[:：][0-5]\d)"
)
_NUMBER = re.compile(
    r"(?:\d+(?:\.\d+)?%|\d+(?:\.\d+)?(?:万|亿)?(?:元|人|户|家|个|项|件|份|次|场|名|套|公里|千米|平方米|亩|吨|天|日|月|年)"
    r"|[12]\d{3})"
)
_DOCUMENT = re.compile(r"《[^》\r\n]{2,80}》")
_UNIT = re.compile(
    "[" + _HAN + "]{2,24}(?:委员会|人民政府|办公室|工作组|领导小组|管理局|分局|厅|局|处|科|中心|公司|集团|"
        "学院|学校)"
)
_PREFIX = "{{公文:"
_DEFINITION = "<!-- gongwen-reference "

# FactKind in declaration order (Rust derives Ord from it: the BTreeSet sorts by kind, then value)
_KINDS = ("unit", "person", "datetime", "number", "document")


def _occurrences(text: str) -> list[str]:
    """IDs of ``{{公文:ID}}`` markers outside definition lines (code/math spans not special-cased)."""
    ids = []
    for line in text.splitlines(keepends=True):
        if line.lstrip().startswith(_DEFINITION):
            continue
        i = line.find(_PREFIX)
        while i >= 0:
            rest = line[i:]
            end = rest.find("}}")
            end = end + 2 if end >= 0 else len(rest.rstrip("\r\n"))
            ids.append(rest[len(_PREFIX) : end].removesuffix("}}"))
            i = line.find(_PREFIX, i + end)
    return ids


def extract_facts(
    text: str, vocabulary: list[tuple[str, str]] | None = None, *, heuristic_units: bool = True
) -> set[tuple[str, str]]:
    """gongwen's ``extract_facts``: the set of (kind, value).  ``vocabulary``: (``unit``|``person``, name)."""
    out: set[tuple[str, str]] = {("document", f"公文引用:{i}") for i in _occurrences(text)}
    text = "".join(line for line in text.splitlines(keepends=True)
                   if not line.strip().startswith(_DEFINITION))
    for category, canonical in vocabulary or []:
        canonical = canonical.strip()
        if canonical and canonical in text:
            out.add(("unit" if category == "unit" else "person", canonical))
    for kind, pattern in (("datetime", _DATETIME), ("number", _NUMBER), ("document", _DOCUMENT)):
        out.update((kind, m.group()) for m in pattern.finditer(text))
    if heuristic_units:
        out.update(("unit", m.group()) for m in _UNIT.finditer(text))
    return out


def _sorted(facts: set[tuple[str, str]]) -> list[tuple[str, str]]:
    return sorted(facts, key=lambda f: (_KINDS.index(f[0]), f[1].encode("utf-8")))


def check(
    original: str,
    rewritten: str,
    vocabulary: list[tuple[str, str]] | None = None,
    *,
    precise: bool = False,
) -> list[tuple[str, str]]:
    """gongwen's ``compare_key_facts`` (``precise=True``: ``compare_key_facts_precise``).

    Returns ``(kind, text)`` findings, ``kind`` being ``removed/<fact kind>`` or ``added/<fact kind>``
    (fact kinds: unit, person, datetime, number, document), removed first, as gongwen orders them.
    """
    before = extract_facts(original, vocabulary, heuristic_units=not precise)
    after = extract_facts(rewritten, vocabulary, heuristic_units=not precise)
    return [(f"removed/{k}", v) for k, v in _sorted(before - after)] + [
        (f"added/{k}", v) for k, v in _sorted(after - before)
    ]

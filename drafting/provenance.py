"""Provenance: where each fact a draft may contain was given — and nothing else counts.

A draft's figures may come from three places only (PRODUCT.md, "The only source"):

* what the writer gave: the heading (``标题``), each bullet (``要点N``, 1-based) and each figure-table
  row (``数字表第N行``): :meth:`drafting.drafter.DraftRequest.sources`;
* what the writer typed into the editor (``你的修改``): each saved ``edit`` version is diffed
  (:func:`drafting.history.diff_versions`) against the engine text it was made on — the last
  ``draft``/``refine``/``partial``/``restore`` version of the section — and every figure the edit
  touched that was *not* already in that engine text becomes a source.  A figure moved or retyped
  from the engine text stays what it was;
* what the writer explicitly confirmed with 确认 on a flagged figure (``你的确认``), stored in the
  history's ``confirmations`` table.

A refinement, a chat turn, a polish suggestion, a restore or an export adds nothing here, so none
of them can turn a flagged figure green.  The heading, edits and confirmations allow figures but
never require them: :func:`settle` drops them from ``missing``.

A session that starts from pasted text (no engine output yet) takes that first text as the text to
check, not as an edit: pasting a draft in to have it checked does not vouch for its figures.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from typing import Any

from drafting.guard import Figure, GuardReport, Source, extract_figures, same_value
from drafting.history import diff_versions

__all__ = [
    "CONFIRMED",
    "EDIT",
    "ENGINE_KINDS",
    "HEADING",
    "bullet_label",
    "confirmation_sources",
    "edit_sources",
    "figure_context",
    "row_label",
    "session_sources",
    "settle",
]

HEADING = "标题"
EDIT = "你的修改"
CONFIRMED = "你的确认"
OPTIONAL = frozenset({HEADING, EDIT, CONFIRMED})  # allow a figure, never require it
ENGINE_KINDS = frozenset({"draft", "refine", "partial", "restore"})  # versions the writer did not type
_CLAUSE_ENDS = set("。！？；;!?\n，,、：:（）()")


def bullet_label(n: int) -> str:
    return f"要点{n}"


def row_label(n: int) -> str:
    return f"数字表第{n}行"


def figure_context(text: str, start: int, end: int, figures: Sequence[Figure] = ()) -> str:
    """``text[start:end]`` with the words of its clause around it (what it counts, its direction and
    qualifier), stopping at a clause mark and never reaching into a neighbouring figure."""
    others = [
        f for f in figures if f.start is not None and f.end is not None and (f.start, f.end) != (start, end)
    ]
    left = max([f.end for f in others if f.end is not None and f.end <= start] + [0])
    right = min([f.start for f in others if f.start is not None and f.start >= end] + [len(text)])
    a = start
    while a > left and text[a - 1] not in _CLAUSE_ENDS:
        a -= 1
    b = end
    while b < right and text[b] not in _CLAUSE_ENDS:
        b += 1
    return text[a:b].strip()


def _changed_spans(before: str, after: str) -> list[tuple[int, int]]:
    """Where ``after`` differs from ``before``: inserted text as (start, end), a deletion as (pos, pos)."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for op, piece in diff_versions(before, after):
        if op == "equal":
            pos += len(piece)
        elif op == "insert":
            spans.append((pos, pos + len(piece)))
            pos += len(piece)
        else:
            spans.append((pos, pos))
    return spans


def _touched(f: Figure, spans: Iterable[tuple[int, int]]) -> bool:
    assert f.start is not None and f.end is not None
    start, end = f.start, f.end
    return any((a < b and a < end and start < b) or (a == b and start <= a <= end) for a, b in spans)


def edit_sources(engine_text: str, edited: str) -> list[Source]:
    """``你的修改`` sources: each figure of ``edited`` that the writer's changes touched and that
    ``engine_text`` did not already hold, with its clause (one source per figure)."""
    if edited == engine_text:
        return []
    spans = _changed_spans(engine_text, edited)
    before = extract_figures(engine_text)
    after = [f for f in extract_figures(edited) if f.start is not None and f.end is not None]
    out: list[Source] = []
    for f in after:
        if _touched(f, spans) and not any(same_value(f, g) for g in before):
            out.append(Source(EDIT, figure_context(edited, f.start or 0, f.end or 0, after) or f.raw))
    return out


def session_sources(versions: Iterable[Any], pending: str | None = None) -> list[Source]:
    """The writer's edits over one section's saved versions (any order; ``.id``, ``.kind``, ``.text``),
    plus ``pending``: editor text not saved yet, diffed against the last engine text."""
    engine_text: str | None = None
    out: list[Source] = []
    for v in sorted(versions, key=lambda v: v.id):
        if v.kind in ENGINE_KINDS:
            engine_text = v.text
        elif engine_text is None:
            engine_text = v.text  # pasted text to check: what is checked, not an edit
        else:
            out += edit_sources(engine_text, v.text)
    if pending is not None and engine_text is not None:
        out += edit_sources(engine_text, pending)
    return _unique(out)


def confirmation_sources(confirmations: Iterable[Any]) -> list[Source]:
    """``你的确认`` sources from the history's confirmations (``.context`` or ``.figure``)."""
    return _unique([Source(CONFIRMED, c.context or c.figure) for c in confirmations])


def _unique(sources: list[Source]) -> list[Source]:
    return list(dict.fromkeys(sources))  # first occurrence of each, in order


def settle(report: GuardReport) -> GuardReport:
    """The report with figures given only by the heading, an edit or a confirmation no longer
    required: they leave ``missing`` (and ``provided``, since they are not in the draft)."""
    gone = [f for f in report.missing if f.source in OPTIONAL]
    if not gone:
        return report
    keys = {(f.raw, f.source) for f in gone}
    return dataclasses.replace(
        report,
        missing=[f for f in report.missing if f.source not in OPTIONAL],
        provided=[f for f in report.provided if (f.raw, f.source) not in keys],
    )

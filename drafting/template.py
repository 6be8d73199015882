"""套写: a past section's structure and wording, refilled with this year's figures.

Shared by the offline engine (``drafting draft --from DOC_ID[:HEADING]``, the 起草 tab) and by
polish's corpus suggestions.  The rules:

1. The writer picks a past section (:func:`past_section`), or accepts the best same-topic match of
   the same series that retrieval proposes (:func:`propose_past`).
2. Its structure and wording are kept.
3. Each old figure (a number, or a ``*`` mask of the seed reports) is replaced by the writer's
   figure for the same indicator and unit (:func:`drafting.facts.similarity` of the words before
   each); an old figure with no match becomes 【待补充】 with its unit kept.  Any other old number
   (a year, an ordinal) becomes 【待补充】 too: no old figure survives unmarked.
4. Every inherited specific claim – a ranking (its number gapped), a superlative or "first" claim,
   a cited document, a quoted name – is listed as 沿用往年表述，请核实.
5. Each of the writer's notes whose figures were not all placed is added after the section as a
   sentence of its own and listed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from drafting.facts import facts_of, informative, similarity
from drafting.numerals import CN_NUMERAL_CHARS
from drafting.quantities import (
    digit_runs,
    extract_citations,
    extract_claims,
    extract_figures,
    extract_ranks,
    extract_sessions,
)
from drafting.seam import Borrowed, Composition, DraftTask, PastSection, Piece

GAP = "【待补充】"
# indicator similarity (the fact guard's own threshold) at which a writer's figure "is" an old one
MATCH = 0.6
# bigrams too common in figure sentences to say what a sentence is about (was _COMMON / _GENERIC)
GENERIC = frozenset({"完成", "同比", "比增", "增长", "累计", "共计", "其中", "全年", "全市", "以上", "达到"})
_CLAUSE_STOP = re.compile(r"[，。；、：,;:（）()]")
_QUOTED = re.compile(r"“[^”\n]{2,24}”")
INHERITED_NOTE = "沿用往年表述，请核实"


def bigrams(text: str) -> set[str]:
    chars = [c for c in text if "\u4e00" <= c <= "\u9fff"]
    return {chars[i] + chars[i + 1] for i in range(len(chars) - 1)}


def clause_before(text: str, start: int) -> str:
    """The words just before a figure, back to the previous punctuation: what it counts."""
    return _CLAUSE_STOP.split(text[:start])[-1][-10:]


def related(a: str, b: str, threshold: float = 0.5) -> bool:
    """Two clauses name the same thing: their bigrams (generic ones aside) overlap enough."""
    x, y = bigrams(a) - GENERIC, bigrams(b) - GENERIC
    if not x or not y:
        return False
    return len(x & y) / min(len(x), len(y)) >= threshold


def gapped(raw: str) -> str:
    """An old figure with its number replaced by 【待补充】, its words kept: ``*.**万个`` →
    ``【待补充】万个``,
    ``四年`` → ``【待补充】年``, ``翻一番`` → ``翻【待补充】番``."""
    runs = digit_runs(raw)
    if runs:
        return raw[: runs[0][0]].rstrip("*＊") + GAP + raw[runs[-1][1]:]
    idx = ([i for i, ch in enumerate(raw) if ch in "*＊"]
        or [i for i, ch in enumerate(raw) if ch in CN_NUMERAL_CHARS])
    if not idx:
        return GAP
    return raw[: idx[0]] + GAP + raw[idx[-1] + 1:].lstrip("点.．*＊0123456789")


def slots(text: str) -> list[dict[str, Any]]:
    """Every old figure and ``*`` mask of ``text`` with what its clause says about it.

    The masks are read as figures by putting a 1 in place of each ``*`` (same length, so the offsets
    hold); :func:`drafting.facts.facts_of` then gives each slot its indicator, qualifiers (以上, 近,
    突破…), direction and period, which a writer's figure must share to fill it.
    """
    probe = "".join("1" if ch in "*＊" else ch for ch in text)
    figs = [f for f in extract_figures(probe) if f.start is not None and f.end is not None]
    out: list[dict[str, Any]] = []
    for fact in facts_of(probe, figs):
        f = fact.figure
        assert f.start is not None and f.end is not None
        out.append({"start": f.start, "end": f.end, "raw": text[f.start:f.end], "unit": f.unit,
                    "gapped": gapped(text[f.start:f.end]),
                    "indicator": fact.indicator if informative(fact.indicator)
                    else clause_before(text, f.start),
                    "clause": clause_before(text, f.start), "fact": fact})
    return out


def writer_figures(notes: Sequence[str]) -> list[dict[str, Any]]:
    out = []
    for i, note in enumerate(notes):
        figs = [f for f in extract_figures(note) if f.start is not None]
        for fact in facts_of(note, figs):
            f = fact.figure
            out.append({"note": i, "raw": f.raw, "unit": f.unit, "value": f.value,
                        "indicator": fact.indicator if informative(fact.indicator)
                        else clause_before(note, f.start or 0),
                        "clause": clause_before(note, f.start or 0), "fact": fact})
    return out


def _match(old: dict[str, Any], mine: dict[str, Any]) -> float:
    """How far a writer's figure counts what an old slot counted: the indicators' similarity; when an
    indicator was inherited from the figure before it (增长*% after 完成投资*亿元), the words just
    before each must also name the same thing (generic words such as 增长 aside)."""
    score = similarity(old["indicator"], mine["indicator"])
    if old["fact"].inherited or mine["fact"].inherited:
        return score if related(old["clause"], mine["clause"]) else 0.0
    return score


def fits(old: dict[str, Any], mine: dict[str, Any]) -> bool:
    """A writer's figure may fill an old slot: same unit, qualifiers, direction and (stated) period."""
    a, b = old["fact"], mine["fact"]
    if old["unit"] != mine["unit"] or a.qualifiers != b.qualifiers:
        return False
    # period and base must be the same, stated or not: a bare figure does not fill 全年… or 比…年增加
    return a.direction == b.direction and a.period == b.period and a.base == b.base


def fill(old: str, notes: Sequence[str], *, whole_notes: bool = True, match: float = MATCH
         ) -> tuple[list[Piece], set[int], list[str]]:
    """The old text as pieces with each slot refilled; (pieces, indexes of writer figures placed, inherited).

    ``whole_notes``: a note is placed whole or not at all (套写, where unplaced notes are added after
    the section); polish, which rewrites one sentence and flags what changed, places figures singly.
    """
    olds = slots(old)
    mine = writer_figures(notes)
    scored = sorted(
        ((_match(o, w), oi, wi)
         for oi, o in enumerate(olds) for wi, w in enumerate(mine) if fits(o, w)),
        key=lambda t: (-t[0], t[1], t[2]),  # the best match first; of equals, the first slot
    )
    pick: dict[int, int] = {}
    for score, oi, wi in scored:
        if score < match:
            break
        if oi not in pick and wi not in pick.values():
            pick[oi] = wi
    # a note is placed whole or not at all: one whose figures did not all find a slot is added after
    # the section, so none of its figures may also stand in a slot (a figure written twice)
    placed_w = set(pick.values())
    partial = {w["note"] for wi, w in enumerate(mine) if wi not in placed_w}
    # a ranking has no slot: the note is added whole
    partial |= {i for i, n in enumerate(notes) if extract_ranks(n)}
    if whole_notes:
        pick = {oi: wi for oi, wi in pick.items() if mine[wi]["note"] not in partial}
    edits: list[tuple[int, int, Piece]] = []
    for oi, o in enumerate(olds):
        if oi in pick:
            edits.append((o["start"], o["end"], Piece(mine[pick[oi]]["raw"], "bullet")))
        else:
            edits.append((o["start"], o["end"], Piece(o["gapped"], "gap")))
    inherited: list[str] = []
    for r in extract_ranks(old):
        inherited.append(r.raw)
        if not any(s < r.end and r.start < e for s, e, _p in edits):
            gapped = re.sub(r"第[^位名个]{1,4}", "第" + GAP, r.raw, count=1)
            edits.append((r.start, r.end, Piece(gapped, "gap" if gapped != r.raw else "template")))
    for m in extract_sessions(old):  # 市一届人大四次会议: the session is last year's
        inherited.append(m.raw)
        if not any(s < m.end and m.start < e for s, e, _p in edits):
            edits.append((m.start, m.end, Piece(GAP, "gap")))
    inherited += [m.raw for m in [*extract_claims(old), *extract_citations(old)]]
    inherited += [m.group() for m in _QUOTED.finditer(old)]
    pieces: list[Piece] = []
    pos = 0
    for s, e, piece in sorted(edits, key=lambda x: x[0]):
        if s < pos:
            continue
        if s > pos:
            pieces += _scrub_piece(old[pos:s], notes)
        pieces.append(piece)
        pos = e
    pieces += _scrub_piece(old[pos:], notes)
    return _gap_leftovers(pieces), set(pick.values()), list(dict.fromkeys(inherited))


def _gap_leftovers(pieces: list[Piece]) -> list[Piece]:
    """Any figure still read in the template's own words (翻一番, in context) becomes 【待补充】 too."""
    text = "".join(p.text for p in pieces)
    starts, pos = [], 0
    for p in pieces:
        starts.append(pos)
        pos += len(p.text)
    cuts: dict[int, list[tuple[int, int, str]]] = {}
    for f in extract_figures(text):
        if f.start is None or f.end is None:
            continue
        for k, p in enumerate(pieces):
            if p.source == "template" and starts[k] <= f.start and f.end <= starts[k] + len(p.text):
                cuts.setdefault(k, []).append((f.start - starts[k], f.end - starts[k], gapped(f.raw)))
    if not cuts:
        return pieces
    out: list[Piece] = []
    for k, p in enumerate(pieces):
        if k not in cuts:
            out.append(p)
            continue
        at = 0
        for a, b, gap in sorted(cuts[k]):
            if a < at:
                continue
            if a > at:
                out.append(Piece(p.text[at:a], "template"))
            out.append(Piece(gap, "gap"))
            at = b
        if at < len(p.text):
            out.append(Piece(p.text[at:], "template"))
    return out


def _bare_masks(text: str) -> list[tuple[int, int, str]]:
    """``*`` runs that :func:`extract_masks` does not take for a figure (``*单位荣获…``): masked all
    the same."""
    out: list[tuple[int, int, str]] = []
    i = 0
    while i < len(text):
        if text[i] in "*＊":
            j = i
            while j < len(text) and (text[j] in "*＊"
                                     or (text[j] in ".．" and j + 1 < len(text) and text[j + 1] in "*＊")):
                j += 1
            out.append((i, j, "*"))
            i = j
        else:
            i += 1
    return out


def _scrub_piece(text: str, notes: Sequence[str]) -> list[Piece]:
    """Template text with every leftover number (a year, an ordinal) or mask the writer did not
    give gapped."""
    allowed = {v for _s, _e, v in digit_runs("\n".join(notes))}
    out: list[Piece] = []
    pos = 0
    for s, e, v in sorted([*digit_runs(text), *_bare_masks(text)]):
        if v in allowed or s < pos:
            continue
        if s > pos:
            out.append(Piece(text[pos:s], "template"))
        out.append(Piece(GAP, "gap"))
        pos = e
    if pos < len(text):
        out.append(Piece(text[pos:], "template"))
    return out


def body_of(section_text: str) -> str:
    """A section's text without its heading lines and with its paragraphs run together."""
    from drafting.headings import heading_level

    lines = [ln.strip() for ln in section_text.splitlines() if ln.strip()]
    while lines and heading_level(lines[0]) and len(lines[0]) <= 40:
        lines.pop(0)
    return "".join(lines)


def compose_from_past(task: DraftTask) -> Composition:
    """The offline 套写 draft (see the module docstring)."""
    from drafting.compose import finish, tidy

    assert task.past is not None
    notes = [t for t in (tidy(b) for b in [*task.bullets, *task.rows]) if t]
    pieces, placed, inherited = fill(body_of(task.past.text), notes)
    mine = writer_figures(notes)
    has_figs = {w["note"] for w in mine}
    left = [n for i, n in enumerate(notes) if i not in has_figs or _unplaced(i, mine, placed)]
    extra: list[str] = []
    if left:
        body = "".join(p.text for p in pieces).rstrip()
        if body and body[-1] not in "。！？；":
            pieces.append(Piece("。", "connective"))
        pieces.append(Piece("此外，", "connective"))
        for k, n in enumerate(left):
            pieces += [Piece(n, "bullet"), Piece("；" if k < len(left) - 1 else "。", "connective")]
        extra.append("以下要点在往年段落里没有对应的数字，已另起成句放在段末，请调整位置：" + "；".join(left)
                     + "。")
    if any(p.source == "gap" for p in pieces):
        extra.append("往年段落里没有对应新数字的地方已写成【待补充】，请补上今年的数字或删去。")
    if inherited:
        extra.append(f"{INHERITED_NOTE}：" + "、".join(inherited[:12]) + "。")
    comp = finish(task, pieces, extra)
    comp.inherited = inherited
    p = task.past
    comp.borrowed = [Borrowed(p.hit, p.doc_id, p.title, list(p.heading_path), p.text[:200],
                              [1 if comp.text.count("\n") else 0])]
    return comp


def _unplaced(i: int, mine: list[dict[str, Any]], placed: set[int]) -> bool:
    return any(w["note"] == i and wi not in placed for wi, w in enumerate(mine))


# ---- choosing the past section -------------------------------------------------------------------
def _section_rows(store: Any, doc_id: str) -> list[tuple[list[str], str, str, int]]:
    from drafting.store import chunk_from_row

    rows = [chunk_from_row(i, t or "", m)
            for i, t, m in store.iter_rows(["documents", "metadatas"], {"doc_id": doc_id})]
    rows.sort(key=lambda c: c.position)
    grouped: dict[tuple[str, ...], list[Any]] = {}
    for c in rows:
        grouped.setdefault(tuple(c.heading_path), []).append(c)
    return [(list(k), "\n".join(c.text for c in v), v[0].title, v[0].position) for k, v in grouped.items()]


def past_section(store: Any, spec: str, heading: str = "", bullets: Sequence[str] = ()) -> PastSection:
    """The section ``DOC_ID[:HEADING]`` of the store; without a heading, the one closest to the request."""
    from drafting.errors import InputError

    doc_id, _, want = spec.partition(":")
    doc_id, want = doc_id.strip(), want.strip()
    sections = _section_rows(store, doc_id) if doc_id else []
    if not sections:
        raise InputError(f"语料库里没有编号为“{doc_id}”的文档。请用 drafting docs list 查看文档编号后再试。")
    if want:
        found = ([s for s in sections if s[0] and want in s[0][-1]]
            or [s for s in sections if any(want in h for h in s[0])])
        if not found:
            names = "、".join(dict.fromkeys(s[0][-1] for s in sections if s[0]))[:300]
            raise InputError(f"文档“{sections[0][2]}”里没有标题含“{want}”的一节。可选的标题有：{names}")
        path, text, title, _pos = found[0]
    else:
        probe = bigrams(heading + "".join(bullets))
        path, text, title, _pos = max(sections, key=lambda s: len(probe & bigrams(" ".join(s[0]) + s[1])))
    return PastSection(doc_id, title, path, text)


def propose_past(hits: Sequence[Any], region: str = "") -> PastSection | None:
    """The best same-series hit (same issuer when ``region`` is given) as a past section, or None."""
    for h in hits:
        if region and h.chunk.issuer != region:
            continue
        return PastSection(h.chunk.doc_id, h.chunk.title, list(h.chunk.heading_path), h.chunk.text, h)
    return None

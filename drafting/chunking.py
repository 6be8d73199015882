"""Chunking: parsed sections → token-bounded :class:`~drafting.records.Chunk` records, and the doc id.

* A section with an empty body whose path is a prefix of the next section's path is skipped (its
  heading is in the next path).
* Tiny sections (body < ``min_chars``) join the previous chunk when both sit under the same
  level-1 heading and the result fits; otherwise they start a chunk that the following section
  joins if it fits.  A chunk keeps the heading path of its first section; the headings of the
  sections that joined it are written into its text on their own line, so no heading is lost.
* The token budget for a chunk's text is ``max_tokens`` minus the tokens of its heading path
  (never below ``max_tokens // 2``), so text plus headings fit together.  A section over budget is
  cut at sentence boundaries (:func:`~drafting.sentences.split_sentences`), packed greedily and
  then evened out to the same number of pieces; a sentence over budget is cut at ，/、; a clause
  over budget at the largest character prefix that fits (the only "unavoidable" case).  Every
  piece made of several units is re-counted with the real tokenizer (joining can add a token) and
  halved if it is over.
* Chunk text is body text; an all-heading chunk gets its innermost heading as text.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from .figures import chunk_figures
from .records import Chunk, ParsedDoc, Section
from .sentences import WS, sentence_spans
from .tokens import count_tokens_batch, encoding

__all__ = ["chunk_document", "doc_id_for"]

_WS_RE = re.compile(r"\s+")


def doc_id_for(text: str) -> str:
    """Content hash: sha256 of the whitespace-collapsed text, first 16 hex chars."""
    norm = _WS_RE.sub(" ", text).strip()
    return hashlib.sha256(norm.encode("utf-8")).hexdigest()[:16]


_BIG = 1 << 30  # "not counted, surely over budget"


def _count(texts: list[str]) -> list[int]:
    """Exact cl100k token counts (same numbers as :func:`drafting.tokens.count_tokens`)."""
    if not texts:
        return []
    if len(texts) >= 256:
        return count_tokens_batch(texts)
    enc = encoding()
    return [len(enc.encode_ordinary(t)) for t in texts]


@dataclass
class _Group:
    path: list[str]
    parts: list[str]  # joined with "\n" into the chunk text
    last_path: list[str]
    estimate: int  # upper-bound-ish token estimate of the joined parts
    body_chars: int


def _inline_headers(prev_path: list[str], path: list[str]) -> list[str]:
    """Headings of ``path`` that ``prev_path`` does not share (written into a merged chunk)."""
    common = 0
    for a, c in zip(prev_path, path, strict=False):
        if a != c:
            break
        common += 1
    return path[common:]


def _clause_spans(text: str, a: int, b: int) -> list[tuple[int, int]]:
    spans = []
    start = a
    for m in re.finditer(r"[，,、]", text[a:b]):
        cut = a + m.end()
        spans.append((start, cut))
        start = cut
    if start < b:
        spans.append((start, b))
    return spans


def _pack(counts: list[int], budget: int) -> list[tuple[int, int]]:
    """Greedy runs [i, j) of consecutive units whose summed counts fit (a lone oversize unit stays)."""
    runs: list[tuple[int, int]] = []
    start, total = 0, 0
    for i, c in enumerate(counts):
        if i > start and total + c > budget:
            runs.append((start, i))
            start, total = i, 0
        total += c
    if counts:
        runs.append((start, len(counts)))
    return runs


_HARD_SPLIT_CHARS_PER_TOKEN = 8  # a generous bound: cl100k averages ~1 char per token for Chinese


def _hard_split(text: str, budget: int) -> list[str]:
    """Largest character prefixes that fit (the unavoidable case: one clause over budget)."""
    enc = encoding()
    out: list[str] = []
    rest = text
    while rest:
        # Only a window of the rest is searched, so a huge unbroken line costs linear time, not
        # quadratic; a piece cut shorter than it could be still fits and loses nothing.
        window = rest[: budget * _HARD_SPLIT_CHARS_PER_TOKEN]
        if len(window) == len(rest) and len(enc.encode_ordinary(rest)) <= budget:
            out.append(rest)
            break
        lo, hi = 1, len(window)
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if len(enc.encode_ordinary(window[:mid])) <= budget:
                lo = mid
            else:
                hi = mid - 1
        out.append(rest[:lo])
        rest = rest[lo:]
    return out


def _split_text(text: str, budget: int) -> list[str]:
    """Cut ``text`` into pieces of at most ``budget`` tokens: sentences, then clauses, then chars.

    Units are packed greedily by their own counts; every piece made of several units is then
    counted as a whole (joining can add a token), and a piece over budget is halved and retried.
    """
    units: list[tuple[int, int]] = []
    counts: list[int] = []
    spans = sentence_spans(text)
    for (a, b), c in zip(spans, _count([text[a:b] for a, b in spans]), strict=True):
        if c <= budget:
            units.append((a, b))
            counts.append(c)
            continue
        clauses = _clause_spans(text, a, b)
        units.extend(clauses)
        counts.extend(_count([text[x:y] for x, y in clauses]) if len(clauses) > 1 else [c])
    return _emit(text, units, counts, budget)


def _balanced_pack(counts: list[int], budget: int) -> list[tuple[int, int]]:
    """Greedy packing, then the same number of runs with sizes evened out (no 340 + 20 splits)."""
    runs = _pack(counts, budget)
    if len(runs) < 2:
        return runs
    target = -(-sum(counts) // len(runs))  # ceil
    for slack in (1.05, 1.15, 1.3):
        even = _pack(counts, min(budget, int(target * slack) + 1))
        if len(even) == len(runs):
            return even
    return runs


def _emit(text: str, units: list[tuple[int, int]], counts: list[int], budget: int) -> list[str]:
    runs = _balanced_pack(counts, budget)
    texts = [text[units[i][0] : units[j - 1][1]].strip(WS) for i, j in runs]
    multi = [k for k, (i, j) in enumerate(runs) if j - i > 1]
    exact = dict(zip(multi, _count([texts[k] for k in multi]), strict=True))
    out: list[str] = []
    for k, ((i, j), piece) in enumerate(zip(runs, texts, strict=True)):
        n = exact.get(k, counts[i])
        if n <= budget:
            if piece:
                out.append(piece)
        elif j - i > 1:  # the join added tokens: halve the run
            mid = (i + j) // 2
            out.extend(_emit(text, units[i:mid], counts[i:mid], budget))
            out.extend(_emit(text, units[mid:j], counts[mid:j], budget))
        else:  # one clause longer than the budget
            out.extend(p for p in _hard_split(piece, budget) if p.strip(WS))
    return out


class _Budget:
    """Token estimates and the text budget of each heading path.

    Exact counts for short strings only: a text with more characters than the budget has (for
    Chinese) more tokens too, and goes straight to the sentence splitter, which counts what it
    keeps.  Over-estimating only means fewer merges, never a chunk over budget.
    """

    def __init__(self, kept: list[Section], max_tokens: int) -> None:
        strings = {s.text.strip() for s in kept} | {h for s in kept for h in s.heading_path}
        short = sorted(t for t in strings if len(t) <= max_tokens)
        self._counted = dict(zip(short, _count(short), strict=True))
        self._max_tokens = max_tokens
        self._paths: dict[tuple[str, ...], int] = {}

    def est(self, text: str) -> int:
        return self._counted.get(text, _BIG)

    def for_path(self, path: list[str]) -> int:
        key = tuple(path)
        if key not in self._paths:
            cost = sum(min(self.est(h), self._max_tokens) + 1 for h in path)
            self._paths[key] = max(self._max_tokens - cost, self._max_tokens // 2, 1)
        return self._paths[key]


def _kept_sections(sections: list[Section]) -> list[Section]:
    """Sections without the empty ones whose heading is in the next section's path."""
    kept: list[Section] = []
    for i, s in enumerate(sections):
        if not s.text.strip() and i + 1 < len(sections):
            nxt = sections[i + 1].heading_path
            if len(nxt) > len(s.heading_path) and nxt[: len(s.heading_path)] == s.heading_path:
                continue
        kept.append(s)
    return kept


def _joined(g: _Group, s: Section, budget: _Budget, min_chars: int) -> bool:
    """Add a tiny section (or one following a tiny chunk) to ``g`` when it fits; whether it did."""
    body = s.text.strip()
    same_top = g.path[:1] == s.heading_path[:1]  # the same level-1 heading, or both in the preamble
    if not same_top or (len(body) >= min_chars and g.body_chars >= min_chars):
        return False
    headers = _inline_headers(g.last_path, s.heading_path)
    add = sum(budget.est(h) + 1 for h in headers) + (budget.est(body) + 1 if body else 0)
    if g.estimate + add > budget.for_path(g.path):
        return False
    g.parts.extend(headers)
    if body:
        g.parts.append(body)
    g.last_path = s.heading_path
    g.estimate += add
    g.body_chars += len(body)
    return True


def _groups(kept: list[Section], budget: _Budget, min_chars: int) -> list[_Group]:
    groups: list[_Group] = []
    for s in kept:
        if groups and _joined(groups[-1], s, budget, min_chars):
            continue
        body = s.text.strip()
        groups.append(
            _Group(
                path=list(s.heading_path),
                parts=[body] if body else [],
                last_path=s.heading_path,
                estimate=budget.est(body) if body else 0,
                body_chars=len(body),
            )
        )
    return groups


def _pieces(groups: list[_Group], budget: _Budget) -> list[tuple[_Group, str]]:
    """Each group's text, cut by :func:`_split_text` when over its path's budget."""
    texts = []
    for g in groups:
        text = "\n".join(g.parts)
        if not text and g.path:  # a lone heading without text
            text = g.path[-1]
        texts.append(text)
    multi = [i for i, g in enumerate(groups) if len(g.parts) > 1 and g.estimate < _BIG]
    exact = dict(zip(multi, _count([texts[i] for i in multi]), strict=True))
    pieces: list[tuple[_Group, str]] = []
    for i, (g, text) in enumerate(zip(groups, texts, strict=True)):
        if not text:
            continue
        limit = budget.for_path(g.path)
        n = exact[i] if i in exact else (budget.est(text) if len(g.parts) <= 1 else _BIG)
        if n <= limit:
            pieces.append((g, text))
        else:
            pieces.extend((g, p) for p in _split_text(text, limit))
    return pieces


def chunk_document(
    parsed: ParsedDoc,
    *,
    doc_id: str,
    source: str,
    max_tokens: int = 360,
    min_chars: int = 40,
) -> list[Chunk]:
    """Token-bounded chunks in document order (rules in the module docstring)."""
    kept = _kept_sections(parsed.sections)
    if not kept:
        return []
    budget = _Budget(kept, max_tokens)
    pieces = _pieces(_groups(kept, budget, min_chars), budget)
    total = len(pieces)
    meta = parsed.meta
    return [
        Chunk(
            chunk_id=f"{doc_id}:{pos:04d}",
            doc_id=doc_id,
            text=text,
            heading_path=list(g.path),
            position=pos,
            n_chunks=total,
            title=meta.title,
            issuer=meta.issuer,
            year=meta.year,
            doc_type=meta.doc_type,
            source=source,
            figures=chunk_figures(text),
        )
        for pos, (g, text) in enumerate(pieces)
    ]

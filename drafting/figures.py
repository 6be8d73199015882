"""Figures for chunk metadata and the docs list: the lexer's figures plus the ``*`` masks.

``chunk_figures`` returns the quantities a drafter may want to reuse or check, exactly as written and
in order of appearance: every figure :func:`drafting.quantities.extract_figures` finds (Arabic and
Chinese numerals, shares in words, ranges) and the masked figures of the redacted seed reports::

    >>> chunk_figures("新增公共停车泊位*.**万个，同比增长8.5%，完成投资3.2亿元，三项制度，2023年9月")
    ['*.**万个', '8.5%', '3.2亿元', '三项']

Years and dates are never figures here (they are dates: :func:`drafting.quantities.extract_dates`).
"""

from __future__ import annotations

from functools import lru_cache

from drafting.quantities import UNITS, Figure, extract_figures, extract_masks

__all__ = ["UNITS", "chunk_figures", "figures_of_chunk"]


@lru_cache(maxsize=8192)
def figures_of_chunk(text: str) -> tuple[Figure, ...]:
    """:func:`extract_figures` of a chunk's text, remembered: an ingest reads each chunk's figures twice
    (here for its metadata, then for the figure ledger).  Treat the figures as read-only; ingest clears
    the cache (``figures_of_chunk.cache_clear()``) when it is done."""
    return tuple(extract_figures(text))


def chunk_figures(text: str) -> list[str]:
    """Figures (and ``*`` masks) with a magnitude and/or unit, as written, in order."""
    found = [(f.start or 0, f.raw) for f in figures_of_chunk(text) if f.unit or f.raw[-1] in "万亿千百"]
    found += [(start, raw) for start, _end, raw in extract_masks(text)]
    return [raw for _start, raw in sorted(found)]

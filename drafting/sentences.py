"""Sentence splitting: 。！？； and newlines, quotes respected; used by chunking, offline, polish and style.

:func:`split_sentences` splits on 。！？； (and ASCII !?;) and newlines, keeping the punctuation with
its sentence.  A terminator inside “…” or 《…》 does not split, unless the quotes on that line are
unbalanced (then the line is split as if there were no quotes).  Blank pieces are dropped; a piece
is stripped of every character in :data:`WS`.
"""

from __future__ import annotations

import re

__all__ = ["WS", "sentence_spans", "split_sentences"]

_TERMINATORS = "。！？；!?;"
_SCAN_RE = re.compile(r"[。！？；!?;\n“”《》]")
_OPEN = {"“": "q", "《": "b"}
_CLOSE = {"”": "q", "》": "b"}
# Every character str.isspace() calls whitespace (so a chunk is never only, say, a \x1f that
# str.strip() would empty), plus the BOM; tests/test_structure.py keeps this list complete.
WS = (" \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
      "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff")


def _line_cuts(text: str, start: int, end: int, quotes: bool) -> list[int]:
    """Cut offsets (just after a terminator run) within text[start:end] (one line)."""
    cuts: list[int] = []
    depth = {"q": 0, "b": 0}
    pos = start
    for m in _SCAN_RE.finditer(text, start, end):
        ch = m.group()
        i = m.start()
        if i < pos:  # already consumed by a terminator run
            continue
        if ch in _OPEN:
            if quotes:
                depth[_OPEN[ch]] += 1
            continue
        if ch in _CLOSE:
            if quotes and depth[_CLOSE[ch]] > 0:
                depth[_CLOSE[ch]] -= 1
            continue
        if quotes and (depth["q"] or depth["b"]):
            continue
        j = i + 1
        while j < end and text[j] in _TERMINATORS:
            j += 1
        cuts.append(j)
        pos = j
    if quotes and (depth["q"] or depth["b"]):
        return _line_cuts(text, start, end, quotes=False)
    return cuts


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of ``text``, blanks trimmed (:func:`split_sentences` cuts these)."""
    spans: list[tuple[int, int]] = []
    n = len(text)
    line_start = 0
    while line_start <= n:
        line_end = text.find("\n", line_start)
        if line_end < 0:
            line_end = n
        prev = line_start
        for cut in [*_line_cuts(text, line_start, line_end, quotes=True), line_end]:
            a, b = prev, cut
            while a < b and text[a] in WS:
                a += 1
            while b > a and text[b - 1] in WS:
                b -= 1
            if a < b:
                spans.append((a, b))
            prev = cut
        line_start = line_end + 1
    return spans


def split_sentences(text: str) -> list[str]:
    """Split on 。！？； (and ASCII !?;) and newlines, keeping the punctuation with its sentence.

    A terminator inside “…” or 《…》 does not split, unless the quotes on that line are
    unbalanced (then the line is split as if there were no quotes).  Blank pieces are dropped.
    """
    return [text[a:b] for a, b in sentence_spans(text)]


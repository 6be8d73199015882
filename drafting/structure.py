"""公文 parsing: text → :class:`~drafting.records.ParsedDoc` (metadata and heading-path sections).

:func:`parse_document` is a pipeline of named passes over the document's lines:

1. :func:`_normalised_lines` – lines stripped (ASCII, full-width and no-break spaces, a Markdown
   ``#`` prefix), and a line holding several ``（一）…。（二）…`` run together split before each
   marker (:func:`~drafting.headings.split_run_together`);
2. :meth:`FrontMatter.find_title <drafting.docmeta.FrontMatter.find_title>` – the title line;
3. :meth:`FrontMatter.find_signatures <drafting.docmeta.FrontMatter.find_signatures>` – date
   and issuer lines anywhere (signature blocks);
4. :func:`_sections` – the body pass: front matter left at the top (salutation, web chrome,
   subtitle, speaker, addressee) dropped, each remaining line a heading or body text
   (:mod:`drafting.headings`);
5. :meth:`FrontMatter.finish <drafting.docmeta.FrontMatter.finish>` – issuer, year and type
   from the title; hints win.

The rules live with each job: front matter and metadata in :mod:`drafting.docmeta`, headings,
inline headings, enumerations and sections in :mod:`drafting.headings`, sentences in
:mod:`drafting.sentences`; chunking the sections is :mod:`drafting.chunking`.
"""

from __future__ import annotations

import re

from .docmeta import FrontMatter
from .headings import (
    HEADING_TRIM,
    SectionBuilder,
    inline_heading,
    is_unnumbered_heading,
    marker,
    split_run_together,
)
from .records import DocMeta, LoadedText, ParsedDoc, Section
from .sentences import WS

__all__ = ["parse_document", "parse_loaded"]

_MD_HEADING_RE = re.compile(r"^#{1,6}\s+")


def _norm_line(line: str) -> str:
    """Strip blanks (ASCII, full-width, no-break, BOM) and a Markdown ``## `` heading prefix."""
    line = line.strip(WS)
    if line.startswith("#"):
        line = _MD_HEADING_RE.sub("", line)
    return line


def _normalised_lines(text: str) -> list[str]:
    return [
        part
        for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        for part in split_run_together(_norm_line(raw))
    ]


def _styled(styled_headings: list[tuple[int, str]] | None) -> tuple[dict[str, int], str]:
    """(styled heading line → level, the styled title) from the loader's styled headings."""
    styled: dict[str, int] = {}
    styled_title = ""
    for level, heading in styled_headings or []:
        h = _norm_line(heading)
        if not h:
            continue
        if level <= 0:
            styled_title = styled_title or h
        else:
            styled.setdefault(h, level)
    return styled, styled_title


def _heading_of(line: str, styled_level: int) -> tuple[int, str, str] | None:
    """(level, heading text, body text) when ``line`` opens a section by marker or style."""
    level, end = marker(line)
    if styled_level:
        return level or styled_level, line.rstrip(HEADING_TRIM) or line, ""
    if level:
        return (level, *inline_heading(line, end))
    return None


def _sections(front: FrontMatter) -> list[Section]:
    """The body pass: every kept line is a heading (opening a section) or body text."""
    b = SectionBuilder()
    at_start, seen_heading = True, False  # before any kept line; after a heading
    prev_kept = ""  # last kept content line (for the unnumbered-heading rule)
    for k, i in enumerate(front.content):
        if i in front.drop:
            continue
        s = front.body_line(front.lines[i], seen_heading=seen_heading, at_start=at_start)
        if s is None:
            continue
        heading = _heading_of(s, front.styled.get(s, 0))
        if heading is None and is_unnumbered_heading(s, prev_kept) and front.more_after(k):
            heading = (1, s, "")
        if heading is None:
            b.add(s)
        else:
            level, head, body = heading
            b.heading(level, head)
            if body:
                b.add(body)
            seen_heading = True
        at_start, prev_kept = False, s
    b.close()
    return b.sections


def parse_document(
    text: str,
    *,
    styled_headings: list[tuple[int, str]] | None = None,
    hints: DocMeta | None = None,
) -> ParsedDoc:
    """Parse a 公文 into metadata and heading-path sections (the passes in the module docstring)."""
    styled, styled_title = _styled(styled_headings)
    front = FrontMatter(_normalised_lines(text), styled=styled, styled_title=styled_title, hints=hints)
    front.find_title()
    front.find_signatures()
    sections = _sections(front)
    return ParsedDoc(meta=front.finish(), sections=sections)


def parse_loaded(loaded: LoadedText, *, hints: DocMeta | None = None) -> ParsedDoc:
    """:func:`parse_document` for a loader's result."""
    return parse_document(loaded.text, styled_headings=loaded.styled_headings or None, hints=hints)

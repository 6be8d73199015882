"""Export a draft or an assembled document to Word (GB/T 9704-2012 layout) and to Markdown.

Word layout (GB/T 9704-2012, the points in ../shared/docs/PRODUCT.md):

* A4; margins top 37 mm, bottom 35 mm, left (binding side) 28 mm, right 26 mm, so the text block is
  156 × 225 mm.  Every paragraph has an exact line spacing of 579 twips (28.95 pt): 22 lines fill
  225 mm (22 × 579 = 12738 ≤ 12756 twips; 580 would leave room for only 21).  ``docGrid`` carries
  the same line pitch; 16 pt runs are condensed by 0.4 pt so that 28 characters fill a line.
* Title 2号 (22 pt) 方正小标宋简体, centred, followed by an empty line.  Body 3号 (16 pt)
  仿宋_GB2312, justified, first line indented two characters.  Heading lines (headings
  :func:`~drafting.headings.heading_level`): ``一、`` 黑体, ``（一）`` 楷体_GB2312, ``1.`` and ``（1）``
  仿宋_GB2312, never bold.  A run-in heading (``（一）强化理论武装。正文…``) styles only the heading
  run.  Fonts are set for East Asian text (``w:rFonts/@w:eastAsia``) as well as Latin; they are
  named, never embedded.
* Signature (7.3.5.1): an empty line, the issuing office, and under it the date (Arabic numerals)
  4 characters from the right margin; the office is centred over the date (both lines right-aligned,
  the office's right indent set so that the centres of the two printed runs coincide, condensing
  included).  An office wider than the date by more than 8 characters reaches the right margin.
* Page numbers 4号 (14 pt) 宋体 ``— N —`` (a PAGE field): odd pages right-aligned one character in
  from the right margin, even pages left-aligned one character in (``w:evenAndOddHeaders``).
"""

from __future__ import annotations

import io
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, Twips
from docx.text.paragraph import Paragraph
from docx.text.run import Run

from .errors import ExportError, ExportNeedsConfirmation
from .headings import heading_level
from .numerals import cn_digits_to_int, cn_to_int

__all__ = ["Section", "build_docx", "normalize_date", "open_problems", "safe_filename", "signature_indents",
           "to_docx", "to_markdown", "write_markdown"]

TITLE_FONT = "方正小标宋简体"
BODY_FONT = "仿宋_GB2312"
LEVEL_FONTS = {1: "黑体", 2: "楷体_GB2312", 3: BODY_FONT, 4: BODY_FONT}
PAGE_NUMBER_FONT = "宋体"
TITLE_PT, BODY_PT, PAGE_NUMBER_PT = 22, 16, 14

PAGE_W_MM, PAGE_H_MM = 210, 297
MARGIN_TOP_MM, MARGIN_BOTTOM_MM, MARGIN_LEFT_MM, MARGIN_RIGHT_MM = 37, 35, 28, 26
LINES_PER_PAGE, CHARS_PER_LINE = 22, 28
LINE_TWIPS = 579  # floor(225 mm / 22) in twips = 28.95 pt
CHAR_TWIPS = BODY_PT * 20  # one body character (3号) for indents
# 28 characters of 16 pt need 448 pt but the text block is 442.2 pt wide: 16 pt runs are condensed by
# 0.4 pt (28 × 15.6 = 436.8 pt; 29 would need 452.4), justification spreads the rest.  Word's
# alternative, a docGrid character pitch, makes LibreOffice give every 16 pt character two grid
# cells (14 characters a line).  A tighter 0.25 pt makes LibreOffice 7.4 drop a 。 or ， hanging at
# the end of a full justified line (seen in the PDF), 0.4 pt does not.
CONDENSE_TWIPS = -8
FOOTER_DISTANCE_MM = 22  # puts the page number about 7 mm under the text block

HEAD_MAX = 40  # a run-in heading ends at a stop within this many characters
_STOPS = "。！？!?：:"
_CLAUSE = "，,；;"
_WS = " \t\r\n\u3000\xa0\ufeff"


@dataclass
class Section:
    """One part of an export: its heading (may be empty) and its text (lines = paragraphs).

    ``problems`` are the section's open checks in Chinese (``DraftResult.reasons()``): an export with
    any of them raises :class:`ExportNeedsConfirmation` unless called with ``confirm=True``.  They are
    never written into the file.
    """

    heading: str
    text: str
    problems: list[str] = field(default_factory=list)


def open_problems(sections: list[Section]) -> list[str]:
    """Every section's open problems, each prefixed with its heading when there are several."""
    out = []
    for s in sections:
        name = s.heading or (s.text.strip().split("\n", 1)[0][:20] if s.text.strip() else "")
        out += [f"{name}：{p}" if name and len(sections) > 1 else p for p in s.problems]
    return out


def _require_confirmation(sections: list[Section], confirm: bool) -> None:
    problems = open_problems(sections)
    if problems and not confirm:
        raise ExportNeedsConfirmation(problems)


# --------------------------------------------------------------------------------------------
# shared text handling


_CN_DATE_RE = re.compile(r"^([〇○零Ｏ一二三四五六七八九]{4})年([一二三四五六七八九十]{1,2})"
                         r"月([一二三四五六七八九十]{1,3})日$")
_NUM_DATE_RE = re.compile(r"^((?:19|20)\d{2})\s*(?:年|[-/.．])\s*(\d{1,2})\s*(?:月|[-/.．])\s*(\d{1,2})"
                          r"\s*日?$")


def _cn_small(s: str) -> int:
    """一 … 三十一 → int."""
    return cn_to_int(s) or 0


def normalize_date(date: str) -> str:
    """A date in Arabic numerals, ``2024年3月5日`` (GB/T 9704); text that is not a date is kept."""
    s = date.strip(_WS)
    m = _NUM_DATE_RE.match(s)
    if m:
        return f"{int(m[1])}年{int(m[2])}月{int(m[3])}日"
    m = _CN_DATE_RE.match(s)
    if m:
        year = str(cn_digits_to_int(m[1]))
        return f"{year}年{_cn_small(m[2])}月{_cn_small(m[3])}日"
    return s


def _clean_line(line: str) -> str:
    """Strip indentation a writer typed and Markdown a model may have added (``## ``, ``**``)."""
    s = line.strip(_WS)
    s = re.sub(r"^#{1,6}\s*", "", s)
    if s.count("**") >= 2 and s.count("**") % 2 == 0:
        s = s.replace("**", "")
    return s.strip(_WS)


def _split_heading(line: str) -> tuple[int, str, str]:
    """(level, heading part, body part) of a paragraph; level 0 and no heading for body text."""
    level = heading_level(line)
    if not level:
        return 0, "", line
    for i, ch in enumerate(line[: HEAD_MAX + 1]):
        if ch in _STOPS:
            return level, line[: i + 1], line[i + 1 :].lstrip(_WS)
    if not any(ch in line for ch in "。！？!?") and len(line) <= HEAD_MAX + 20:
        return level, line, ""
    for i, ch in enumerate(line[: HEAD_MAX + 1]):
        if ch in _CLAUSE and i > 3:
            return level, line[:i], line[i:]
    return level, line, ""


def _paragraphs(title: str, sections: list[Section]) -> list[tuple[int, str, str]]:
    """(level, heading part, body part) for every paragraph after the title, in order.

    A section heading without a marker counts as level 1; it is skipped when it repeats the title
    or the first line of its text.
    """
    out: list[tuple[int, str, str]] = []
    for sec in sections:
        lines = [c for c in (_clean_line(x) for x in sec.text.splitlines()) if c]
        heading = _clean_line(sec.heading)
        if heading and heading != _clean_line(title) and not (lines and lines[0] == heading):
            level = heading_level(heading) or 1
            out.append((level, heading, ""))
        out.extend(_split_heading(line) for line in lines)
    return out


def _width(text: str) -> float:
    """Width in body characters: full-width characters 1, half-width ones 0.5."""
    return sum(1.0 if unicodedata.east_asian_width(c) in "WFA" else 0.5 for c in text)


# --------------------------------------------------------------------------------------------
# docx


def _set(el: Any, **attrs: str) -> None:
    for k, v in attrs.items():
        el.set(qn(f"w:{k}"), v)


# schema order of the children we add (Word refuses a document whose pPr/rPr children are out of order)
_ORDER = {
    "pPr": "pStyle keepNext keepLines pageBreakBefore framePr widowControl numPr suppressLineNumbers pBdr "
    "shd tabs suppressAutoHyphens kinsoku wordWrap overflowPunct topLinePunct autoSpaceDE autoSpaceDN bidi "
    "adjustRightInd snapToGrid spacing ind contextualSpacing mirrorIndents suppressOverlap jc textDirection "
    "textAlignment textboxTightWrap outlineLvl divId cnfStyle rPr sectPr pPrChange",
    "rPr": "rStyle rFonts b bCs i iCs caps smallCaps strike dstrike outline shadow emboss imprint noProof "
    "snapToGrid vanish webHidden color spacing w kern position sz szCs highlight u effect bdr shd fitText "
    "vertAlign rtl cs em lang eastAsianLayout specVanish oMath",
}


def _child(parent: Any, tag: str) -> Any:
    """The ``tag`` child of ``parent``, created at its schema position when missing."""
    el = parent.find(qn(tag))
    if el is None:
        el = OxmlElement(tag)
        order = [f"w:{t}" for t in _ORDER.get(parent.tag.rsplit("}", 1)[-1], "").split()]
        later = order[order.index(tag) + 1 :] if tag in order else []
        parent.insert_element_before(el, *later)
    return el


def _fonts(rpr: Any, name: str) -> None:
    rfonts = _child(rpr, "w:rFonts")
    for theme in ("asciiTheme", "hAnsiTheme", "eastAsiaTheme", "cstheme"):
        rfonts.attrib.pop(qn(f"w:{theme}"), None)
    _set(rfonts, ascii=name, hAnsi=name, eastAsia=name, cs=name)


def _style_run(run: Run, font: str, size_pt: float) -> Run:
    run.font.name = font
    run.font.size = Pt(size_pt)
    run.font.bold = False
    _fonts(run._element.get_or_add_rPr(), font)
    rpr = run._element.get_or_add_rPr()
    _set(_child(rpr, "w:szCs"), val=str(int(size_pt * 2)))
    if size_pt == BODY_PT:
        _set(_child(rpr, "w:spacing"), val=str(CONDENSE_TWIPS))
    return run


def _exact_lines(p: Paragraph) -> None:
    pf = p.paragraph_format
    pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    pf.line_spacing = Twips(LINE_TWIPS)
    pf.space_before = Pt(0)
    pf.space_after = Pt(0)


def _indent_chars(p: Paragraph, *, first: int = 0, left: int = 0, right: float = 0, char_twips: int) -> None:
    """Indents in characters, as Word writes them (``*Chars`` in hundredths, twips as fallback)."""
    ind = _child(p._p.get_or_add_pPr(), "w:ind")
    if first:
        _set(ind, firstLine=str(first * char_twips), firstLineChars=str(first * 100))
    if left:
        _set(ind, left=str(left * char_twips), leftChars=str(left * 100))
    if right:
        _set(ind, right=str(round(right * char_twips)), rightChars=str(round(right * 100)))


def _setup_document(doc: DocxDocument) -> None:
    sec = doc.sections[0]
    sec.page_width, sec.page_height = Mm(PAGE_W_MM), Mm(PAGE_H_MM)
    sec.top_margin, sec.bottom_margin = Mm(MARGIN_TOP_MM), Mm(MARGIN_BOTTOM_MM)
    sec.left_margin, sec.right_margin = Mm(MARGIN_LEFT_MM), Mm(MARGIN_RIGHT_MM)
    sec.gutter = Mm(0)
    sec.header_distance = Mm(15)
    sec.footer_distance = Mm(FOOTER_DISTANCE_MM)
    grid = _child(sec._sectPr, "w:docGrid")
    _set(grid, type="lines", linePitch=str(LINE_TWIPS))
    doc.settings.odd_and_even_pages_header_footer = True

    # document defaults: body font and size, Chinese language, exact 22-line spacing, no widow control
    styles = doc.styles.element
    defaults = styles.find(qn("w:docDefaults"))
    rpr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    _fonts(rpr, BODY_FONT)
    _set(_child(rpr, "w:sz"), val=str(BODY_PT * 2))
    _set(_child(rpr, "w:szCs"), val=str(BODY_PT * 2))
    _set(_child(rpr, "w:lang"), val="en-US", eastAsia="zh-CN", bidi="ar-SA")
    ppr = defaults.find(qn("w:pPrDefault")).find(qn("w:pPr"))
    _set(_child(ppr, "w:spacing"), before="0", after="0", line=str(LINE_TWIPS), lineRule="exact")
    normal = doc.styles["Normal"]
    normal.font.name = BODY_FONT
    normal.font.size = Pt(BODY_PT)
    _fonts(normal.element.get_or_add_rPr(), BODY_FONT)
    _set(_child(normal.element.get_or_add_pPr(), "w:widowControl"), val="0")


def _add_page_number(p: Paragraph) -> None:
    def run(text: str = "") -> Run:
        return _style_run(p.add_run(text), PAGE_NUMBER_FONT, PAGE_NUMBER_PT)

    def field_char(kind: str) -> None:
        fld = OxmlElement("w:fldChar")
        _set(fld, fldCharType=kind)
        run()._element.append(fld)

    run("— ")
    field_char("begin")
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = " PAGE "
    run()._element.append(instr)
    field_char("separate")
    run("1")  # cached result, replaced by the page number when the document is laid out
    field_char("end")
    run(" —")


def _setup_footers(doc: DocxDocument) -> None:
    sec = doc.sections[0]
    char = PAGE_NUMBER_PT * 20
    for footer, align in ((sec.footer, WD_ALIGN_PARAGRAPH.RIGHT),
                          (sec.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT)):
        footer.is_linked_to_previous = False
        p = footer.paragraphs[0]
        p.alignment = align
        pf = p.paragraph_format
        pf.line_spacing_rule = WD_LINE_SPACING.SINGLE
        pf.space_before = pf.space_after = Pt(0)
        if align == WD_ALIGN_PARAGRAPH.RIGHT:
            _indent_chars(p, right=1, char_twips=char)
        else:
            _indent_chars(p, left=1, char_twips=char)
        _add_page_number(p)


def _add_text(doc: DocxDocument, level: int, head: str, body: str) -> Paragraph:
    p = doc.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    _exact_lines(p)
    _indent_chars(p, first=2, char_twips=CHAR_TWIPS)
    if head:
        _style_run(p.add_run(head), LEVEL_FONTS[level], BODY_PT)
        if not body and level <= 2:  # a heading of its own: visible in Word's navigation pane
            _set(_child(p._p.get_or_add_pPr(), "w:outlineLvl"), val=str(level - 1))
    if body:
        _style_run(p.add_run(body), BODY_FONT, BODY_PT)
    return p


DATE_RIGHT_CHARS = 4  # GB/T 9704-2012 7.3.5.1: 成文日期右空四字


def _run_twips(text: str) -> float:
    """Printed width of a body run in twips: 3号 characters (half-width ones half) less the condensing."""
    return _width(text) * CHAR_TWIPS + CONDENSE_TWIPS * len(text)


def signature_indents(issuer: str, date: str) -> tuple[float, float]:
    """Right indents (twips) of the issuer and date lines: the date 4 characters from the right margin,
    the issuer centred over the date (GB/T 9704-2012 7.3.5.1); without a date the issuer sits where
    the date would have ended."""
    right_d = DATE_RIGHT_CHARS * CHAR_TWIPS
    if not date:
        return float(right_d), float(right_d)
    right_i = right_d + (_run_twips(date) - _run_twips(issuer)) / 2
    return max(0.0, right_i), float(right_d)


def _add_signature(doc: DocxDocument, issuer: str, date: str) -> None:
    right_i, right_d = signature_indents(issuer, date)
    body = doc.paragraphs
    if body:  # the signature never stands alone on the last page: keep the last line with it
        body[-1].paragraph_format.keep_with_next = True
    blank = doc.add_paragraph()
    _exact_lines(blank)
    blank.paragraph_format.keep_with_next = True
    for text, right in ((issuer, right_i), (date, right_d)):
        if not text:
            continue
        p = doc.add_paragraph()
        p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        _exact_lines(p)
        _indent_chars(p, right=right / CHAR_TWIPS, char_twips=CHAR_TWIPS)
        _style_run(p.add_run(text), BODY_FONT, BODY_PT)
        p.paragraph_format.keep_with_next = text == issuer and bool(date)


def build_docx(title: str, sections: list[Section], *, issuer: str = "", date: str = "") -> DocxDocument:
    """The python-docx document :func:`to_docx` saves (for callers that stream it themselves)."""
    doc = Document()
    _setup_document(doc)
    body = doc.element.body
    for p in list(body.iterchildren(qn("w:p"))):  # the template's empty first paragraph
        body.remove(p)
    title = _clean_line(title)
    if title:
        p = doc.add_paragraph()
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _exact_lines(p)
        _style_run(p.add_run(title), TITLE_FONT, TITLE_PT)
        _set(_child(p._p.get_or_add_pPr(), "w:outlineLvl"), val="0")
        blank = doc.add_paragraph()
        _exact_lines(blank)
    for level, head, text in _paragraphs(title, sections):
        _add_text(doc, level, head, text)
    issuer, date = _clean_line(issuer), normalize_date(date)
    if issuer or date:
        _add_signature(doc, issuer, date)
    _setup_footers(doc)
    _drop_custom_xml(doc)
    return doc


def _drop_custom_xml(doc: DocxDocument) -> None:
    """The python-docx template links an (empty) custom XML data part; an export carries the text
    only, so no data part rides along with it."""
    for rid, rel in list(doc.part.rels.items()):
        if rel.reltype.endswith("/customXml"):
            doc.part.drop_rel(rid)


def _atomic_write(path: Path, data: bytes) -> Path:
    """Write via a temporary file in the same folder and ``os.replace``; OSError → :class:`ExportError`."""
    path = Path(path)
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".export-", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except OSError as exc:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
        raise ExportError(detail=f"{path}：{exc.strerror or exc}") from exc
    return path


def to_docx(title: str, sections: list[Section], path: Path, *, issuer: str = "", date: str = "",
            confirm: bool = False) -> Path:
    """Write a GB/T 9704-2012 .docx to ``path`` (atomically: a reader never sees half a file).

    A section with open problems raises :class:`ExportNeedsConfirmation` (nothing written) unless
    ``confirm``.  The file carries the text only: no highlight, comment, hidden run or check data.
    """
    _require_confirmation(sections, confirm)
    buf = io.BytesIO()
    build_docx(title, sections, issuer=issuer, date=date).save(buf)
    return _atomic_write(path, buf.getvalue())


def write_markdown(title: str, sections: list[Section], path: Path, *, issuer: str = "", date: str = "",
                   confirm: bool = False) -> Path:
    """:func:`to_markdown` written to ``path`` (UTF-8, atomically; :class:`ExportError` on failure);
    open problems need ``confirm`` as in :func:`to_docx`."""
    _require_confirmation(sections, confirm)
    return _atomic_write(path, to_markdown(title, sections, issuer=issuer, date=date).encode("utf-8"))


# --------------------------------------------------------------------------------------------
# markdown

_MD_INLINE_RE = re.compile(r"([\\`*_\[\]<>~|])")
_MD_LINE_START_RE = re.compile(r"^(\s*)(#|>|[-+](?=\s)|=+\s*$)")
_MD_ORDERED_RE = re.compile(r"^(\d{1,9})([.)])(?=\s|$)")


def _md_escape(text: str) -> str:
    s = _MD_INLINE_RE.sub(r"\\\1", text)
    s = _MD_LINE_START_RE.sub(r"\1\\\2", s)
    return _MD_ORDERED_RE.sub(r"\1\\\2", s)


def to_markdown(title: str, sections: list[Section], *, issuer: str = "", date: str = "") -> str:
    """Markdown: title ``#``, heading lines ``##`` (一、) / ``###`` (（一）) / ``####`` / ``#####``,
    run-in headings of levels 1–2 in bold, every body paragraph kept (Markdown characters escaped)."""
    blocks: list[str] = []
    title = _clean_line(title)
    if title:
        blocks.append("# " + _md_escape(title))
    for level, head, body in _paragraphs(title, sections):
        if head and not body:
            blocks.append("#" * (level + 1) + " " + _md_escape(head))
        elif head and level <= 2:
            # CommonMark will not close ** right after punctuation that is followed by a letter
            # (``**强化。**正文``), so trailing punctuation goes outside the bold
            core = head.rstrip("".join(c for c in head if unicodedata.category(c).startswith("P")))
            core = core or head
            rest = head[len(core) :] + body
            blocks.append(f"**{_md_escape(core)}**{_md_escape(rest)}")
        else:
            blocks.append(_md_escape(head + body))
    issuer, date = _clean_line(issuer), normalize_date(date)
    signature = [_md_escape(x) for x in (issuer, date) if x]
    if signature:
        blocks.append("<br>\n".join(signature) if len(signature) > 1 else signature[0])
    return "\n\n".join(blocks) + "\n"


# --------------------------------------------------------------------------------------------
# file names

_UNSAFE_RE = re.compile(r'[\\/:*?"<>|]+')
_SUFFIX_RE = re.compile(r"^\.?([A-Za-z0-9]{1,10})$")
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)), *(f"LPT{i}" for i in range(10))}
MAX_NAME_CHARS = 60
MAX_NAME_BYTES = 200


def safe_filename(title: str, suffix: str) -> str:
    """A file name made from a writer's title: no separators, ``..``, control or reserved characters;
    Chinese kept; at most 60 characters / 200 UTF-8 bytes before the suffix; ``未命名`` if nothing is left.

    ``suffix`` is ``"docx"`` or ``".docx"`` (letters and digits only).
    """
    m = _SUFFIX_RE.match(suffix or "")
    if not m:
        raise ValueError(f"bad file suffix {suffix!r}")
    ext = "." + m[1].lower()
    s = unicodedata.normalize("NFC", title or "")
    s = "".join(" " if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") else c for c in s)
    s = _UNSAFE_RE.sub("_", s)
    s = re.sub(r"\s+", " ", s)
    s = re.sub(r"\.{2,}", ".", s)
    s = s.strip(" ._\u3000")
    s = s[:MAX_NAME_CHARS]
    while len(s.encode("utf-8")) > MAX_NAME_BYTES:
        s = s[:-1]
    s = s.rstrip(" .")
    if not s:
        s = "未命名"
    if s.split(".")[0].upper() in _RESERVED:
        s = "_" + s
    return s + ext

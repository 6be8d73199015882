"""公文 structure: front matter, metadata, heading tree, sections and token-bounded chunks.

Parsing (:func:`parse_document`)
================================

Lines are stripped (ASCII, full-width and no-break spaces, a Markdown ``#`` prefix) and classified in
one pass.

Front matter — dropped from the section text, used for :class:`DocMeta`:

* **title** – the styled level-0 heading if the loader gave one, else the first non-empty line when
  it is not a heading, has no 。 and is short (≤ 60 chars; up to 200 when the next line is a
  subtitle / issuer / date line, as in scraped notices with the 文号 in the title).  Later lines
  before the first heading that repeat the title (``上海市绿色建筑“十四五”规划``) are dropped too.
* **subtitle** – before the body starts: a line starting with ——, or a line without 。 that says
  ``…在…会议上`` / ``…大会上`` (its date becomes ``meta.date`` when there is no date line).
* **speaker** – before the body starts: ``海拉尔区人民政府代区长 杨国宏`` (office title, blank, name).
* **salutation / addressee** – ``各位代表：``, ``尊敬的**，各位领导，同志们：`` and a bare
  ``各位代表！`` anywhere; ``各有关单位：`` before the body starts.  ``各位代表：现在，我代表…`` at the
  start loses only its salutation.
* **issuer and date** – ``上海市崇明区人民政府办公室（区建设管理委牵头） 2021-09-09``; a date alone on
  a line (``2021年9月9日``, ``二○一九年二月三日``, ``2021-09-09``) anywhere, and an organisation line
  (ends in 委员会/政府/局/厅/办公室…) right before such a date (the signature block).
* web chrome (``首页 … 登录 … 无障碍``) before the first heading.

Metadata: ``issuer`` is the explicit issuer line when there is one, else derived from the title
(text before 关于; else the text before the year — ``驻马店市二〇〇二年…`` → 驻马店市,
``市住建局2023年上半年…`` → 市住建局; else after the year with the document type removed —
``2026年山东省政府工作报告`` → 山东省; else a leading organisation / region name).  ``year`` is the
first year in the title (Arabic or 二〇〇二-style numerals), else the date line's, else the
subtitle's.  ``doc_type`` is the document-type keyword ending last in the title (parentheticals
removed): 政府工作报告, 工作总结 (半年工作总结 when the title says 半年), 发言材料, 汇报材料, 通知,
工作方案/实施方案/行动方案/行动计划/实施计划/工作计划, 工作要点, 规划, 意见, 报告, 函.  Non-empty ``hints``
fields override everything detected.

Headings (:data:`HEADING_LEVELS`): level 1 ``一、`` ``二十、`` (not ``一、二、三产业``), level 2
``（一）``/``(一)``, level 3 ``1.``/``1．``/``1、`` followed by a non-digit (so ``1.2万个`` and
``2016年`` are body text; the one exception is ``1、2016年4月1日以后…``, a year right after ``、``),
level 4 ``（1）``/``(1)``.  A heading at level *n* replaces the open heading at level *n* and closes
every deeper one; the path is the open headings in level order.  Lines the loader marked as
headings (docx styles) are headings too: at their marker's level when they have one, else at the
styled level.  A short unnumbered line (≤ 30 chars, no ，、。；：！？, not starting with a list number) that
follows a finished sentence and precedes more text — ``“十四五”时期工作回顾``, ``名词解释`` — is a
level-1 heading (``2026年重点工作`` qualifies; ``1.2024年…汇总表`` does not).

Inline headings — a marker line that carries body text too — are split as follows (``rest`` is the
text after the marker, ``HEAD_MAX`` = 40 chars, ``LONG_MAX`` = 60 chars):

1. a run-in cue inside the first sentence, at position 4..40, with no punctuation before it, ends
   the heading (scraped reports that lost the line break: ``二、2015年工作回顾2015年是…``,
   ``一、2005年工作回顾过去的一年，…``; cues are a year followed by 是/，/以来, 今年是, 今年以来,
   做好今年, 过去的一年, 刚刚过去的, 一年来, 五年来 …);
2. the first 。！？ or full-width ：(not between digits), outside “”《》（）, within ``HEAD_MAX``
   ends the heading (``（一）贯穿“全面从严”，党的建设全面加强。及时跟进…``; glossary items
   ``1.“两重”：是指…`` → ``1.“两重”``);
3. a line without 。！？ of at most ``HEAD_MAX`` chars is all heading;
4. otherwise the first sentence is long.  A line with no sentence end of at most ``LONG_MAX``
   chars is all heading (``(一)全力打造…名城,带动产业转型升级、融合发展``); else the first sentence
   if it ends within ``LONG_MAX`` (government reports have 40–60 char headings such as
   ``（七）以创建国家级生态县（区）和国家级森林城为抓手，强化生态建设，确保…取得新成效。``); else the
   first clause up to ，/； if it is 2..``HEAD_MAX`` chars (scrapes that lost the break between
   heading and body: ``(二)扩大需求，促进经济持续快速增长加大投入…``); else the heading is a label —
   the first ``HEAD_MAX`` chars + "…" — and the whole line stays in the body, so nothing is lost.

A line holding several consecutive ``（一）…。（二）…。（三）…`` after 。/： (a part whose line breaks
were lost) is split before each marker first.

Trailing 。：，； are removed from heading text; the marker is kept as written (``（一）…``).

Enumerations — 一是/二是… and 一要/二要… at a clause start, 第一/第二… followed by ，、： (or by 是/要
at a clause start; never ``“第一议题”``/``第一种形态``), and 首先/其次/再次/最后 at a clause start
(not ``最后一公里``) — are recorded per section in ``Section.enumerations``, in order; they never
open sections.

Sections: every heading opens one; text before the first heading is the preamble (path ``[]``,
level 0, only when it has text).  ``Section.level`` is the marker level of the innermost heading.

Chunking (:func:`chunk_document`)
=================================

* A section with an empty body whose path is a prefix of the next section's path is skipped (its
  heading is in the next path).
* Tiny sections (body < ``min_chars``) join the previous chunk when both sit under the same
  level-1 heading and the result fits; otherwise they start a chunk that the following section
  joins if it fits.  A chunk keeps the heading path of its first section; the headings of the
  sections that joined it are written into its text on their own line, so no heading is lost.
* The token budget for a chunk's text is ``max_tokens`` minus the tokens of its heading path
  (never below ``max_tokens // 2``), so text plus headings fit together.  A section over budget is
  cut at sentence boundaries (:func:`split_sentences`), packed greedily and then evened out to the
  same number of pieces; a sentence over budget is cut at ，/、; a clause over budget at the largest
  character prefix that fits (the only "unavoidable" case).  Every piece made of several units is
  re-counted with the real tokenizer (joining can add a token) and halved if it is over.
* Chunk text is body text; an all-heading chunk gets its innermost heading as text.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from dataclasses import dataclass, field

from .figures import chunk_figures
from .numerals import cn_digits_to_int, cn_to_int
from .records import Chunk, DocMeta, LoadedText, ParsedDoc, Section
from .tokens import count_tokens_batch, encoding

__all__ = [
    "HEADING_LEVELS",
    "chunk_document",
    "doc_id_for",
    "find_enumerations",
    "heading_level",
    "parse_document",
    "parse_loaded",
    "split_marker",
    "split_sentences",
]

HEAD_MAX = 40
LONG_MAX = 60
TITLE_MAX = 60

_CN = "一二三四五六七八九十"
_CJK = "\u4e00-\u9fff"

# level -> marker at the start of a (stripped) line
HEADING_LEVELS: dict[int, re.Pattern[str]] = {
    1: re.compile(rf"[{_CN}百]{{1,4}}、(?![{_CN}]{{1,3}}[、产])"),
    2: re.compile(rf"[（(][{_CN}]{{1,4}}[）)]"),
    3: re.compile(r"\d{1,2}(?:[.．](?![\d.．])|、(?!\d)|、(?=(?:19|20)\d{2}年))"),
    4: re.compile(r"[（(]\d{1,2}[）)]"),
}
_MARKER_FIRST = re.compile(rf"[{_CN}百（(\d]")


def heading_level(line: str) -> int:
    """Marker level (1–4) of a line, or 0 when it does not start with a heading marker."""
    return _marker(line.strip())[0]


def split_marker(line: str) -> tuple[int, str, str]:
    """(level, marker, rest) of a heading line (``（二）强化保障`` → 2, ``（二）``, ``强化保障``); (0, "", line)."""
    s = line.strip()
    level, end = _marker(s)
    return (level, s[:end], s[end:].strip()) if level else (0, "", s)


def _marker(line: str) -> tuple[int, int]:
    """(level, end of marker) for a stripped line; (0, 0) when there is none."""
    if not line or not _MARKER_FIRST.match(line):
        return 0, 0
    for level, pattern in HEADING_LEVELS.items():
        m = pattern.match(line)
        if m:
            return level, m.end()
    return 0, 0


# --------------------------------------------------------------------------------------------
# sentences

_TERMINATORS = "。！？；!?;"
_SCAN_RE = re.compile(r"[。！？；!?;\n“”《》]")
_OPEN = {"“": "q", "《": "b"}
_CLOSE = {"”": "q", "》": "b"}
# Every character str.isspace() calls whitespace (so a chunk is never only, say, a \x1f that
# str.strip() would empty), plus the BOM; tests/test_structure.py keeps this list complete.
_WS = (" \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
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


def _sentence_spans(text: str) -> list[tuple[int, int]]:
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
            while a < b and text[a] in _WS:
                a += 1
            while b > a and text[b - 1] in _WS:
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
    return [text[a:b] for a, b in _sentence_spans(text)]


def _is_stop(rest: str, i: int) -> bool:
    ch = rest[i]
    if ch in "。！？!?":
        return True
    # a full-width colon ends a heading, except inside a ratio such as 34.0：39.1
    return ch == "：" and not (0 < i < len(rest) - 1 and rest[i - 1].isdigit() and rest[i + 1].isdigit())


def _first_stop(rest: str) -> int | None:
    """Index of the first 。！？ or heading colon in ``rest`` outside “”《》（） (None if none)."""
    depth = 0
    for i, ch in enumerate(rest):
        if ch in "“《（(":
            depth += 1
        elif ch in "”》）)":
            depth = max(0, depth - 1)
        elif depth == 0 and _is_stop(rest, i):
            return i
    if depth:  # unbalanced quotes: ignore them
        return next((i for i in range(len(rest)) if _is_stop(rest, i)), None)
    return None


# --------------------------------------------------------------------------------------------
# headings

_RUNIN_RE = re.compile(
    rf"(?<=[{_CJK}”》）])"
    rf"(?:(?:19|20)\d{{2}}年(?:是|，|,|以来)|今年是|今年以来|做好今年|过去的[{_CN}]年|"
    rf"过去[{_CN}]年[，,里中来]|刚刚过去的|过年的一年|一年来|[二三四五六七八九十]年来|今后五年，)"
)
_HEADING_TRIM = "。！？!?：:，,；;、 \u3000"


def _split_inline(rest: str) -> tuple[str, str, bool]:
    """(heading part, body part, label) for the text after a marker; see the module docstring."""
    if not rest:
        return "", "", False
    stop = _first_stop(rest)
    cue = _RUNIN_RE.search(rest, 4, HEAD_MAX + 8)
    if cue and cue.start() <= HEAD_MAX and (stop is None or cue.start() < stop):
        return rest[: cue.start()], rest[cue.start() :], False
    if stop is not None and stop <= HEAD_MAX:
        return rest[:stop], rest[stop + 1 :], False
    has_end = any(ch in rest for ch in "。！？!?")
    if not has_end and len(rest) <= HEAD_MAX:
        return rest, "", False
    # long first sentence
    if not has_end and len(rest) <= LONG_MAX:
        return rest, "", False
    if stop is not None and stop <= LONG_MAX:
        return rest[:stop], rest[stop + 1 :], False
    clause = re.search(r"[，,；;]", rest[: HEAD_MAX + 1])
    if clause and clause.start() >= 2:
        return rest[: clause.start()], rest[clause.start() + 1 :], False
    return rest[:HEAD_MAX] + "…", rest, True


# --------------------------------------------------------------------------------------------
# front matter and metadata

_PUNCT_ANY = re.compile(r"[。，、；：！？,;:!?…]")
_SENT_END = re.compile(r"[。！？!?]")
_DATE_CORE = (
    r"(?:(?:19|20)\d{2}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日"
    r"|(?:19|20)\d{2}[-/.]\d{1,2}[-/.]\d{1,2}"
    r"|[〇○零一二三四五六七八九]{4}年[一二三四五六七八九十]{1,2}月[一二三四五六七八九十]{1,3}日)"
)
_DATE_LINE_RE = re.compile(rf"^[（(]?({_DATE_CORE})[）)]?$")
_DATE_ANY_RE = re.compile(_DATE_CORE)
_ISSUER_DATE_RE = re.compile(rf"^([^。\s].{{1,80}}?)\s+({_DATE_CORE})$")
_ORG_SUFFIX = r"(?:委员会|人民政府|政府|办公室|办公厅|管理局|局|厅|委|部|院|中心|公司|小组|办|所|站|处|科|会)"
_ORG_LINE_RE = re.compile(rf"^[{_CJK}（）()、]{{2,40}}?{_ORG_SUFFIX}(?:[（(][^）)]*[）)])?$")
_SUBTITLE_RE = re.compile(r"^(?:——|—|--)|在.{2,60}?(?:会议|大会)上")
_SPEAKER_RE = re.compile(
    rf"^[{_CJK}（）()]{{0,30}}?(?:长|主席|书记|主任)\s+[{_CJK}·]{{1,2}}(?:\s?[{_CJK}·]{{1,10}})?$"
)
_SALUTATION_RE = re.compile(r"^(?:尊敬的|各位|同志们|亲爱的)[^。！？!?]{0,40}?[：:！!]$")
_ADDRESSEE_RE = re.compile(r"^各[^。！？]{1,100}[：:]$")
_SALUTATION_PREFIX_RE = re.compile(r"^(?:各位代表|各位委员|同志们)[：:，,！!]\s*")
_CHROME_RE = re.compile(r"首页.*(?:登录|无障碍|政务公开)|(?:登录|无障碍).*首页")

_YEAR_RE = re.compile(r"(?<!\d)((?:19|20)\d{2})(?=\s*年|-|—|–|－|/|\.|$)")
_CN_YEAR_RE = re.compile(r"([〇○零一二三四五六七八九]{4})(?=年)")
_PAREN_RE = re.compile(r"（[^（）]*）|\([^()]*\)")
_ORG_RE = re.compile(rf"^[{_CJK}]{{1,25}}?{_ORG_SUFFIX}")
_REGION_RE = re.compile(
    rf"^(?:[{_CJK}]{{2,8}}?(?:特别行政区|自治区|自治州|地区|省|(?<![本全我该各城])[市区县]|州|盟|旗))+"
)
_TYPE_SUFFIX_RE = re.compile(
    r"(?:人民政府工作报告|政府工作报告|工作报告|[上下]?半年工作总结|年度|工作总结|总结).*$"
)
_DOC_TYPES: tuple[tuple[str, str], ...] = (
    ("政府工作报告", "政府工作报告"),
    ("工作总结", "工作总结"),
    ("总结", "工作总结"),
    ("发言材料", "发言材料"),
    ("发言", "发言材料"),
    ("汇报材料", "汇报材料"),
    ("汇报", "汇报材料"),
    ("通知", "通知"),
    ("工作方案", "工作方案"),
    ("实施方案", "实施方案"),
    ("行动方案", "行动方案"),
    ("方案", "工作方案"),
    ("工作要点", "工作要点"),
    ("行动计划", "行动计划"),
    ("实施计划", "实施计划"),
    ("工作计划", "工作计划"),
    ("规划", "规划"),
    ("实施意见", "意见"),
    ("意见", "意见"),
    ("报告", "报告"),
)


def _cn_year(s: str) -> int:
    return cn_digits_to_int(s) or 0


def _year_in(text: str) -> tuple[int, int, int]:
    """(year, start, end) of the first year in ``text``; (0, -1, -1) if none."""
    best = (0, -1, -1)
    m = _YEAR_RE.search(text)
    if m:
        best = (int(m.group(1)), m.start(), m.end())
    c = _CN_YEAR_RE.search(text)
    if c and (best[1] < 0 or c.start() < best[1]):
        best = (_cn_year(c.group(1)), c.start(), c.end())
    return best


def _year_of_date(date: str) -> int:
    return _year_in(date)[0]


def _doc_type(title: str) -> str:
    core = _PAREN_RE.sub("", title) or title
    best: tuple[int, int, str] | None = None
    for kw, canonical in _DOC_TYPES:
        pos = core.rfind(kw)
        if pos < 0:
            continue
        key = (pos + len(kw), len(kw), canonical)
        if best is None or key[:2] > best[:2]:
            best = key
    if core.rstrip("（(）) ").endswith("函"):
        end = len(core.rstrip("（(）) "))
        if best is None or end > best[0]:
            best = (end, 1, "函")
    if best is None:
        return ""
    doc_type = best[2]
    if doc_type == "工作总结" and "半年" in core:
        doc_type = "半年工作总结"
    return doc_type


def _org_or_region(cand: str) -> str:
    cand = cand.strip(' 　，,、：:“”"《》')
    if not cand:
        return ""
    m = _ORG_RE.match(cand)
    if m:
        return m.group(0)
    m = _REGION_RE.match(cand)
    if m:
        return m.group(0)
    return ""


def _issuer_from_title(title: str) -> str:
    core = _PAREN_RE.sub("", title).strip() or title.strip()
    if core.startswith("关于"):
        return ""
    m = re.match(rf"^([{_CJK}]{{2,30}}?)关于", core)
    if m:
        return m.group(1)
    m = re.match(rf"^([{_CJK}]{{2,30}}?)在[{_CJK}“”]{{2,40}}?上的", core)
    if m:
        return _org_or_region(m.group(1)) or m.group(1)
    _, ys, ye = _year_in(core)
    if ys > 0:
        before = core[:ys].strip(" 　，,、")
        found = _org_or_region(before)
        if found:
            return found
        if before and len(before) <= 20 and re.fullmatch(rf"[{_CJK}]+", before):
            return before
    if ys >= 0:
        after = re.sub(r"^\s*年?度?(?:[上下]半年)?(?:度)?", "", core[ye:])
        after = _TYPE_SUFFIX_RE.sub("", after)
        found = _org_or_region(after)
        if found:
            return found
    return _org_or_region(core)


def _clean_issuer(raw: str) -> str:
    return _PAREN_RE.sub("", raw).strip() or raw.strip()


@dataclass
class _Builder:
    sections: list[Section] = field(default_factory=list)
    stack: dict[int, str] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)
    path: list[str] = field(default_factory=list)
    level: int = 0
    opened: bool = False  # a heading section is open (kept even when empty)

    def close(self) -> None:
        text = "\n".join(self.lines).strip()
        if self.opened or text:
            self.sections.append(
                Section(
                    heading_path=list(self.path),
                    level=self.level,
                    text=text,
                    enumerations=find_enumerations(text),
                )
            )
        self.lines = []

    def heading(self, level: int, text: str) -> None:
        self.close()
        for deeper in [k for k in self.stack if k >= level]:
            del self.stack[deeper]
        self.stack[level] = text
        self.path = [self.stack[k] for k in sorted(self.stack)]
        self.level = level
        self.opened = True


_ENUM_RE = re.compile(
    rf"(?:(?<=[。；！？：:，,；;\n“])|^)\s*"
    rf"([{_CN}]{{1,3}}是|[{_CN}]{{1,3}}要(?=[{_CJK}])|第[{_CN}]{{1,3}}(?=[是要])|首先|其次|再次|最后(?!一))"
    rf"|(第[{_CN}]{{1,3}})(?=[，、：,:])"
)


def find_enumerations(text: str) -> list[str]:
    """Enumeration markers (一是, 二要, 第一, 首先 …) in order of appearance."""
    return [m.group(1) or m.group(2) for m in _ENUM_RE.finditer(text)]


_MIDLINE_L2_RE = re.compile(rf"(?<=[。：])[（(]([{_CN}]{{1,3}})[）)]")


def _cn_int(s: str) -> int:
    """一..九十九 → int (0 when not a plain numeral)."""
    value = cn_to_int(s) if len(s) <= 3 else None
    return value if value is not None and value < 100 else 0


def _split_run_together(line: str) -> list[str]:
    """Split a line holding several consecutive （一）（二）… headings run together after 。/：.

    Scraped reports sometimes lose the line breaks of a whole part; the markers must be
    consecutive numbers (n, n+1, …) so a stray parenthetical never splits a paragraph.
    """
    hits = list(_MIDLINE_L2_RE.finditer(line))
    if len(hits) < 2:
        return [line]
    nums = [_cn_int(m.group(1)) for m in hits]
    if 0 in nums or any(b != a + 1 for a, b in itertools.pairwise(nums)):
        return [line]
    cuts = [0, *(m.start() for m in hits), len(line)]
    return [line[a:b] for a, b in itertools.pairwise(cuts) if line[a:b].strip()]


_MD_HEADING_RE = re.compile(r"^#{1,6}\s+")


def _norm_line(line: str) -> str:
    """Strip blanks (ASCII, full-width, no-break, BOM) and a Markdown ``## `` heading prefix."""
    line = line.strip(_WS)
    if line.startswith("#"):
        line = _MD_HEADING_RE.sub("", line)
    return line


def parse_document(
    text: str,
    *,
    styled_headings: list[tuple[int, str]] | None = None,
    hints: DocMeta | None = None,
) -> ParsedDoc:
    """Parse a 公文 into metadata and heading-path sections (rules in the module docstring)."""
    lines = [
        part
        for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        for part in _split_run_together(_norm_line(raw))
    ]
    content = [i for i, x in enumerate(lines) if x]
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

    meta = DocMeta()
    drop: set[int] = set()
    subtitle_date = ""

    # --- title
    def _is_issuer_or_date(s: str) -> bool:
        return bool(_DATE_LINE_RE.match(s) or _ISSUER_DATE_RE.match(s) or _SUBTITLE_RE.match(s))

    if styled_title:
        meta.title = styled_title
        for i in content[:3]:
            if lines[i] == styled_title:
                drop.add(i)
                break
    elif content:
        first = lines[content[0]]
        nxt = lines[content[1]] if len(content) > 1 else ""
        if (
            _marker(first)[0] == 0
            and first not in styled
            and not _SENT_END.search(first)
            and not _DATE_LINE_RE.match(first)
            and not _SALUTATION_RE.match(first)
            and not _ADDRESSEE_RE.match(first)
            and not _SPEAKER_RE.match(first)
            and not first.startswith(("——", "—", "--"))
            and (
                len(first) <= TITLE_MAX
                or (len(first) <= 200 and nxt and _is_issuer_or_date(nxt))
                or (hints is not None and hints.title and first.startswith(hints.title))
            )
        ):
            meta.title = first
            drop.add(content[0])

    title_refs = [t for t in (meta.title, hints.title if hints else "") if t]

    # --- issuer / date lines anywhere (signature blocks), first pass
    for k, i in enumerate(content):
        s = lines[i]
        if i in drop:
            continue
        m = _DATE_LINE_RE.match(s)
        if m:
            drop.add(i)
            meta.date = meta.date or m.group(1)
            if k > 0:
                j = content[k - 1]
                prev = lines[j]
                if j not in drop and _ORG_LINE_RE.match(prev) and _marker(prev)[0] == 0:
                    drop.add(j)
                    meta.issuer = meta.issuer or _clean_issuer(prev)
            continue
        m2 = _ISSUER_DATE_RE.match(s)
        if (
            m2
            and len(m2.group(1)) <= 60
            and not _SENT_END.search(m2.group(1))
            and _ORG_LINE_RE.match(m2.group(1))
            and _marker(s)[0] == 0
        ):
            drop.add(i)
            meta.issuer = meta.issuer or _clean_issuer(m2.group(1))
            meta.date = meta.date or m2.group(2)

    # --- body pass
    b = _Builder()
    front = True  # until the first heading or body line
    seen_heading = False
    prev_kept = ""  # last kept content line (for the unnumbered-heading rule)
    for k, i in enumerate(content):
        if i in drop:
            continue
        s = lines[i]
        if _SALUTATION_RE.match(s) and len(s) <= 50:
            continue
        if not seen_heading:
            if _CHROME_RE.search(s) and not _SENT_END.search(s):
                continue
            if any(len(s) >= 4 and (t == s or t.startswith(s)) for t in title_refs) and _marker(s)[0] == 0:
                continue
        if front:
            if not _SENT_END.search(s) and len(s) <= 150 and _SUBTITLE_RE.search(s):
                d = _DATE_ANY_RE.search(s)
                if d and not subtitle_date:
                    subtitle_date = d.group(0)
                continue
            if _SPEAKER_RE.match(s) and len(s) <= 40:
                continue
            if _ADDRESSEE_RE.match(s):
                continue
            pm = _SALUTATION_PREFIX_RE.match(s)
            if pm:
                s = s[pm.end() :]
                if not s:
                    continue

        level, mend = _marker(s)
        styled_level = styled.get(s, 0)
        if styled_level:
            b.heading(level or styled_level, s.rstrip(_HEADING_TRIM) or s)
            front, seen_heading, prev_kept = False, True, s
            continue
        if level:
            marker = s[:mend]
            rest = s[mend:]
            lead = len(rest) - len(rest.lstrip(_WS))
            head, body, label = _split_inline(rest[lead:])
            head_text = (marker + rest[:lead] + head).rstrip(_HEADING_TRIM) if not label else marker + head
            b.heading(level, head_text or marker)
            body = body.strip(_WS)
            if body:
                b.lines.append(body)
            front, seen_heading, prev_kept = False, True, s
            continue
        if _is_unnumbered_heading(s, prev_kept, lines, content, k, drop):
            b.heading(1, s)
            front, seen_heading, prev_kept = False, True, s
            continue
        b.lines.append(s)
        front, prev_kept = False, s
    b.close()

    meta.date = meta.date or subtitle_date
    effective_title = (hints.title if hints and hints.title else "") or meta.title
    if not meta.issuer and effective_title:
        meta.issuer = _issuer_from_title(effective_title)
    if effective_title:
        meta.year = _year_in(effective_title)[0]
        meta.doc_type = _doc_type(effective_title)
    if not meta.year and meta.date:
        meta.year = _year_of_date(meta.date)
    if hints is not None:
        for name in ("title", "issuer", "date", "year", "doc_type"):
            value = getattr(hints, name)
            if value:
                setattr(meta, name, value)
    return ParsedDoc(meta=meta, sections=b.sections)


_NUMBERED_START_RE = re.compile(r"\d+(?:[.．、\s]|$)|\d{1,3}[^\d年]")


def _is_unnumbered_heading(
    s: str, prev_kept: str, lines: list[str], content: list[int], k: int, drop: set[int]
) -> bool:
    if len(s) > 30 or _PUNCT_ANY.search(s) or not re.search(rf"[{_CJK}]", s):
        return False
    if _NUMBERED_START_RE.match(s) or s[0] in "*＊-—":
        return False
    if not prev_kept or prev_kept[-1] not in "。！？!?；;：:”）)":
        return False
    for j in content[k + 1 :]:
        if j not in drop:
            return True
    return False


def parse_loaded(loaded: LoadedText, *, hints: DocMeta | None = None) -> ParsedDoc:
    """:func:`parse_document` for a loader's result."""
    return parse_document(loaded.text, styled_headings=loaded.styled_headings or None, hints=hints)


# --------------------------------------------------------------------------------------------
# chunking

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
    spans = _sentence_spans(text)
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
    texts = [text[units[i][0] : units[j - 1][1]].strip(_WS) for i, j in runs]
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
            out.extend(p for p in _hard_split(piece, budget) if p.strip(_WS))
    return out


def chunk_document(
    parsed: ParsedDoc,
    *,
    doc_id: str,
    source: str,
    max_tokens: int = 360,
    min_chars: int = 40,
) -> list[Chunk]:
    """Token-bounded chunks in document order (rules in the module docstring)."""
    sections = parsed.sections
    kept: list[Section] = []
    for i, s in enumerate(sections):
        if not s.text.strip() and i + 1 < len(sections):
            nxt = sections[i + 1].heading_path
            if len(nxt) > len(s.heading_path) and nxt[: len(s.heading_path)] == s.heading_path:
                continue
        kept.append(s)
    if not kept:
        return []

    # Exact counts for short strings only: a text with more characters than the budget has
    # (for Chinese) more tokens too, and goes straight to the sentence splitter, which counts
    # what it keeps.  Over-estimating only means fewer merges, never a chunk over budget.
    strings = {s.text.strip() for s in kept} | {h for s in kept for h in s.heading_path}
    short = sorted(t for t in strings if len(t) <= max_tokens)
    counted = dict(zip(short, _count(short), strict=True))

    def est(t: str) -> int:
        return counted.get(t, _BIG)

    path_budget: dict[tuple[str, ...], int] = {}

    def budget_for(path: list[str]) -> int:
        key = tuple(path)
        if key not in path_budget:
            cost = sum(min(est(h), max_tokens) + 1 for h in path)
            path_budget[key] = max(max_tokens - cost, max_tokens // 2, 1)
        return path_budget[key]

    groups: list[_Group] = []
    for s in kept:
        body = s.text.strip()
        if groups:
            g = groups[-1]
            same_top = (g.path[:1] or [None]) == (s.heading_path[:1] or [None])
            if same_top and (len(body) < min_chars or g.body_chars < min_chars):
                headers = _inline_headers(g.last_path, s.heading_path)
                add = sum(est(h) + 1 for h in headers) + (est(body) + 1 if body else 0)
                if g.estimate + add <= budget_for(g.path):
                    g.parts.extend(headers)
                    if body:
                        g.parts.append(body)
                    g.last_path = s.heading_path
                    g.estimate += add
                    g.body_chars += len(body)
                    continue
        groups.append(
            _Group(
                path=list(s.heading_path),
                parts=[body] if body else [],
                last_path=s.heading_path,
                estimate=est(body) if body else 0,
                body_chars=len(body),
            )
        )

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
        budget = budget_for(g.path)
        n = exact[i] if i in exact else (est(text) if len(g.parts) <= 1 else _BIG)
        if n <= budget:
            pieces.append((g, text))
        else:
            pieces.extend((g, p) for p in _split_text(text, budget))

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

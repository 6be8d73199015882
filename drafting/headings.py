"""The 公文 heading tree: markers 一、/（一）/1./（1）, inline headings, enumerations, sections.

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
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

from .numerals import cn_to_int
from .records import Section
from .sentences import WS

__all__ = [
    "CJK",
    "HEADING_LEVELS",
    "HEADING_TRIM",
    "SectionBuilder",
    "find_enumerations",
    "heading_level",
    "inline_heading",
    "is_unnumbered_heading",
    "marker",
    "split_marker",
    "split_run_together",
]

HEAD_MAX = 40
LONG_MAX = 60

_CN = "一二三四五六七八九十"
CJK = "\u4e00-\u9fff"

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
    return marker(line.strip())[0]


def split_marker(line: str) -> tuple[int, str, str]:
    """(level, marker, rest) of a heading line (``（二）强化保障`` → 2, ``（二）``, ``强化保障``); (0,
    "", line)."""
    s = line.strip()
    level, end = marker(s)
    return (level, s[:end], s[end:].strip()) if level else (0, "", s)


def marker(line: str) -> tuple[int, int]:
    """(level, end of marker) for a stripped line; (0, 0) when there is none."""
    if not line or not _MARKER_FIRST.match(line):
        return 0, 0
    for level, pattern in HEADING_LEVELS.items():
        m = pattern.match(line)
        if m:
            return level, m.end()
    return 0, 0


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


_RUNIN_RE = re.compile(
    rf"(?<=[{CJK}”》）])"
    rf"(?:(?:19|20)\d{{2}}年(?:是|，|,|以来)|今年是|今年以来|做好今年|过去的[{_CN}]年|"
    rf"过去[{_CN}]年[，,里中来]|刚刚过去的|过年的一年|一年来|[二三四五六七八九十]年来|今后五年，)"
)
HEADING_TRIM = "。！？!?：:，,；;、 \u3000"


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


def inline_heading(line: str, end: int) -> tuple[str, str]:
    """(heading text, body text) of a stripped line whose heading marker ends at ``end``."""
    mark, rest = line[:end], line[end:]
    lead = len(rest) - len(rest.lstrip(WS))
    head, body, label = _split_inline(rest[lead:])
    head_text = mark + head if label else (mark + rest[:lead] + head).rstrip(HEADING_TRIM)
    return head_text or mark, body.strip(WS)


@dataclass
class SectionBuilder:
    """The open heading path and its body lines; every heading closes the section before it."""

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

    def add(self, line: str) -> None:
        """A body line of the open section."""
        self.lines.append(line)

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
    rf"([{_CN}]{{1,3}}是|[{_CN}]{{1,3}}要(?=[{CJK}])|第[{_CN}]{{1,3}}(?=[是要])|首先|其次|再次|最后(?!一))"
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


def split_run_together(line: str) -> list[str]:
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


_NUMBERED_START_RE = re.compile(r"\d+(?:[.．、\s]|$)|\d{1,3}[^\d年]")
_PUNCT_ANY = re.compile(r"[。，、；：！？,;:!?…]")


def is_unnumbered_heading(line: str, prev_kept: str) -> bool:
    """A short unnumbered line after a finished sentence: a level-1 heading if more text follows.

    ``prev_kept`` is the last line kept before it; whether more text follows is the caller's check.
    """
    if len(line) > 30 or _PUNCT_ANY.search(line) or not re.search(rf"[{CJK}]", line):
        return False
    if _NUMBERED_START_RE.match(line) or line[0] in "*＊-—":
        return False
    return bool(prev_kept) and prev_kept[-1] in "。！？!?；;：:”）)"

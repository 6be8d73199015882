"""Document metadata from the front matter: title, issuer, date, year and document type.

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
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .headings import CJK, marker
from .numerals import cn_digits_to_int
from .records import DocMeta

__all__ = ["FrontMatter"]

TITLE_MAX = 60

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
_ORG_LINE_RE = re.compile(rf"^[{CJK}（）()、]{{2,40}}?{_ORG_SUFFIX}(?:[（(][^）)]*[）)])?$")
_SUBTITLE_RE = re.compile(r"^(?:——|—|--)|在.{2,60}?(?:会议|大会)上")
_SPEAKER_RE = re.compile(
    rf"^[{CJK}（）()]{{0,30}}?(?:长|主席|书记|主任)\s+[{CJK}·]{{1,2}}(?:\s?[{CJK}·]{{1,10}})?$"
)
_SALUTATION_RE = re.compile(r"^(?:尊敬的|各位|同志们|亲爱的)[^。！？!?]{0,40}?[：:！!]$")
_ADDRESSEE_RE = re.compile(r"^各[^。！？]{1,100}[：:]$")
_SALUTATION_PREFIX_RE = re.compile(r"^(?:各位代表|各位委员|同志们)[：:，,！!]\s*")
_CHROME_RE = re.compile(r"首页.*(?:登录|无障碍|政务公开)|(?:登录|无障碍).*首页")

_YEAR_RE = re.compile(r"(?<!\d)((?:19|20)\d{2})(?=\s*年|-|—|–|－|/|\.|$)")
_CN_YEAR_RE = re.compile(r"([〇○零一二三四五六七八九]{4})(?=年)")
_PAREN_RE = re.compile(r"（[^（）]*）|\([^()]*\)")
_ORG_RE = re.compile(rf"^[{CJK}]{{1,25}}?{_ORG_SUFFIX}")
_REGION_RE = re.compile(
    rf"^(?:[{CJK}]{{2,8}}?(?:特别行政区|自治区|自治州|地区|省|(?<![本全我该各城])[市区县]|州|盟|旗))+"
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
    m = re.match(rf"^([{CJK}]{{2,30}}?)关于", core)
    if m:
        return m.group(1)
    m = re.match(rf"^([{CJK}]{{2,30}}?)在[{CJK}“”]{{2,40}}?上的", core)
    if m:
        return _org_or_region(m.group(1)) or m.group(1)
    _, ys, ye = _year_in(core)
    if ys > 0:
        before = core[:ys].strip(" 　，,、")
        found = _org_or_region(before)
        if found:
            return found
        if before and len(before) <= 20 and re.fullmatch(rf"[{CJK}]+", before):
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


def _is_issuer_or_date(line: str) -> bool:
    return bool(_DATE_LINE_RE.match(line) or _ISSUER_DATE_RE.match(line) or _SUBTITLE_RE.match(line))


@dataclass
class FrontMatter:
    """The front-matter passes over a document's normalised lines, and the :class:`DocMeta` they find.

    ``content`` indexes the non-empty lines; ``drop`` collects the lines that are front matter
    (never section text).  :meth:`find_title` and :meth:`find_signatures` run before the body
    pass, which asks :meth:`body_line` about each kept line; :meth:`finish` resolves the metadata.
    """

    lines: list[str]
    styled: dict[str, int]
    styled_title: str = ""
    hints: DocMeta | None = None
    meta: DocMeta = field(default_factory=DocMeta)
    drop: set[int] = field(default_factory=set)
    subtitle_date: str = ""
    content: list[int] = field(init=False)
    title_refs: list[str] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        self.content = [i for i, x in enumerate(self.lines) if x]

    def find_title(self) -> None:
        """The styled title, else a first line that looks like one (dropped from the body)."""
        lines, content = self.lines, self.content
        if self.styled_title:
            self.meta.title = self.styled_title
            for i in content[:3]:
                if lines[i] == self.styled_title:
                    self.drop.add(i)
                    break
        elif content:
            first = lines[content[0]]
            nxt = lines[content[1]] if len(content) > 1 else ""
            if self._looks_like_title(first, nxt):
                self.meta.title = first
                self.drop.add(content[0])
        self.title_refs = [t for t in (self.meta.title, self.hints.title if self.hints else "") if t]

    def _looks_like_title(self, first: str, nxt: str) -> bool:
        if (
            marker(first)[0]
            or first in self.styled
            or _SENT_END.search(first)
            or first.startswith(("——", "—", "--"))
        ):
            return False
        if any(r.match(first) for r in (_DATE_LINE_RE, _SALUTATION_RE, _ADDRESSEE_RE, _SPEAKER_RE)):
            return False
        return (
            len(first) <= TITLE_MAX
            or (len(first) <= 200 and bool(nxt) and _is_issuer_or_date(nxt))
            or (self.hints is not None and bool(self.hints.title) and first.startswith(self.hints.title))
        )

    def find_signatures(self) -> None:
        """Date lines anywhere, with the organisation line right before one, and issuer + date lines."""
        lines, meta = self.lines, self.meta
        for k, i in enumerate(self.content):
            s = lines[i]
            if i in self.drop:
                continue
            m = _DATE_LINE_RE.match(s)
            if m:
                self.drop.add(i)
                meta.date = meta.date or m.group(1)
                if k > 0:
                    j = self.content[k - 1]
                    prev = lines[j]
                    if j not in self.drop and _ORG_LINE_RE.match(prev) and marker(prev)[0] == 0:
                        self.drop.add(j)
                        meta.issuer = meta.issuer or _clean_issuer(prev)
                continue
            m2 = _ISSUER_DATE_RE.match(s)
            if (
                m2
                and len(m2.group(1)) <= 60
                and not _SENT_END.search(m2.group(1))
                and _ORG_LINE_RE.match(m2.group(1))
                and marker(s)[0] == 0
            ):
                self.drop.add(i)
                meta.issuer = meta.issuer or _clean_issuer(m2.group(1))
                meta.date = meta.date or m2.group(2)

    def more_after(self, k: int) -> bool:
        """Whether a kept line follows the ``k``-th content line."""
        return any(j not in self.drop for j in self.content[k + 1 :])

    def body_line(self, line: str, *, seen_heading: bool, at_start: bool) -> str | None:
        """``line`` as body text, or None when it is front matter (salutation, chrome, subtitle …).

        ``seen_heading``: a heading came before; ``at_start``: no heading or body line came before.
        """
        if _SALUTATION_RE.match(line) and len(line) <= 50:
            return None
        if not seen_heading and self._is_chrome_or_title(line):
            return None
        return self._after_opening(line) if at_start else line

    def _is_chrome_or_title(self, line: str) -> bool:
        if _CHROME_RE.search(line) and not _SENT_END.search(line):
            return True
        repeats_title = any(len(line) >= 4 and (t == line or t.startswith(line)) for t in self.title_refs)
        return repeats_title and marker(line)[0] == 0

    def _after_opening(self, line: str) -> str | None:
        """Subtitle, speaker and addressee lines dropped; a leading ``各位代表：`` removed."""
        if not _SENT_END.search(line) and len(line) <= 150 and _SUBTITLE_RE.search(line):
            d = _DATE_ANY_RE.search(line)
            if d and not self.subtitle_date:
                self.subtitle_date = d.group(0)
            return None
        if (_SPEAKER_RE.match(line) and len(line) <= 40) or _ADDRESSEE_RE.match(line):
            return None
        pm = _SALUTATION_PREFIX_RE.match(line)
        if pm:
            line = line[pm.end() :]
        return line or None

    def finish(self) -> DocMeta:
        """Issuer, year and document type from the title when not found; non-empty hints win."""
        meta, hints = self.meta, self.hints
        meta.date = meta.date or self.subtitle_date
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
        return meta

"""Conformance of a draft to the house style (a score out of 100 with Chinese notes).

Conformance (:func:`conformance`)
=================================

A score out of 100, made of eight parts; a part that does not apply gives full marks.  Each
fault takes a share of its part's weight (:data:`WEIGHTS`):

* **成段叙述 (35)** – the share of the body written as whole sentences (:func:`prose_share`): 80 % or
  more earns all 35, 30 % or less earns nothing, linear between.  A bare list of bullets (one per
  line, joined with ；, or a Markdown list) is not a draft; this part is what keeps it below 60
  while real passages score 80 or more (calibrated in bench/style_calibration.py, docs/benchmarks.md).
* **标题层级 (13)** – markers in proper nesting: no ``（一）``/``1.`` before the first ``一、`` when the
  draft has level-1 headings, no skipped level (``一、`` straight to ``1.``), consecutive numbers
  inside the text (``（一）`` then ``（三）``, or a repeat), full-width brackets (``（一）`` not ``(一)``).
  A section drafted on its own may start at any number (``（二）``, ``三、``); a level restarts at 1
  only under a parent heading that is in the text.  Notes quote a heading up to its natural end
  (:func:`heading_quote`).  Half the part per kind of fault.
* **句子长度 (13)** – mean body-sentence length against the profile: over p90 loses 60 %, any sentence
  over twice p90 loses 40 % more; a mean under p10 (choppy fragments) loses 30 %.
* **常用开头 (10)** – share of sentences whose head word is one of the profile's openers or verbs;
  30 % or more earns all of it, less earns its share (only with 3 or more sentences).
* **列举方式 (6.5)** – a list of 3 or more items (bullet lines, short item lines, or items joined with ；
  in a line without a full stop) without the enumeration habit (``一是…二是…三是``, or the profile's
  most used family) loses all of it.
* **人称 (6.5)** – a bare ``我`` loses all of it and ``我们`` half, unless at least 20 % of the corpus's
  documents use it; ``我局``, ``我市`` are fine.
* **格式残留 (9.5)** – Markdown and English artefacts: ``**``/``__`` emphasis, ``#`` headings,
``-``/``*``/``•``
  bullets, code fences, English words (upper-case acronyms such as PPP are fine), ASCII
  punctuation between Chinese characters.  A third of the part per kind.
* **结尾 (6.5)** – a whole document (two or more ``一、`` headings, or ``whole_document=True``) must end
  with a closing-like sentence (one with a closing formula, :func:`closing_frame`).

The body of a run-in heading (``（二）强化安全监管。全年开展…``) is scored as body.

Pure: only initialises jieba's dictionary on first use (:func:`drafting.style_reading.jieba_dict`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from drafting.headings import find_enumerations, heading_level
from drafting.numerals import cn_to_int
from drafting.sentences import split_sentences
from drafting.style_profile import StyleProfile
from drafting.style_reading import (
    LEVEL_MARKERS,
    WE_RE,
    bare_i,
    closing_frame,
    enum_family,
    family_example,
    head,
    jieba_dict,
    text_lines,
)

__all__ = ["Conformance", "conformance"]

# ``**`` / ``__`` emphasis marks; not the masked figures of the seeds (``*.**万个``)
_MD_BOLD_RE = re.compile(r"(?<![\d.*＊])\*\*(?![\d.*＊])|(?<![\w])__|__(?![\w])")
_MD_HEADING_RE = re.compile(r"^\s{0,3}#{1,6}\s*\S", re.MULTILINE)
_BULLET_RE = re.compile(r"^\s*(?:[-*+•·●▪◆■]\s*|\d{1,2}[)）]\s*|[①②③④⑤⑥⑦⑧⑨⑩]\s*)(?=\S)", re.MULTILINE)
_DASH_BULLET_RE = re.compile(r"^\s*[-*+]\s+\S", re.MULTILINE)
_ROUND_BULLET_RE = re.compile(r"^\s*[•·●▪◆■]\s*\S", re.MULTILINE)
_CODE_RE = re.compile(r"```|^\s*>\s", re.MULTILINE)
_ENGLISH_RE = re.compile(r"(?<![A-Za-z])[A-Za-z]*[a-z][A-Za-z]*(?![A-Za-z])")
_ENGLISH_OK = frozenset(["REITs", "kWh", "MWh", "GWh", "TWh", "App", "app", "km", "kV", "mm", "cm", "Wi",
                         "Fi"])
_ASCII_PUNCT_RE = re.compile(r"(?<=[\u4e00-\u9fff])[,;:!?()](?=[\u4e00-\u9fff(]|$)|(?<=[\u4e00-\u9fff])"
                             r"\((?=[\u4e00-\u9fff])")
_HALF_PAREN_HEADING_RE = re.compile(r"^\s*\((?:[一二三四五六七八九十]{1,3}|\d{1,2})\)")


# --------------------------------------------------------------------------------------------
# conformance


@dataclass
class Conformance:
    score: float  # 0–100
    notes: list[str]  # Chinese; each says what to change
    parts: dict[str, float] = field(default_factory=dict)  # points earned per check

    def to_json(self) -> dict[str, Any]:
        return {"score": round(self.score, 1), "notes": list(self.notes), "parts": dict(self.parts)}


# A bare list is not a draft: 成段叙述 carries the most weight (calibrated in bench/style_calibration.py,
# docs/benchmarks.md: real passages score ≥ 80, lists of bullets below 60).
WEIGHTS = {
    "成段叙述": 35.0,
    "标题层级": 13.0,
    "句子长度": 13.0,
    "常用开头": 10.0,
    "列举方式": 6.5,
    "人称": 6.5,
    "格式残留": 9.5,
    "结尾": 6.5,
}
PROSE_FULL = 0.8  # share of body text in whole sentences that earns all of 成段叙述
PROSE_NONE = 0.3  # share at or below which it earns nothing

def _heading_number(level: int, line: str) -> int:
    m = re.match(r"^[（(]?([一二三四五六七八九十]{1,3}|\d{1,2})", line.strip())
    if not m:
        return 0
    tok = m.group(1)
    if tok.isdigit():
        return int(tok)
    return cn_to_int(tok) or 0


_HEADING_END_RE = re.compile(r"[。！？；：:;!?]")
_PHRASE_END_RE = re.compile(r"[，、,]")
HEADING_QUOTE_CHARS = 40


def heading_quote(line: str, limit: int = HEADING_QUOTE_CHARS) -> str:
    """A heading as a note quotes it: up to its natural end (a run-in heading stops before its
    first 。；： and the body after it), never cut mid-phrase: a heading longer than ``limit``
    is cut after its last whole phrase (at ， or 、) that fits, with …"""
    s = line.strip()
    m = _HEADING_END_RE.search(s)
    if m:
        s = s[: m.start()]
    if len(s) <= limit:
        return s
    cut = max((m.start() for m in _PHRASE_END_RE.finditer(s, 0, limit + 1)), default=0)
    return (s[:cut] if cut else s[:limit]) + "…"


def _check_headings(lines: list[str]) -> list[str]:
    heads = [(heading_level(s), s) for s in lines if heading_level(s)]
    notes: list[str] = []
    if not heads:
        return notes
    levels = [lvl for lvl, _ in heads]
    has_l1 = 1 in levels
    first_l1 = levels.index(1) if has_l1 else -1
    if has_l1 and first_l1 > 0:
        lvl, s = heads[0]
        notes.append(
            f"标题层级顺序不对：“{heading_quote(s)}”（{LEVEL_MARKERS[lvl]}级）出现在第一个一级标题“一、”之前，"
            f"应先写“一、”再写“{LEVEL_MARKERS[lvl]}”"
        )
    root = 1 if has_l1 else min(levels)
    cur = root - 1
    skipped = ""
    start = first_l1 if has_l1 else 0
    for lvl, s in heads[start:]:
        if lvl > cur + 1 and not skipped:
            skipped = (
                f"标题跳级：“{heading_quote(s)}”（{LEVEL_MARKERS[lvl]}级）"
                f"前缺少“{LEVEL_MARKERS[lvl - 1]}”级标题，"
                f"应按“一、”“（一）”“1.”“（1）”逐级使用"
            )
        cur = lvl
    if skipped:
        notes.append(skipped)
    # A section drafted on its own may start at （二） or 三、: the first number of a level is free
    # unless a shallower heading above it is in the text (then it restarts at 1).  After that,
    # numbers run on by one: a gap or a repeat inside the text is a fault.
    expected: dict[int, int] = {}
    seen: set[int] = set()
    gap = ""
    for lvl, s in heads:
        num = _heading_number(lvl, s)
        want = expected.get(lvl, 1 if any(k < lvl for k in seen) else 0)
        if num and want and num != want and not gap:
            if num < want:
                gap = (
                    f"标题序号重复：“{heading_quote(s)}”与前面的标题同为第{num}项，此处应为第{want}项，"
                    "请按顺序编号"
                )
            else:
                gap = f"标题序号不连续：“{heading_quote(s)}”处应为第{want}项，请按顺序编号"
        expected[lvl] = (num or want or 1) + 1
        seen.add(lvl)
        for deeper in [k for k in expected if k > lvl]:
            del expected[deeper]
    if gap:
        notes.append(gap)
    half = [s for _l, s in heads if _HALF_PAREN_HEADING_RE.match(s)]
    if half:
        marker = m.group().strip() if (m := _HALF_PAREN_HEADING_RE.match(half[0])) else half[0][:4]
        notes.append(f"标题序号应使用全角括号，如“（一）”“（1）”，不要写成“{marker}”")
    return notes


_TERMINATED_RE = re.compile(r"[^。！？!?]*(?:[。！？!?]+[”’」』）)]*|[：:]$)")
_CONTINUES_RE = re.compile(r"[，、；,;]$")
_CLAUSE_RE = re.compile(r"[；;]")
_ENUM_CLAUSE_RE = re.compile(r"(?:[一二三四五六七八九十]{1,3}[是要]|第[一二三四五六七八九十]{1,3}|首先|其次|"
                             r"再次|最后)")


def prose_share(body: list[str]) -> float:
    """Share of the body's characters written as whole sentences (1.0 for an empty body).

    A whole sentence ends with 。！？ (or a paragraph ends with ： leading into what follows); a line
    ending with ， ； or 、 runs on into the next line (wrapped text).  Not whole sentences: a bullet
    line (``-``, ``•``, ``1)``, ``①``), what trails after a paragraph's last full stop (notes on their
    own lines, notes joined with ；), and a sentence that only strings three or more items together
    with ；, none of them with a comma or 、 (``推进项目建设；加强安全管理；提升服务水平。``) unless they
    are enumerated (``一是强化保障；二是健全机制；三是加快建设。``).
    """
    total = prose = 0
    paragraphs: list[str] = []
    cur = ""
    for line in body:
        text = line.strip()
        total += len(text)
        if not text or _BULLET_RE.match(text):
            continue
        cur += text
        if not _CONTINUES_RE.search(text):
            paragraphs.append(cur)
            cur = ""
    paragraphs.append(cur)
    for para in paragraphs:
        for m in _TERMINATED_RE.finditer(para):
            clauses = [c for c in _CLAUSE_RE.split(m.group()) if c.strip()]
            enumerated = sum(1 for c in clauses if _ENUM_CLAUSE_RE.match(c.strip())) >= 2  # 一是…；二是…
            if len(clauses) >= 3 and not enumerated and not any(re.search(r"[，,、]", c) for c in clauses):
                continue
            prose += len(m.group())
    return prose / total if total else 1.0


_RUN_IN_END_RE = re.compile(r"[。！？；：:;!?]")


def _split_run_in(text: str) -> tuple[list[str], list[str]]:
    """(heading lines, body lines) with a run-in heading's body (``（二）强化安全监管。全年开展…``,
    ``1.住房保障：新开工…``) taken as body, in its place."""
    heads: list[str] = []
    body: list[str] = []
    for s in text_lines(text):
        if not heading_level(s):
            body.append(s)
            continue
        heads.append(s)
        m = _RUN_IN_END_RE.search(s)
        rest = s[m.end() :].strip() if m else ""
        if rest:
            body.append(rest)
    return heads, body


def _list_items(body: list[str]) -> int:
    """Largest run of list-looking lines (bullets, or short lines without a full stop), or of
    items joined with ； in a line without any full stop."""
    best = run = 0
    for s in body:
        if not re.search(r"[。！？]", s):
            best = max(best, len([c for c in _CLAUSE_RE.split(s) if c.strip()]))
        if _BULLET_RE.match(s) or (len(s) <= 30 and not re.search(r"[。！？]", s)):
            run += 1
            best = max(best, run)
        else:
            run = 0
    return best


def conformance(  # noqa: C901  one scored part per branch, each with its own note
    text: str, profile: StyleProfile, *, whole_document: bool | None = None
) -> Conformance:
    """Score ``text`` (a section or a whole draft) against the house style; see the module docstring.

    ``whole_document`` None means: a whole document when the text has two or more ``一、`` headings.
    """
    lines = [s.strip(" \t\u3000\xa0") for s in text.splitlines()]
    lines = [s for s in lines if s]
    heads, body = _split_run_in(text)
    notes: list[str] = []
    parts = dict(WEIGHTS)
    d = jieba_dict()

    def lose(part: str, share: float) -> None:
        """Take ``share`` of the part's weight off (a part never goes below 0)."""
        parts[part] = max(0.0, parts[part] - share * WEIGHTS[part])

    # 成段叙述
    share = prose_share(body)
    if share < PROSE_FULL:
        lose("成段叙述", min(1.0, (PROSE_FULL - share) / (PROSE_FULL - PROSE_NONE)))
        notes.append(
            f"正文像要点罗列，不像成段的文字：只有{share:.0%}的文字写成了以“。”结尾的完整句子。"
            "请把要点连成完整的句子，补上主语、动词和连接词，用“。”结句，成段叙述"
        )

    # 标题层级
    head_notes = _check_headings(lines)
    if head_notes:
        lose("标题层级", 0.5 * len(head_notes))
        notes.extend(head_notes)

    # 句子长度
    clean_body = [_MD_BOLD_RE.sub("", _BULLET_RE.sub("", s)) for s in body]
    sentences = [s for line in clean_body for s in split_sentences(line) if len(s) >= 2]
    med, p10, p90 = (profile.sentence_stat(k) for k in ("median", "p10", "p90"))
    if sentences:
        lengths = [len(s) for s in sentences]
        mean = sum(lengths) / len(lengths)
        longest = max(lengths)
        if mean > p90:
            lose("句子长度", 0.6)
            notes.append(
                f"句子偏长：平均{mean:.0f}字，本局材料中位数{med:.0f}字（90%的句子不超过{p90:.0f}字），"
                "请在“，”处断句，拆成几个短句"
            )
        if longest > 2 * p90:
            lose("句子长度", 0.4)
            notes.append(f"有一句长达{longest}字（超过{2 * p90:.0f}字），请拆分")
        elif mean < p10 and len(sentences) >= 3:
            lose("句子长度", 0.3)
            notes.append(f"句子过碎：平均{mean:.0f}字，本局材料中位数{med:.0f}字，可把短句合并成完整的句子")

    # 常用开头
    stock = profile.opener_set()
    verbset = {w for w, _n in profile.verbs}
    if len(sentences) >= 3 and stock:
        hits = 0
        for s in sentences:
            opener, verb = head(s, d, verbset)
            if opener and (opener in stock or verb in stock):
                hits += 1
        share = hits / len(sentences)
        if share < 0.3:
            lose("常用开头", 1 - share / 0.3)
            top = "、".join(w for w, _ in profile.openers[:5]) or "坚持、深入推进、扎实开展"
            notes.append(f"常用开头词偏少：仅{share:.0%}的句子以本局常用动词开头，可多用{top}等开头")

    # 列举方式
    n_items = _list_items(body)
    if n_items >= 3:
        fam_markers = [enum_family(m) for m in find_enumerations("\n".join(body))]
        if len(fam_markers) < 2:
            lose("列举方式", 1.0)
            fam = profile.enumerations[0][0] if profile.enumerations else "一是/二是"
            notes.append(f"列举了{n_items}项却没有用列举句式：请改成“{family_example(fam)}”连贯叙述，不要逐条罗列")

    # 人称
    body_text = "\n".join(body)
    bare = len(bare_i(body_text))
    if bare and profile.first_person.get("我", 0.0) < 0.2:
        lose("人称", 1.0)
        notes.append(f"出现第一人称“我”{bare}处：公文应以单位口吻，改为“我局”或省略主语")
    we = len(WE_RE.findall(body_text))
    if we and profile.first_person.get("我们", 0.0) < 0.2:
        lose("人称", 0.5)
        notes.append(f"“我们”出现{we}处，本局材料很少这样写，建议改为“我局”或省略主语")

    # 格式残留
    art: list[str] = []
    n_bold = (len(_MD_BOLD_RE.findall(text)) + 1) // 2
    if n_bold:
        art.append(f"删除Markdown加粗符号“**”（{n_bold}处），需要强调的内容改为小标题或“一是……”句式")
    if _MD_HEADING_RE.search(text):
        art.append("删除行首的“#”号，标题改用“一、”“（一）”“1.”“（1）”编号")
    n_dash = len(_DASH_BULLET_RE.findall(text)) + len(_ROUND_BULLET_RE.findall(text))
    if n_dash:
        art.append(f"删除行首的项目符号“-”“•”（{n_dash}处），改为“一是……二是……”或成段叙述")
    if _CODE_RE.search(text):
        art.append("删除代码块或引用符号（```、>）")
    english = [w for w in _ENGLISH_RE.findall(text) if len(w) >= 3 and w not in _ENGLISH_OK]
    if english:
        art.append(f"出现英文“{english[0]}”等{len(english)}处，请改为中文表述")
    ascii_p = _ASCII_PUNCT_RE.findall(text)
    if ascii_p:
        art.append(f"中文之间使用了半角标点“{ascii_p[0]}”（{len(ascii_p)}处），请改为全角标点")
    if art:
        lose("格式残留", len(art) / 3)
        notes.extend(art)

    # 结尾
    whole = (whole_document if whole_document is not None
        else sum(1 for h in heads if heading_level(h) == 1) >= 2)
    if whole and sentences:
        last = sentences[-1]
        if not closing_frame(last):
            lose("结尾", 1.0)
            example = profile.closings[0][0] if profile.closings else "…推向新高度"
            notes.append(f"全文缺少收束语：结尾可参照本局材料常用写法，如“{example}”")

    score = round(sum(parts.values()), 1)
    return Conformance(score=max(0.0, min(100.0, score)), notes=notes, parts=parts)

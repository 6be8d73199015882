"""The ``offline`` engine: a first draft composed from the bureau's own sentences, with no model.

For each bullet it looks for an exemplar sentence whose figure slots (numbers, or ``*`` masks in the
seed reports) have the same units, in the same order, and which talks about the same thing
(character-bigram overlap); it fills the slots with the writer's figures.  Bullets without such a
template become house-style sentences (a stock opener where the bullet has none).  The result is
laid out under a house-style heading as 一是…二是…三是….  It never copies a number from the corpus:
anything number-like that the writer did not give becomes 【待补充】.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from drafting.engines import Message
from drafting.errors import EngineError
from drafting.guard import extract_figures, same_value
from drafting.records import Hit
from drafting.structure import heading_level, split_sentences

GAP = "【待补充】"
ENUM = "一二三四五六七八九十"
DEFAULT_OPENERS = ("扎实推进", "持续推进", "深入开展", "着力抓好", "全力推进")
_STOCK_STARTS = (
    "坚持", "深入", "扎实", "加快", "推进", "持续", "全面", "积极", "强化", "完成", "新增", "实施", "开展",
    "组织", "落实", "加强", "提升", "优化", "建成", "开工", "累计", "推动", "着力", "围绕", "聚焦", "严格",
    "健全", "完善", "建立", "召开", "印发", "制定", "出台", "抓好", "做好", "全力", "不断", "大力", "稳步",
    "新开工", "筹集", "发放", "整治", "改造",
)
# bigrams too common in figure sentences to say what a sentence is about
_COMMON = frozenset({"完成", "同比", "比增", "增长", "累计", "共计", "其中", "全年", "全市", "以上", "达到"})
_MASK = re.compile(r"\*[\*.．]*\s*(?:万|亿|千)?(?:个百分点|平方米|立方米|公里|千米|万元|亿元|元|个|户|套|栋|间|人次|人|家|项|次|件|处|所|座|条|辆|吨|亩|公顷|倍|天|小时|台|张|名|批|场|%|％)?")
_BULLET_MARK = re.compile(r"^\s*(?:[-•·*＊]|\d+[.、．)）]|[（(]\d+[)）]|[一二三四五六七八九十]+[是、]|第[一二三四五六七八九十]+[，、])\s*")
_ACTION = re.compile(r"^(?P<topic>[^，。；\d]{2,14})(?P<verb>完成|新增|新开工|开工|建成|实现|达到|累计|共计|改造|实施|发放|筹集|供应|整治|处置|化解)(?P<rest>.*)$")


@dataclass
class Template:
    sentence: str
    slots: list[tuple[int, int, str]]  # (start, end, unit) of each figure or mask in the sentence
    source: Hit


def clean_bullet(text: str) -> str:
    text = _BULLET_MARK.sub("", text.strip())
    return text.strip().rstrip("。；;，,、 ")


def bigrams(text: str) -> set[str]:
    chars = [c for c in text if "\u4e00" <= c <= "\u9fff"]
    return {chars[i] + chars[i + 1] for i in range(len(chars) - 1)}


def _overlap(a: str, b: str) -> float:
    x, y = bigrams(a) - _COMMON, bigrams(b) - _COMMON
    return len(x & y) / max(1, min(len(x), len(y)))


def _thing_before(text: str, start: int) -> str:
    """The words just before a figure, back to the previous punctuation: what it counts."""
    head = re.split(r"[，。；、：,;:（）()]", text[:start])[-1]
    return head[-10:]


def _slots(sentence: str) -> list[tuple[int, int, str]]:
    slots = [(f.start, f.end, f.unit) for f in extract_figures(sentence) if f.start is not None and f.end is not None]
    for m in _MASK.finditer(sentence):
        unit = re.sub(r"[\*.．\s万亿千]", "", m.group())
        slots.append((m.start(), m.end(), unit.replace("％", "%")))
    return sorted(slots)


def templates_from(hits: Sequence[Hit]) -> list[Template]:
    out: list[Template] = []
    for hit in hits:
        for sentence in split_sentences(hit.chunk.text):
            sentence = sentence.strip()
            if 10 <= len(sentence) <= 120 and heading_level(sentence) == 0:
                slots = _slots(sentence)
                if slots:
                    out.append(Template(sentence, slots, hit))
    return out


def fill_template(bullet: str, templates: list[Template], min_overlap: float = 0.3) -> tuple[str, Hit] | None:
    """The best template whose slot units match the bullet's figures, filled with them."""
    figs = [f for f in extract_figures(bullet) if f.start is not None]
    if not figs:
        return None
    units = [f.unit for f in figs]
    best: tuple[float, Template] | None = None
    for t in templates:
        if [u for _s, _e, u in t.slots] != units:
            continue
        things = [(_thing_before(bullet, f.start or 0), _thing_before(t.sentence, s)) for f, (s, _e, _u) in zip(figs, t.slots, strict=True)]
        if not all(_overlap(a, b) >= 0.5 for a, b in things if a and b):
            continue
        score = _overlap(bullet, t.sentence)
        if score >= min_overlap and (best is None or score > best[0]):
            best = (score, t)
    if best is None:
        return None
    t = best[1]
    text = t.sentence
    for (start, end, _unit), fig in sorted(zip(t.slots, figs, strict=True), key=lambda p: -p[0][0]):
        text = text[:start] + fig.raw + text[end:]
    return text.rstrip("。；;，, "), t.source


def house_sentence(bullet: str, opener: str) -> str:
    """A bullet as a house-style clause: keep the writer's words, add a stock opener if it has none."""
    if bullet.startswith(_STOCK_STARTS):
        return bullet
    m = _ACTION.match(bullet)
    if m:
        return f"{opener}{m.group('topic')}，{m.group('verb')}{m.group('rest')}"
    return f"{opener}{bullet}"


def house_heading(heading: str) -> str:
    heading = heading.strip().rstrip("。")
    if not heading:
        return "一、工作开展情况"
    return heading if heading_level(heading) else f"一、{heading}"


def scrub(text: str, provided: str) -> str:
    """Replace every figure or mask not given by the writer with 【待补充】 (the offline promise)."""
    allowed = extract_figures(provided)
    spans = [
        (f.start, f.end)
        for f in extract_figures(text)
        if f.start is not None and f.end is not None and not any(same_value(f, a) for a in allowed)
    ]
    spans += [(m.start(), m.end()) for m in _MASK.finditer(text)]
    for start, end in sorted(set(spans), reverse=True):
        text = text[:start] + GAP + text[end:]
    return re.sub(f"(?:{GAP})+", GAP, text)


def enumerate_clauses(clauses: list[str]) -> str:
    if len(clauses) == 1:
        return clauses[0] + "。"
    marks = [f"{ENUM[i]}是" if i < len(ENUM) else "" for i in range(len(clauses))]
    return "".join(f"{m}{c}。" for m, c in zip(marks, clauses, strict=True))


class OfflineEngine:
    """Composes from retrieved exemplars; see the module docstring."""

    name = "offline"

    def __init__(self, openers: Sequence[str] = DEFAULT_OPENERS) -> None:
        self.openers = [o for o in openers if o] or list(DEFAULT_OPENERS)
        self.used: list[Hit] = []

    def describe(self) -> str:
        return "offline：不调用模型，用本局往年材料的句式组稿"

    def health(self) -> tuple[bool, str]:
        return True, "离线组稿可用，不需要模型服务。"

    def stream(self, messages: list[Message], *, max_tokens: int | None = None) -> Iterator[str]:
        raise EngineError(
            "offline 引擎不能按自由指令改写。请用“压缩到N字”“改成一是二是三是”这类指令，"
            "或配置 openai / local 引擎后再试。"
        )

    def compose(self, heading: str, bullets: Sequence[str], hits: Sequence[Hit], provided: str) -> Iterator[str]:
        """Yield the draft paragraph by paragraph."""
        self.used = []
        templates = templates_from(hits)
        topic = re.sub(r"^[（(]?[一二三四五六七八九十\d]+[)）、.．]\s*", "", heading.strip()).rstrip("。")
        yield house_heading(heading) + "\n"
        clauses: list[str] = []
        for n, raw in enumerate(b for b in bullets if clean_bullet(b)):
            bullet = clean_bullet(raw)
            filled = fill_template(bullet, templates)
            if filled is not None:
                clauses.append(filled[0])
                if filled[1] not in self.used:
                    self.used.append(filled[1])
            else:
                clauses.append(house_sentence(bullet, self.openers[n % len(self.openers)]))
        intro = f"围绕{topic}，坚持问题导向、目标导向，压实责任、细化举措，" if topic else ""
        body = enumerate_clauses(clauses) if clauses else GAP + "。"
        if intro and len(clauses) > 1:
            body = intro + "重点抓好以下工作：" + body
        elif intro:
            body = intro + body
        yield scrub(body, provided)

    # ---- chat refinement: what can honestly be done without a model -------------------------
    def refine(self, draft: str, instruction: str) -> tuple[str, str]:
        """(new text, note to the writer).  Raises :class:`EngineError` for what it cannot do."""
        if re.search(r"一是|二是|分条|列举|分点", instruction):
            return to_enumeration(draft), "已改为“一是……二是……三是……”的列举形式。"
        m = re.search(r"(\d+)\s*字", instruction)
        if m or re.search(r"压缩|精简|缩短|简短", instruction):
            limit = int(m.group(1)) if m else int(len(draft) * 0.7)
            text, note = trim(draft, limit)
            return text, note
        raise EngineError(
            f"offline 引擎做不到“{instruction[:30]}”这类改写（需要理解语气和内容）。它能做的是："
            "“改成一是二是三是”“压缩到300字”。如需改语气，请配置 openai 或 local 引擎，或直接在稿件上修改。"
        )


def _split_heading(draft: str) -> tuple[str, str]:
    lines = draft.strip().split("\n", 1)
    if heading_level(lines[0]) and len(lines) > 1:
        return lines[0], lines[1].strip()
    return "", draft.strip()


def to_enumeration(draft: str) -> str:
    heading, body = _split_heading(draft)
    body = re.sub(r"[一二三四五六七八九十]+是", "", body)
    sentences = [s.strip().rstrip("。；;") for s in split_sentences(body) if s.strip().rstrip("。；;")]
    intro = [s for s in sentences if s.endswith("：")]
    items = [s for s in sentences if not s.endswith("：")]
    text = "".join(f"{s}" for s in intro) + enumerate_clauses(items)
    return f"{heading}\n{text}" if heading else text


def trim(draft: str, limit: int) -> tuple[str, str]:
    """Drop sentences without figures, from the end, until the body fits ``limit`` characters."""
    heading, body = _split_heading(draft)
    sentences = [s for s in split_sentences(body) if s.strip()]
    keep = list(sentences)
    for s in reversed(sentences):
        if sum(map(len, keep)) <= limit:
            break
        if not extract_figures(s) and len(keep) > 1:
            keep.remove(s)
    text = "".join(keep)
    out = f"{heading}\n{text}" if heading else text
    if len(text) > limit:
        return out, f"已删去不含数字的句子，正文仍有{len(text)}字，超过{limit}字：其余句子都含有您提供的数字，离线引擎不删数字，请手动压缩。"
    return out, f"已压缩到{len(text)}字（不含标题）。"

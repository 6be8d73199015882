"""The ``offline`` engine: a first draft composed from the writer's notes and the bureau's own sentences,
with no model.

The writer's bullets are kept word for word: they carry the facts and every figure.  A bullet that
continues the one before it (``增长10.6％``, ``其中…``, ``是上年的2倍``) joins it with "，"; the resulting
items are laid out in the house style (the style profile's enumeration habit: ``一是…二是…三是…`` for
three to seven items, plain sentences otherwise), under the heading, after a short intro when the
heading names a line of work (``围绕城市更新，重点抓好以下工作：``).  A work item without a verb
gets one of the house openers (``扎实推进老旧小区改造，完成120个``).  Only a note-like bullet
(``停车泊位：1.2万个``) is rewritten from an exemplar sentence whose figure slots (numbers, or ``*``
masks in the seed reports) have the same units in the same order and which talks about the same
thing; the writer's figures fill the slots.

It never copies a number from the corpus: in text taken from an exemplar, anything number-like the
writer did not give becomes 【待补充】; and a draft whose digits are not exactly the writer's falls
back to the bullets themselves, so a writer's figure is never dropped or replaced.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from drafting.engines import Message
from drafting.errors import EngineError
from drafting.guard import extract_figures, same_value
from drafting.quantities import digit_runs
from drafting.records import Hit
from drafting.structure import heading_level, split_sentences

GAP = "【待补充】"
ENUM = "一二三四五六七八九十"
SENTENCE_CHARS = 57  # median body-sentence length of the seed reports; a profile gives its own
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
_BULLET_MARK = re.compile(r"^\s*(?:[-•·*＊]|\d+(?:[.．](?!\d)|[、)）])|[（(]\d+[)）]|[一二三四五六七八九十]+[是、]|第[一二三四五六七八九十]+[，、])\s*")
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


_DIGITS = re.compile(r"\d+(?:\.\d+)?")
_FOLD = str.maketrans("０１２３４５６７８９．", "0123456789.")
# a bullet that goes on from the one before: a rate, a share, a comparison, "其中…"
_CONTINUES = re.compile(
    r"^(?:同比|环比|比上年|较上年|比去年|较去年|比同期|较同期|比(?!重|例)|较|增长|下降|增幅|提高|降低|减少|增加(?!值)"
    r"|其中|占|是上年|是20|是(?=\d)|为(?!民|群众|企业)|分别|年均|已|并|均|超过|连续|位居|居全|首次|创历史|且"
    r"|[一二三]、[二三]产业|惠及|带动|完成率|同口径)"
)
_MARKED = re.compile(r"^(?:\d{1,2}[.．、](?!\d)|[（(]\d{1,2}[)）]|[一二三四五六七八九十]{1,3}、(?![二三]产业))")
# a heading that names a line of work (城市更新, 住房保障), not one that states a result (…得到加强)
_PREDICATE = re.compile(
    r"得到|取得|保持|加快|持续|不断|进一步|显著|明显|成效|稳步|加强|提升|推进|实现|完成|增长|迈出|开创|加大|深化"
    r"|扎实|全面|有效|大力|积极|坚持|突出|强化|优化|改善|提高|巩固|发展|迈上|再上|有序|回顾|总结|情况"
)
_WORK_NOUN = (
    "改造", "建设", "整治", "治理", "创建", "更新", "工程", "项目", "行动", "工作", "保障", "攻坚", "服务",
    "管理", "监管", "审批", "改革", "提升", "修缮", "安置", "征收", "规划", "体检", "检查", "排查",
    "学习", "教育", "活动", "培训", "宣传", "督查", "巡察", "评估", "整改",
)
# work items that one 开展s rather than 推进es
_CAMPAIGN = ("整治", "行动", "活动", "学习", "教育", "培训", "宣传", "检查", "排查", "督查", "巡察", "体检", "评估")
_VERBISH = re.compile(
    r"完成|新增|达|实现|增长|下降|提高|建成|开工|改造|发放|筹集|累计|共|为|是|有|占|惠及|投资|开展|实施|办理|"
    r"受理|处置|整治|创建|获|评为|举办|召开|培训|检查|排查|拆除|签约|引进|减少|增加|降低|覆盖|供应|交付"
)
_NOTE_LIKE = re.compile(r"^(?P<thing>[^，。；：:\d]{2,14})[：:]\s*(?=\S)")


def digit_values(text: str) -> set[str]:
    """Every digit run in ``text`` as a value (``010.50`` → ``10.5``): what a reader counts as a number."""
    return {value for _s, _e, value in digit_runs(text)}


def scrub_digits(text: str, allowed: set[str]) -> str:
    """Replace every digit run whose value the writer did not give with 【待补充】 (years too)."""

    def repl(m: re.Match[str]) -> str:
        return m.group() if digit_values(m.group()) <= allowed else GAP

    return re.sub(f"(?:{GAP})+", GAP, _DIGITS.sub(repl, text.translate(_FOLD)))


def tidy_bullet(text: str) -> str:
    """A bullet as the writer meant it: list bullets and 一是 markers off, numbers and 1./（一） kept."""
    text = re.sub(r"^\s*(?:[-•·*＊]\s*|[一二三四五六七八九十]+是\s*|第[一二三四五六七八九十]+[，、]\s*)+", "", text.strip())
    return text.strip().rstrip("。；;，,、 ")


def group_clauses(bullets: Sequence[str]) -> list[list[str]]:
    """Bullets in order, a bullet that continues the one before (增长…, 其中…) joined to it."""
    groups: list[list[str]] = []
    for b in bullets:
        if groups and _CONTINUES.match(b) and not _MARKED.match(groups[-1][-1]):
            groups[-1].append(b)
        else:
            groups.append([b])
    return groups


def work_topic(heading: str) -> str:
    """The heading's topic when it names a line of work (``（二）城市更新`` → ``城市更新``); else ""."""
    topic = re.sub(r"^[（(]?[一二三四五六七八九十\d]+[)）、.．]\s*", "", heading.strip()).rstrip("。")
    if not 2 <= len(topic) <= 12 or re.search(r"[\d，。；：、,;:“”]", topic) or _PREDICATE.search(topic):
        return ""
    return topic


def note_like(bullet: str) -> bool:
    """A jotted note rather than a clause: ``停车泊位：1.2万个``, ``公共停车泊位1.2万个``."""
    if not _DIGITS.search(bullet):
        return False
    if _NOTE_LIKE.match(bullet):
        return True
    words = _DIGITS.split(bullet)[0]
    return len(bullet) <= 20 and bool(words) and not _VERBISH.search(bullet)


def with_opener(clause: str, openers: Sequence[str], n: int = 0) -> str:
    """A house opener before a work item that has no verb of its own; other clauses stay as written.

    ``老旧小区改造完成120个`` → ``扎实推进老旧小区改造，完成120个``; ``扬尘专项整治`` → ``深入开展扬尘专项整治``.
    """
    if clause.startswith(_STOCK_STARTS) or _MARKED.match(clause):
        return clause
    m = _ACTION.match(clause)
    m = m if m and m.group("rest") else None  # 棚户区改造: the "verb" ends the item, it names the work
    topic = m.group("topic") if m else clause
    if m and not topic.endswith(_WORK_NOUN):
        return clause
    if not m and (_DIGITS.search(clause) or len(clause) > 24 or not clause.endswith(_WORK_NOUN)):
        return clause
    verb = "开展" if topic.endswith(_CAMPAIGN) else "推进"
    fitting = [o for o in openers if o.endswith(verb)] or [o for o in DEFAULT_OPENERS if o.endswith(verb)]
    opener = fitting[n % len(fitting)]
    return f"{opener}{topic}，{m.group('verb')}{m.group('rest')}" if m else f"{opener}{clause}"


def house_openers(words: Sequence[str]) -> list[str]:
    """Openers that take a line of work as object (深入推进, 扎实开展), from a profile's top openers."""
    good = [w for w in words if not _DIGITS.search(w) and 3 <= len(w) <= 4 and w.endswith(("推进", "开展"))]
    return good[:6] or list(DEFAULT_OPENERS)


def sentences_of(items: Sequence[str], target: int) -> list[str]:
    """Items joined with "，" into sentences of about ``target`` characters (the house sentence length)."""
    out: list[str] = []
    for item in items:
        if out and not _MARKED.match(item) and not _MARKED.match(out[-1]) and len(out[-1]) + len(item) < target:
            out[-1] += "，" + item
        else:
            out.append(item)
    return out


def layout(items: list[str], intro_topic: str, enumerate_items: bool, target: int = SENTENCE_CHARS) -> str:
    """Items as one paragraph: ``围绕…，重点抓好以下工作：一是…。二是…。`` for 3–7 items when the house
    enumerates; a longer list is joined into sentences of about the house sentence length; run-in
    headings (``2.…``) stay apart."""
    marked = any(_MARKED.match(i) for i in items)
    if enumerate_items and 3 <= len(items) <= 7 and not marked:
        body = "".join(f"{ENUM[n]}是{item}。" for n, item in enumerate(items))
        return (f"围绕{intro_topic}，重点抓好以下工作：" if intro_topic else "") + body
    sentences = sentences_of(items, target) if len(items) > 7 else items
    return "".join(f"{item}。" for item in sentences)


class OfflineEngine:
    """Composes from retrieved exemplars; see the module docstring."""

    name = "offline"

    def __init__(self, openers: Sequence[str] = DEFAULT_OPENERS) -> None:
        self.openers = [o for o in openers if o] or list(DEFAULT_OPENERS)
        self.enumerates = True
        self.sentence_chars = SENTENCE_CHARS
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

    def adopt(self, openers: Sequence[str] = (), enumerates: bool = True, sentence_chars: float = 0) -> None:
        """Take the house style from a profile: openers, enumeration habit (一是/二是), sentence length."""
        self.openers = house_openers(openers) if openers else self.openers
        self.enumerates = enumerates
        self.sentence_chars = int(sentence_chars) or SENTENCE_CHARS

    def compose(self, heading: str, bullets: Sequence[str], hits: Sequence[Hit], provided: str) -> Iterator[str]:
        """Yield the draft: the heading line, then the body paragraph (see the module docstring)."""
        self.used = []
        notes = [t for t in (tidy_bullet(b) for b in bullets) if t]
        allowed = digit_values("\n".join([*notes, provided]))
        templates = templates_from(hits) if any(note_like(b) for b in notes) else []
        clauses: list[str] = []
        for bullet in notes:
            clauses.append(self._from_template(bullet, templates, provided, allowed) if note_like(bullet) else bullet)
        groups = group_clauses(clauses)
        items = [with_opener(g[0], self.openers, n) + "".join("，" + c for c in g[1:]) for n, g in enumerate(groups)]
        yield house_heading(heading) + "\n"
        body = layout(items, work_topic(heading), self.enumerates, self.sentence_chars) if items else GAP + "。"
        if not digit_values(body) <= allowed or not digit_values("\n".join(notes)) <= digit_values(body):
            self.used = []
            body = "".join(f"{n}。" for n in notes)  # the promise first: the writer's figures, only those
        yield body

    def _from_template(self, bullet: str, templates: list[Template], provided: str, allowed: set[str]) -> str:
        """A note rewritten from an exemplar sentence about the same thing, or the note without its colon."""
        thing = _DIGITS.split(bullet)[0].rstrip("：: ")
        filled = fill_template(bullet, templates)
        if filled is not None and _overlap(thing, filled[0]) >= 0.5:
            text = scrub_digits(scrub(filled[0], provided), allowed)
            if digit_values(bullet) <= digit_values(text):
                if filled[1] not in self.used:
                    self.used.append(filled[1])
                return text
        return re.sub(r"[：:]\s*", "", bullet, count=1)

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
    sentences: list[str] = []
    for s in split_sentences(body):
        # "围绕…，重点抓好以下工作：扎实推进…" — the lead-in up to the colon is not an item
        head, colon, rest = s.partition("：")
        sentences += [head + colon, rest] if colon and rest.strip() else [s]
    sentences = [s.strip().rstrip("。；;") for s in sentences if s.strip().rstrip("。；;")]
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

"""Offline composition: a well-formed, faithful section from the writer's bullets.

Every fact is the writer's.  The bullets are kept word for word (list marks, stray spaces and a
note's colon removed); what the engine adds is only

* **punctuation and connectives** – bullets joined with "，" into sentences of about the house
  sentence length, "。" at the end; ``一是…二是…`` only for three to seven parallel work items
  (each opening with a verb), never for a lead-in;
* **a lead-in placed** – a bullet that only sets the frame (``到2025年``, ``根据《…》要求``,
  ``围绕…目标任务``) opens the sentence it governs instead of standing as an item;
* **a comparison** – a last-year bullet (``上年棚改2845套``) beside this year's figure for the same
  indicator (``棚改3200套``) becomes ``棚改3200套，比上年增加355套、增长12.5%（上年为2845套）``; the
difference and the
  rate are *computed*, only when both values have the same unit and magnitude, marked so in the
  provenance, and recomputed by the fact guard (its 推算核对 names the two figures);
* **order** – a breakdown (``其中…``) after its total, an effect without figures (``群众获得感明显增强``)
  after the work that produced it;
* **house phrases** – in a 工作总结 a 总述 sentence (``一年来，城市更新工作扎实推进。``) made only of
  phrases found in at least three documents of the store (:mod:`drafting.phrases`) and the writer's
  heading; plans phrasing (``重点抓好以下工作``) only in a plan.

The word target is honoured only as far as the material allows: nothing is invented to pad a draft,
and a note says so when the draft is short.  Every character of the body is labelled with where it
came from (:class:`drafting.seam.Piece`).  A draft whose digits are not exactly the writer's (plus the
computed ones) falls back to the bullets themselves.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext

from drafting.facts import facts_of, similarity
from drafting.phrases import FORMULA_CANDIDATES
from drafting.quantities import digit_runs, extract_figures, fold_digits
from drafting.seam import Composition, DraftTask, Piece

ENUM = "一二三四五六七八九十"
GAP = "【待补充】"
PLAN_TYPES = ("计划", "要点", "方案", "规划", "安排", "打算")

_LIST_MARK = re.compile(r"^\s*(?:[-•·*＊]\s*|[一二三四五六七八九十]+是\s*|第[一二三四五六七八九十]+[，、"
                        r"]\s*)+")
_NOTE_COLON = re.compile(r"^(?P<thing>[^，。；：:\d]{2,14})[：:]\s*(?=\S)")
_SPACE_IN = re.compile(r"(?<=[\u4e00-\u9fff\d%％）)”])[ \u3000\t]+(?=[\u4e00-\u9fff\d（(“])")
_LEAD_IN = re.compile(
    r"^(?:(?:到|至|截至|截止)(?:20\d{2}|19\d{2})年(?:底|末|年底)?(?:前)?"
    r"|(?:根据|按照|依据|对照|遵照)[^，。；]{1,40}(?:要求|部署|安排|精神|规定|意见|通知|方案)"
    r"|(?:围绕|聚焦|紧扣|紧盯)[^，。；]{1,30}(?:目标任务|目标|任务|主线|要求|部署)"
    r"|(?:20\d{2}|19\d{2})年(?:以来|上半年|下半年|全年)?|今年以来|一年来|近年来"
    r"|(?:过去的?)?[一二三四五六七八九十两]+年(?:来|以来|间)?|过去的?[一二三四五六七八九十两]+年)$"
)
_LAST_YEAR = re.compile(r"^(?:上年|去年|上一年|上年同期|去年同期)(?:全年)?(?P<rest>.+)$")
_NEW_SUBJECT = ("全年", "全市", "全区", "全县", "全省", "今年", "预计", "过去", "五年", "十年", "同时",
                "此外")
_BREAKDOWN = re.compile(r"^(?:其中|分别|包括)")
_EFFECT = re.compile(
    r"(?:获得感|幸福感|安全感|满意度|满意率)|(?:明显|显著|不断|持续|进一步)(?:增强|提升|提高|改善|好转)|面貌焕然一新|成效(?:明显|显著)"
)
_VERB_START = re.compile(
    r"^(?:坚持|深入|扎实|加快|推进|持续|全面|积极|强化|完成|新增|实施|开展|组织|落实|加强|提升|优化|建成|开工|累计|推动|着力"
    r"|严格|健全|完善|建立|召开|印发|制定|出台|抓好|做好|全力|不断|大力|稳步|新开工|筹集|发放|整治|改造|举办|培训|打造|建设)"
)
_CONTINUES = re.compile(
    r"^(?:同比|环比|比上年|较上年|比去年|较去年|比同期|较同期|比(?!重|例)|较|增长|下降|增幅|提高|降低|减少|增加(?!值)"
    r"|其中|占|是上年|为(?!民|群众|企业)|分别|年均|已|并|均|超过|连续|位居|居全|首次|创历史|且|惠及|带动|完成率|同口径)"
)
_MARKED = re.compile(r"^(?:\d{1,2}[.．、](?!\d)|[（(]\d{1,2}[)）]|[一二三四五六七八九十]{1,3}、"
                     r"(?![二三]产业))")
_HEADING_NO = re.compile(r"^\s*(?:[一二三四五六七八九十]+、|[（(][一二三四五六七八九十]+[)）]|\d+[.．、"
                         r"](?!\d)|[（(]\d+[)）])")
_PREDICATE = re.compile(
    r"得到|取得|保持|加快|持续|不断|进一步|显著|明显|成效|稳步|加强|提升|推进|实现|完成|增长|迈出|开创|加大|深化"
    r"|扎实|全面|有效|大力|积极|坚持|突出|强化|优化|改善|提高|巩固|发展|迈上|再上|有序|回顾|总结|情况"
)


# ---- notes ----------------------------------------------------------------------------------------
def tidy(note: str) -> str:
    """A bullet as the writer meant it: list marks, stray spaces and a note's colon off."""
    text = _LIST_MARK.sub("", note.strip()).strip()
    text = _SPACE_IN.sub("", text)
    text = _NOTE_COLON.sub(lambda m: m.group("thing"), text)
    text = re.sub(r"([，、；])\1+", r"\1", text)
    return text.strip().rstrip("。；;，,、：: ")


def is_lead_in(note: str) -> bool:
    return bool(_LEAD_IN.match(note)) and not digit_runs(_strip_years(note))


def _strip_years(text: str) -> str:
    return re.sub(r"(?:19|20)\d{2}年", "", text)


def is_effect(note: str) -> bool:
    return bool(_EFFECT.search(note)) and not digit_runs(note)


def work_topic(heading: str) -> str:
    """The heading's topic when it names a line of work (``（二）城市更新`` → ``城市更新``); else ""."""
    topic = _HEADING_NO.sub("", heading.strip()).strip().rstrip("。")
    if not 2 <= len(topic) <= 12 or re.search(r"[\d，。；：、,;:“”]", topic) or _PREDICATE.search(topic):
        return ""
    return topic


def heading_line(heading: str) -> str:
    """The writer's heading as written: its own numbering kept, none added (no 一、一、二、三产业)."""
    return heading.strip().rstrip("。")


def _fmt(v: Decimal) -> str:
    s = format(v.normalize(), "f")
    return s


def comparison(this_raw: str, last_raw: str) -> tuple[str, str, str] | None:
    """(verb, difference with unit, rate) of this period against last, both with the same unit."""
    this = [f for f in extract_figures(this_raw)]
    last = [f for f in extract_figures(last_raw)]
    if len(this) != 1 or len(last) != 1 or this[0].unit != last[0].unit or last[0].value <= 0:
        return None
    t, la = this[0], last[0]
    runs, lruns = digit_runs(t.raw), digit_runs(la.raw)
    if not runs or not lruns:
        return None
    (ts, te, _v), (ls, le, _lv) = runs[0], lruns[0]
    num, lnum = fold_digits(t.raw[ts:te]), fold_digits(la.raw[ls:le])
    tv, lv = Decimal(num), Decimal(lnum)
    # a zero, or 万 vs none: not computed
    if tv == 0 or lv == 0 or t.value / float(tv) != la.value / float(lv):
        return None
    suffix = t.raw[te:]
    if "%" in suffix or "％" in suffix or not suffix:
        return None  # a rate against a rate is a 百分点 question; left to the writer
    diff = tv - lv
    if diff == 0:
        return None
    places = max(len(num.partition(".")[2]), len(lnum.partition(".")[2]))
    with localcontext(Context(prec=len(num) + len(lnum) + 10)):  # 28 digits are not enough for every figure
        diff_s = _fmt(abs(diff).quantize(Decimal(1).scaleb(-places)))
        rate = (abs(diff) / lv * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    up = diff > 0
    return ("增加" if up else "减少", diff_s + suffix, ("增长" if up else "下降") + _fmt(rate) + "%")


def _indicator(note: str) -> tuple[str, str]:
    figs = extract_figures(note)
    if len(figs) != 1:
        return "", ""
    facts = facts_of(note, figs)
    return (facts[0].indicator if facts else figs[0].thing), figs[0].raw


# ---- the composer ---------------------------------------------------------------------------------
class _Item:
    """One sentence part: pieces in order."""

    def __init__(self, pieces: list[Piece]) -> None:
        self.pieces = pieces

    @property
    def text(self) -> str:
        return "".join(p.text for p in self.pieces)


def _pairs_last_year(notes: list[str]) -> dict[int, tuple[int, tuple[str, str, str]]]:
    """last-year note index → (this-year note index, comparison)."""
    out: dict[int, tuple[int, tuple[str, str, str]]] = {}
    for i, n in enumerate(notes):
        m = _LAST_YEAR.match(n)
        if not m:
            continue
        ind_last, raw_last = _indicator(m.group("rest"))
        if not raw_last:
            continue
        best: tuple[float, int, tuple[str, str, str]] | None = None
        for j, other in enumerate(notes):
            if j == i or _LAST_YEAR.match(other) or j in {v[0] for v in out.values()}:
                continue
            ind, raw = _indicator(other)
            if not raw:
                continue
            score = similarity(ind, ind_last)
            cmp = comparison(raw, raw_last)
            # not 农业 vs 第三产业增加值
            same = bool(ind) and bool(ind_last) and (ind in ind_last or ind_last in ind)
            if cmp and same and score >= 0.6 and (best is None or score > best[0]):
                best = (score, j, cmp)
        if best:
            out[i] = (best[1], best[2])
    return out


def order_notes(notes: list[str]) -> list[str]:
    """Totals before their breakdowns, effects without figures after the work."""
    effects = [n for n in notes if is_effect(n)]
    notes = [n for n in notes if not is_effect(n)]
    for n in [n for n in notes if _BREAKDOWN.match(n)]:
        i = notes.index(n)
        units = {f.unit for f in extract_figures(n)}
        before = [f.unit for m in notes[:i] if not _BREAKDOWN.match(m) for f in extract_figures(m)]
        if not units or units & set(before):
            continue  # its total comes first already
        for j in range(i + 1, len(notes)):
            if units & {f.unit for f in extract_figures(notes[j])} and not _BREAKDOWN.match(notes[j]):
                notes.insert(j, notes.pop(i))
                break
    return notes + effects


def compose(task: DraftTask) -> Composition:
    """The offline draft of ``task`` (see the module docstring)."""
    if task.past is not None:
        from drafting.template import compose_from_past

        return compose_from_past(task)
    notes = [t for t in (tidy(b) for b in [*task.bullets, *task.rows]) if t]
    pieces, notes_out = body_from_notes(notes, task)
    return finish(task, pieces, notes_out)


def split_rows(notes: list[str]) -> list[str]:
    """A figures-table row with last year's value (``城镇新增就业1.5万人，上年1.2万人``) as two notes, this
    year's and last year's, so that the comparison is written as one (比上年增长25%)."""
    out: list[str] = []
    for n in notes:
        this, sep, last = n.partition("，上年")
        ind, raw = _indicator(this) if sep else ("", "")
        if raw and ind and len(extract_figures(last)) == 1 and comparison(raw, last):
            out += [this, f"上年{ind}{last}"]
        else:
            out.append(n)
    return out


def body_from_notes(notes: list[str], task: DraftTask) -> tuple[list[Piece], list[str]]:
    notes = order_notes(split_rows(notes))
    pairs = _pairs_last_year(notes)
    used_last = set(pairs)
    items: list[_Item] = []
    lead: list[Piece] = []
    for i, n in enumerate(notes):
        if i in used_last:
            continue
        if is_lead_in(n):
            lead += [Piece(n, "bullet"), Piece("，", "connective")]
            continue
        had_lead = bool(lead)
        ps = [*lead, Piece(n, "bullet")]
        lead = []
        for li, (j, (verb, diff, rate)) in pairs.items():
            if j == i:
                # 比上年增加355套、增长12.5%（上年为2845套）: the difference and the rate are computed from
                # the writer's two figures (the fact guard recomputes both and says so in its 推算核对)
                ps += [Piece("，比上年" + verb, "connective"), Piece(diff, "computed"),
                       Piece("、" + rate[:2], "connective"), Piece(rate[2:], "computed"),
                       Piece("（上年为", "connective"), Piece(_indicator(notes[li])[1], "bullet"),
                       Piece("）", "connective")]
        # a last-year value with no match, or a continuation (增长…, 其中…): a clause of the item before
        joins = bool(_LAST_YEAR.match(n)) or (not had_lead and bool(_CONTINUES.match(n)))
        if items and joins and not _MARKED.match(items[-1].text):
            items[-1].pieces += [Piece("，", "connective"), *ps]
        else:
            items.append(_Item(ps))
    if lead and items:
        items[-1].pieces += [Piece("，", "connective"), *lead[:-1]]
    elif lead:
        items.append(_Item(lead[:-1]))
    return layout(items, task), []


def _parallel(items: list[_Item]) -> bool:
    return 3 <= len(items) <= 7 and all(_VERB_START.match(it.pieces[0].text)
                                        and it.pieces[0].source == "bullet" for it in items) \
        and not any(_MARKED.match(it.text) for it in items)


def layout(items: list[_Item], task: DraftTask) -> list[Piece]:
    out: list[Piece] = []
    if not items:
        return [Piece(GAP, "gap"), Piece("。", "connective")]
    enumerate_items = task.enumerates and "一是" in task.form and _parallel(items)
    if enumerate_items:
        topic = work_topic(task.heading)
        if topic and any(t in task.doc_type for t in PLAN_TYPES):
            out += [Piece("围绕", "connective"), Piece(topic, "bullet"),
                    Piece("，重点抓好以下工作：", "connective")]
        for n, it in enumerate(items):
            out += [Piece(f"{ENUM[n]}是", "connective"), *it.pieces, Piece("。", "connective")]
        return out
    # the house joins clauses with "，" far more often than it ends a sentence (860 to 180 between two
    # bullets in the dev references).  A sentence ends before a clause that opens a new subject or
    # frame (全年…, 全市…, a lead-in) once it is of the house length, and otherwise only when it would
    # grow past three times the house length.
    target = max(20, task.sentence_chars)
    length = 0
    for n, it in enumerate(items):
        fresh = it.pieces[0].source == "bullet" and it.pieces[0].text.startswith(_NEW_SUBJECT) \
            or len(it.pieces) > 1 and it.pieces[1].text == "，" and is_lead_in(it.pieces[0].text)
        if n and (_MARKED.match(it.text) or (fresh and length >= target)
                  or length + len(it.text) > 3 * target):
            out.append(Piece("。", "connective"))
            length = 0
        elif n:
            out.append(Piece("，", "connective"))
            length += 1
        out += it.pieces
        length += len(it.text)
    out.append(Piece("。", "connective"))
    return out


def summary_sentence(task: DraftTask) -> list[Piece]:
    """The 总述 of a 工作总结 from house phrases and the heading's topic, or [] when none fits."""
    topic = work_topic(task.heading)
    phrases = task.phrases
    if not topic or "总结" not in task.doc_type or phrases is None:
        return []
    opener = phrases.first(("一年来", "今年以来", "近年来") if "上半年" not in task.doc_type
                           else ("上半年", "今年以来"),
                           task.exclude_doc_ids)
    formula = phrases.first(FORMULA_CANDIDATES, task.exclude_doc_ids)
    if not formula:
        return []
    work = "" if topic.endswith("工作") else "工作"
    lead = [Piece(opener, "phrase"), Piece("，", "connective")] if opener else []
    return [*lead, Piece(topic, "bullet"), Piece(work, "connective"), Piece(formula, "phrase"),
            Piece("。", "connective")]


def finish(task: DraftTask, body: list[Piece], extra_notes: Sequence[str] = ()) -> Composition:
    """Heading, 总述, body; the faithfulness check; the word-target note."""
    notes = list(extra_notes)
    if not any(p.source == "template" for p in body):
        body = summary_sentence(task) + body
    text_body = "".join(p.text for p in body)
    allowed = {v for _s, _e, v in digit_runs(f"{task.provided}\n{task.heading}")}
    computed = {v for p in body if p.source == "computed" for _s, _e, v in digit_runs(p.text)}
    given = {v for _s, _e, v in digit_runs("\n".join([*task.bullets, *task.rows]))}
    have = {v for _s, _e, v in digit_runs(text_body)}
    if not have <= allowed | computed or not given <= have:
        plain = [t for t in (tidy(b) for b in [*task.bullets, *task.rows]) if t]
        body = [Piece(p, "bullet") if k % 2 == 0 else Piece("。", "connective")
                for n in plain for k, p in enumerate((n, "。"))]
        text_body = "".join(p.text for p in body)
        notes.append("组稿时数字无法与要点一一对应，已按要点原文逐条成句，请自行润色。")
    head = heading_line(task.heading)
    text = (head + "\n" if head else "") + text_body
    n = len(text_body)
    if task.target_chars and n < 0.8 * task.target_chars:
        notes.append(
            f"要求约{task.target_chars}字，初稿正文{n}字：离线引擎只用您给的要点，不编造内容。"
            "请补充要点（做法、成效、数字），或改用模型引擎扩写。"
        )
    own = [p.text for p in body if p.source == "phrase"]
    computed_s = [p.text for p in body if p.source == "computed"]
    if own or computed_s:
        notes.append(
            "工具添加的字：" + ("本局常用语（出现在3篇以上材料中）“" + "”“".join(own) + "”" if own else "")
            + ("；" if own and computed_s else "")
            + ("由您的数字推算的“" + "”“".join(computed_s) + "”" if computed_s else "")
            + "。其余文字都来自您的要点"
            + ("和套写的往年段落" if any(p.source == "template" for p in body) else "") + "。"
        )
    return Composition(text, body, [], notes)

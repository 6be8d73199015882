"""HTML for the UI: the annotated draft, the checks panel, citations, search hits and diffs.

Pure functions of plain data; every piece of writer or model text goes through :func:`esc`, so a
bullet such as ``<script>…`` is shown as text, never run.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from drafting.guard import Figure, GuardReport, extract_figures, same_value
from drafting.terms import TermFinding
from drafting.ui.common import esc

SEVERITY_CLASS = {"必错": "sev-must", "疑似": "sev-maybe", "提示": "sev-hint"}


@dataclass
class Mark:
    start: int
    end: int
    cls: str
    title: str
    priority: int  # higher wins where marks overlap


def paragraphs(text: str) -> list[tuple[int, str]]:
    """(offset, line) of the non-empty lines: the paragraph numbering citations use."""
    out, pos = [], 0
    for line in text.split("\n"):
        if line.strip():
            out.append((pos, line))
        pos += len(line) + 1
    return out


def found_figures(text: str, guard: GuardReport) -> list[tuple[Figure, list[Figure]]]:
    """Each provided figure with the places in ``text`` where its value appears."""
    in_text = extract_figures(text)
    return [(f, [d for d in in_text if same_value(f, d)]) for f in guard.provided]


class ParagraphIndex:
    """Which paragraph an offset falls in, by binary search: built once per text, so placing every
    figure of a long draft costs O(log paragraphs) each, not a scan of the whole text."""

    def __init__(self, text: str) -> None:
        self.paras = paragraphs(text)
        self.starts = [start for start, _line in self.paras]

    def of(self, offset: int | None) -> int | None:
        if offset is None:
            return None
        n = bisect.bisect_right(self.starts, offset) - 1
        if n >= 0 and offset <= self.paras[n][0] + len(self.paras[n][1]):
            return n
        return None


def paragraph_of(text: str, offset: int | None) -> int | None:
    return ParagraphIndex(text).of(offset)


def marks_for(text: str, guard: GuardReport, terms: Sequence[TermFinding]) -> list[Mark]:
    marks: list[Mark] = []
    for f, places in found_figures(text, guard):
        for d in places:
            if d.start is not None and d.end is not None:
                marks.append(Mark(d.start, d.end, "m-ok", f"已核对：{f.raw}（{f.thing}）" + _from(f), 1))
    for flag in guard.unverified:
        if flag.start is not None and flag.end is not None:
            marks.append(Mark(flag.start, flag.end, "m-bad", flag.message, 3))
    for flag in guard.to_verify:
        if flag.start is not None and flag.end is not None:
            marks.append(Mark(flag.start, flag.end, "m-term sev-hint", flag.message, 2))
    for dc in guard.derived:
        if dc.start is None or dc.end is None:
            continue
        cls = "m-ok" if dc.ok else "m-bad"
        note = ("推算正确：" if dc.ok else "推算有误：") + dc.explanation
        marks.append(Mark(dc.start, dc.end, cls, note, 2 if dc.ok else 4))
    for t in terms:
        marks.append(Mark(t.start, t.end, f"m-term {SEVERITY_CLASS.get(t.severity, '')}",
                          f"提法（{t.severity}）：应为“{t.suggest}”。{t.reason}", 5))
    return marks


def _resolve(marks: list[Mark]) -> list[Mark]:
    """Drop marks overlapping a higher-priority one; return the rest sorted by position."""
    # the kept marks never overlap, so sorted by start they are sorted by end too: a new mark can
    # only collide with its two neighbours, found by binary search (not a scan of every kept mark)
    starts: list[int] = []
    kept: list[Mark] = []
    for m in sorted(marks, key=lambda m: (-m.priority, m.start)):
        if m.end <= m.start:
            continue
        i = bisect.bisect_left(starts, m.start)
        if i > 0 and kept[i - 1].end > m.start:
            continue
        if i < len(kept) and kept[i].start < m.end:
            continue
        starts.insert(i, m.start)
        kept.insert(i, m)
    return kept


def annotated_html(text: str, guard: GuardReport | None, terms: Sequence[TermFinding] = ()) -> str:
    """The draft, paragraph by paragraph (anchors ``para-N``), problems marked in place."""
    if not text.strip():
        return (
            '<div class="draft-view empty">生成初稿后，稿件会显示在这里，数字和提法问题会直接标在文中。'
            '</div>'
        )
    marks = _resolve(marks_for(text, guard, terms)) if guard is not None else []
    parts = ['<div class="draft-view">']
    first = 0  # marks before this one end before the current paragraph: one pass over both lists
    for n, (start, line) in enumerate(paragraphs(text)):
        end = start + len(line)
        pos = start
        body = []
        while first < len(marks) and marks[first].end <= start:
            first += 1
        for m in itertools.islice(marks, first, None):
            if m.start >= end:
                break
            a, b = max(m.start, start), min(m.end, end)
            body.append(esc(text[pos:a]))
            body.append(f'<mark class="{m.cls}" title="{esc(m.title)}">{esc(text[a:b])}</mark>')
            pos = b
        body.append(esc(text[pos:end]))
        parts.append(f'<p id="para-{n + 1}"><span class="pno">{n + 1}</span>{"".join(body)}</p>')
    parts.append("</div>")
    return "".join(parts)


def _li(cls: str, icon: str, main: str, note: str = "") -> str:
    note_html = f'<span class="note">{esc(note)}</span>' if note else ""
    return (
        f'<li class="{cls}"><span class="icon">{icon}</span><span '
        f'class="main">{esc(main)}</span>{note_html}</li>'
    )


OK_VERDICT = '<div class="verdict ok">检查通过：数字均有出处，未发现必改的提法</div>'
CONFIRM_HINT = "核实无误可在下方勾选后点“确认所选数字”。"


def _from(f: Figure) -> str:
    """Where the writer gave a figure: 出处：要点3 / 数字表第1行 / 标题 / 你的修改 / 你的确认."""
    return f"出处：{f.source}" if f.source else ""


def _where(index: ParagraphIndex, places: Iterable[Figure]) -> str:
    paras = sorted({p for p in (index.of(f.start) for f in places) if p is not None})
    return "见第" + "、".join(str(p + 1) for p in paras) + "段" if paras else "已写入"


def checks_html(  # noqa: C901  one panel section per kind of check, in the order shown
    text: str,
    guard: GuardReport | None,
    terms: Sequence[TermFinding] = (),
    conformance: Any = None,
    notes: Sequence[str] = (),
) -> str:
    """The checks panel beside the draft."""
    if guard is None:
        return ('<div class="checks empty">生成初稿后，这里逐项显示：数字是否写对、有无无出处的数字、'
                "增速推算是否正确、规范提法和文风符合度。</div>")
    missing_keys = {(f.value, f.unit, f.raw) for f in guard.missing}
    problems = len(guard.missing) + len(guard.unverified) + sum(not d.ok for d in guard.derived)
    problems += sum(t.severity == "必错" for t in terms)
    head = (
        f'<div class="verdict bad">需要复核：{problems} 处问题，已在稿件中标红</div>' if problems
        else OK_VERDICT
    )
    out = ['<div class="checks">', head]

    rows = []
    index = ParagraphIndex(text)
    for f, places in found_figures(text, guard):
        label = f"{f.raw}（{f.thing}）" if f.thing else f.raw
        src = f"{_from(f)} · " if f.source else ""
        if (f.value, f.unit, f.raw) in missing_keys:
            rows.append(_li("bad", "✗", label, src + "稿中未写：请补上或确认不需要"))
        elif not places:
            rows.append(_li("ok", "✓", label, src + "已用于推算增速"))
        else:
            rows.append(_li("ok", "✓", label, src + _where(index, places)))
    for flag in guard.missing:
        if flag.kind != "figure":  # dropped dates, rankings and cited documents: not in the figure rows above
            rows.append(_li("bad", "✗", flag.raw, flag.message))
    for flag in guard.unverified:
        para = index.of(flag.start)
        where = f"第{para + 1}段" if para is not None else "稿中"
        hint = CONFIRM_HINT if flag.reason in ("not_given", "value") else ""
        label = f"{flag.raw}（{flag.thing}）" if flag.thing else flag.raw
        rows.append(_li("bad", "？", label, f"{where}：{flag.message}" + hint))
    for flag in guard.to_verify:
        para = index.of(flag.start)
        where = f"第{para + 1}段" if para is not None else "稿中"
        rows.append(_li("warn", "！", flag.raw, f"{where}：{flag.message}"))
    counts = (f"提供 {len(guard.provided)} · 漏写 {len(guard.missing)} · 有问题 {len(guard.unverified)}"
              f" · 请核实 {len(guard.to_verify)}")
    out.append(f'<h4>数字核对 <span class="count">{counts}</span></h4>')
    out.append("<ul>" + "".join(rows) + "</ul>" if rows else '<p class="muted">要点和数字表中没有数字。</p>')

    if guard.derived:
        out.append("<h4>推算核对</h4><ul>")
        for d in guard.derived:
            out.append(_li("ok" if d.ok else "bad", "✓" if d.ok else "✗", d.statement, d.explanation))
        out.append("</ul>")

    out.append(f'<h4>规范提法 <span class="count">{len(terms)} 处</span></h4>')
    if terms:
        out.append("<ul>")
        for t in terms:
            cls = "bad" if t.severity == "必错" else "warn"
            out.append(_li(cls, t.severity, f"“{t.found}” → “{t.suggest}”", t.reason))
        out.append("</ul>")
    else:
        out.append('<p class="muted">未发现提法问题。</p>')

    if conformance is not None:
        score = float(conformance.score)
        level = "ok" if score >= 85 else ("warn" if score >= 60 else "bad")
        out.append(
            f'<h4>文风符合度 <span class="score {level}">{score:.0f} 分</span></h4>'
            f'<div class="bar"><div class="fill {level}" style="width:'
            f'{max(0.0, min(100.0, score)):.0f}%"></div></div>'
        )
        if conformance.notes:
            out.append("<ul>" + "".join(_li("warn", "·", n) for n in conformance.notes) + "</ul>")
        else:
            out.append('<p class="muted">标题层级、句长、开头用词、列举方式均符合本局习惯。</p>')
    if notes:
        out.append("<h4>说明</h4><ul>" + "".join(_li("info", "ℹ", n) for n in notes) + "</ul>")
    out.append("</div>")
    return "".join(out)


def citations_html(citations: Sequence[Any]) -> str:
    """Passages text or structure was taken from, each linked to the paragraphs that use it; then,
    apart, the passages retrieved only for reference (可参考的往年段落)."""
    rows = [c if isinstance(c, dict) else c.to_json() for c in citations]
    used = [c for c in rows if not c.get("reference")]
    refs = [c for c in rows if c.get("reference")]
    out: list[str] = []
    if used:
        out.append('<div class="cites-title">借用的往年段落（套写）</div><ol class="cites">')
        for c in used:
            links = "、".join(f'<a href="#para-{p + 1}">第{p + 1}段</a>' for p in c.get("paragraphs") or [])
            echo = (f'<span class="echo">用于稿件：{links}</span>' if links
                else '<span class="echo muted">修改后已不再对应</span>')
            out.append(_cite_item(c, echo))
        out.append("</ol>")
    else:
        out.append('<div class="cites empty">本稿没有借用往年材料的文字。</div>')
    if refs:
        out.append('<div class="cites-title">可参考的往年段落（未借用其文字）</div><ol class="cites">')
        out += [_cite_item(c, '<span class="echo muted">仅作参考</span>') for c in refs]
        out.append("</ol>")
    return "".join(out)


def _cite_item(c: dict[str, Any], echo: str) -> str:
    path = " › ".join(c.get("heading_path") or []) or "（正文开头）"
    return (
        f'<li><div class="cite-head"><b>{esc(c.get("title") or c.get("doc_id", ""))}</b>'
        f'<span class="path">{esc(path)}</span>{echo}</div>'
        f'<div class="snippet">{esc(c.get("text", ""))}</div></li>'
    )


def hits_html(hits: Sequence[Any]) -> str:
    if not hits:
        return '<div class="cites empty">没有找到相关段落。可以换个说法再试。</div>'
    out = ['<ol class="cites">']
    for h in hits:
        c = h.chunk
        path = " › ".join(c.heading_path) or "（正文开头）"
        year = f"（{c.year}）" if c.year else ""
        out.append(
            f'<li><div class="cite-head"><b>{esc(c.title or c.source)}{year}</b>'
            f'<span class="path">{esc(path)}</span><span class="echo muted">相关度 {h.score:.3f}</span></div>'
            f'<div class="snippet">{esc(c.text)}</div></li>'
        )
    out.append("</ol>")
    return "".join(out)


_INSERT = {"insert", "+", "ins", "added", 1}
_DELETE = {"delete", "-", "del", "removed", -1}


def diff_html(ops: Iterable[tuple[Any, str]]) -> str:
    """Word-level diff ops → coloured inline HTML (insertions green, deletions red struck through)."""
    out = ['<div class="diff">']
    for op, text in ops:
        t = esc(text).replace("\n", "<br>")
        if op in _INSERT:
            out.append(f"<ins>{t}</ins>")
        elif op in _DELETE:
            out.append(f"<del>{t}</del>")
        else:
            out.append(f"<span>{t}</span>")
    out.append("</div>")
    return "".join(out)

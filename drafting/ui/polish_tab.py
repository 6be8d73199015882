"""润色: suggestions on the writer's own text, each a word-level diff with its reason, source and
flags; accepted or rejected one by one, the result updating live."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gradio as gr

from drafting.drafter import get_engine
from drafting.errors import InputError
from drafting.polish import (
    Suggestion,
    apply_suggestions,
    check_length,
    check_words,
    context,
    polish,
    safe_ids,
    word_diff,
)
from drafting.ui.common import AppContext, esc, ui_errors
from drafting.ui.render import diff_html

KIND_ZH = {"rule": "规则", "corpus": "往年表述", "llm": "模型改写"}
TEXT_HINT = "粘贴要润色的一句话或一段文字，例如：\n我们大力推进老旧小区改造，完成改造120个，老百姓很满意。"


def source_text(source: dict[str, Any] | None) -> str:
    if not source:
        return ""
    if source.get("title"):
        path = " › ".join(source.get("heading_path") or [])
        year = f"（{source['year']}）" if source.get("year") else ""
        line = f"出处：《{source['title']}》{year}" + (f" › {path}" if path else "")
        if source.get("sentence"):
            line += f"：“{source['sentence']}”"
        return line
    if source.get("basis"):
        return f"依据：{source['basis']}"
    return "出处：" + "；".join(f"{k}：{v}" for k, v in source.items() if v)


def context_html(text: str, s: Suggestion) -> str:
    """The writer's words around a suggestion, the changed part marked (tells two equal cards apart)."""
    before, original, after = context(text, s)
    return (f'<div class="ctx">原文：{esc(before)}<mark class="ctx-hit">{esc(original)}</mark>{esc(after)}'
            f'<span class="ctx-where">（第{paragraph_no(text, s.start)}段'
            f'第{s.start - line_start(text, s.start) + 1}字起）</span></div>')


def line_start(text: str, pos: int) -> int:
    return text.rfind("\n", 0, pos) + 1


def paragraph_no(text: str, pos: int) -> int:
    """1-based number of the non-empty paragraph (line) holding ``pos``."""
    return sum(1 for line in text[: line_start(text, pos)].split("\n") if line.strip()) + 1


def sid_zh(sid: str) -> str:
    """A suggestion's id as the writer reads it: s3 → 建议3."""
    return f"建议{sid[1:]}" if sid[:1] == "s" and sid[1:].isdigit() else sid


def cards_html(suggestions: Sequence[Suggestion], accepted: Sequence[str] = (), text: str = "") -> str:
    if not suggestions:
        return '<div class="cites empty">粘贴文字后点“获取润色建议”，每条建议会在这里以修改痕迹显示。</div>'
    out = []
    for s in suggestions:
        flags = "".join(f'<span class="tag flag">⚑ {esc(f)}</span>' for f in s.flags)
        cls = "sugg accepted" if s.id in accepted else "sugg"
        state = "已采纳" if s.id in accepted else "未采纳"
        source = source_text(s.source)
        out.append(
            f'<div class="{cls}" id="sugg-{esc(s.id)}"><div class="sugg-head">'
            f'<span class="sid">{esc(sid_zh(s.id))}</span>'
            f'<span class="tag">{KIND_ZH.get(s.kind, esc(s.kind))}</span><span>{state}</span>{flags}</div>'
            + (context_html(text, s) if text else "")
            + f"{diff_html(word_diff(s.original, s.suggestion))}"
            f'<div class="reason">理由：{esc(s.reason)}</div>'
            + (f'<div class="source">{esc(source)}</div>' if source else "")
            + "</div>"
        )
    return "".join(out)


def choice_label(s: Suggestion, text: str = "") -> str:
    """``s3：群众（…改造，「老百姓」很满意…）``: a short original is shown with a few words around it."""
    mark = " ⚑" if s.flags else ""
    short = s.suggestion if len(s.suggestion) <= 18 else s.suggestion[:18] + "…"
    where = ""
    if text and len(s.original) <= 8:
        before, original, after = context(text, s, width=6)
        where = f"（{before}「{original}」{after}）"
    return f"{sid_zh(s.id)}：{short}{where}{mark}"


class PolishTab:
    """The 润色 tab."""

    def __init__(self, ctx: AppContext, engine_choices: list[tuple[str, str]], default_engine: str) -> None:
        self.ctx = ctx
        self.engine_choices = engine_choices
        self.default_engine = default_engine

    def build(self) -> None:
        with gr.Row(equal_height=False):
            with gr.Column(scale=4, min_width=360, elem_classes="panel"):
                gr.Markdown("#### 原文", elem_classes="panel-title")
                self.text = gr.Textbox(show_label=False, lines=10, max_lines=30, placeholder=TEXT_HINT,
                                       elem_id="polish-text")
                self.engine = gr.Dropdown(self.engine_choices, value=self.default_engine, label="引擎",
                                          elem_id="polish-engine")
                self.run_btn = gr.Button("获取润色建议", variant="primary", elem_id="polish-run")
                self.notes = gr.Markdown("", elem_id="polish-notes")
                gr.Markdown("#### 润色结果（随勾选实时更新，可直接复制）", elem_classes="panel-title")
                self.result = gr.Textbox(show_label=False, lines=8, max_lines=30, buttons=["copy"],
                                         elem_id="polish-result")
                self.result_diff = gr.HTML("", elem_id="polish-result-diff")
            with gr.Column(scale=5, min_width=400, elem_classes="panel"):
                gr.Markdown("#### 建议（⚑ 表示涉及数字或提法，请核对后再采纳）", elem_classes="panel-title")
                self.accepted = gr.CheckboxGroup([], label="勾选要采纳的建议（不勾即不采纳）",
                                                 elem_id="polish-accept")
                with gr.Row():
                    self.all_btn = gr.Button("全部采纳", size="sm", elem_id="polish-all")
                    self.none_btn = gr.Button("全部不采纳", size="sm", elem_id="polish-none")
                self.cards = gr.HTML(cards_html([]), elem_id="polish-cards")
        self.state = gr.State(None)

    def wire(self, demo: gr.Blocks) -> None:
        self.run_btn.click(self.check_text, self.text, None, show_progress="hidden").success(
            self.suggest, [self.text, self.engine],
            [self.state, self.accepted, self.cards, self.result, self.result_diff, self.notes],
            api_name="polish",
        )
        outs = [self.accepted, self.cards, self.result, self.result_diff, self.notes, self.state]
        self.accepted.input(self.apply, [self.accepted, self.state], outs, show_progress="hidden")
        self.all_btn.click(self.accept_all, self.state, outs, show_progress="hidden")
        self.none_btn.click(lambda st: self.apply([], st), self.state, outs, show_progress="hidden")

    # ---- handlers -------------------------------------------------------------------------
    @ui_errors
    def check_text(self, text: str) -> None:
        if not (text or "").strip():
            raise InputError("要润色的文字是空的。请先粘贴一句话或一段文字，再点“获取润色建议”。")
        check_length(text)
        check_words(text)

    @ui_errors
    def suggest(self, text: str, engine_name: str) -> tuple[Any, ...]:
        engine = get_engine(self.ctx.settings, engine_name or None)
        result = polish(text or "", self.ctx.settings, engine=engine, store=self.ctx.store())
        state = {"text": text, "suggestions": result.suggestions, "accepted": []}
        choices = [(choice_label(s, text), s.id) for s in result.suggestions]
        flagged = sum(1 for s in result.suggestions if s.flags)
        summary = f"共 {len(result.suggestions)} 条建议" + (
            f"，其中 {flagged} 条涉及数字或提法（⚑）" if flagged else "")
        notes = "  \n".join([esc(summary + "。逐条勾选即采纳，右侧显示修改痕迹。"),
                             *(esc(n) for n in result.notes)])
        # nothing is pre-ticked: the writer accepts each suggestion, a flagged one (⚑) only by ticking it
        return (state, gr.update(choices=choices, value=[]), cards_html(result.suggestions, text=text), text,
                diff_html(word_diff(text, text)), notes)

    def apply(self, accepted: list[str] | None, state: dict[str, Any] | None) -> tuple[Any, ...]:
        """Apply the ticked suggestions; a tick that clashes with an earlier one is undone, with a warning."""
        if not state:
            return [], cards_html([]), "", "", "请先粘贴文字并点“获取润色建议”。", state
        text, suggestions = state["text"], state["suggestions"]
        previous = [i for i in state.get("accepted", []) if i in (accepted or [])]
        wanted = previous + [i for i in (accepted or []) if i not in previous]
        kept: list[str] = []
        refused: list[str] = []
        for sid in wanted:
            try:
                apply_suggestions(text, suggestions, [*kept, sid])
                kept.append(sid)
            except InputError as exc:
                refused.append(exc.help_message)
        state = {**state, "accepted": kept}
        result = apply_suggestions(text, suggestions, kept)
        note = f"已采纳 {len(kept)} 条，未采纳 {len(suggestions) - len(kept)} 条。"
        if refused:
            gr.Warning(esc(refused[0]), title="这条建议不能同时采纳")
            note += " " + refused[0]
        order = [s.id for s in suggestions if s.id in kept]
        return (order, cards_html(suggestions, kept, text), result, diff_html(word_diff(text, result)),
                esc(note), state)

    def accept_all(self, state: dict[str, Any] | None) -> tuple[Any, ...]:
        """Tick every suggestion without a flag; a flagged one (⚑: figures, 【待补充】, 提法) stays as the
        writer left it, since only a tick of their own may apply it."""
        suggestions = (state or {}).get("suggestions", [])
        safe = safe_ids(suggestions)
        ticked = [i for i in (state or {}).get("accepted", []) if i not in safe]
        out = self.apply([*ticked, *safe], state)
        skipped = sum(1 for s in suggestions if s.flags and s.id not in ticked)
        if skipped:
            note = (f"{out[4]} 有{skipped}条带 ⚑ 的建议涉及数字或提法，"
                    "“全部采纳”不会采纳它们：请逐条核对后自己勾选。")
            out = (*out[:4], note, *out[5:])
        return out


__all__ = ["PolishTab", "cards_html", "choice_label", "context_html", "source_text"]

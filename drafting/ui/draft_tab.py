"""起草: heading + bullets + figures → a streamed draft in a chat, refined turn by turn, checked
beside the text, editable in place; every version autosaved to the writer's history."""

from __future__ import annotations

import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import gradio as gr

from drafting.drafter import (
    DraftRequest,
    DraftResult,
    FigureRow,
    check,
    draft,
    get_engine,
    has_words,
    house_style,
    refine,
    request_from_json,
    request_json,
    require_words,
    review,
)
from drafting.errors import DraftingError, EngineError, InputError
from drafting.guard import Source, extract_figures
from drafting.offline import bigrams
from drafting.polish import check_length
from drafting.provenance import confirmation_sources, figure_context, session_sources
from drafting.style_score import conformance
from drafting.ui.common import AppContext, esc, normalise_chat, stream_call, ui_errors, when
from drafting.ui.ledger_view import BasisMarks, add_corpus, with_corpus
from drafting.ui.page import SINGLE_CLICK_EDIT
from drafting.ui.render import annotated_html, checks_html, citations_html, paragraph_of

FIGURE_HEADERS = ["指标", "本期数值", "单位", "上期数值"]
TARGETS = [200, 300, 400, 600, 800, 1000, 1500]
DOC_TYPES = ["工作总结", "半年总结", "汇报材料", "发言材料"]
ENGINE_LABELS = {"offline": "offline 离线组稿", "openai": "openai 模型服务", "local": "local 本机模型"}
BULLETS_HINT = ("每行一条，写明本期数字，例如：\n老旧小区改造完成120个，惠及居民3.2万户\n"
                "新增公共停车泊位1.2万个")
PAST_HINT = ("套写时填：文档编号:标题，如 0ce2283927652a6f:过去五年（编号见“语料库”页签）；"
             "填“自动”则用检索到的最相近段落")
REFINE_HINT = "继续修改，如：改成一是二是三是 / 压缩到300字"
EMPTY_EDITOR = "稿件是空的。请先生成初稿，或把稿件粘贴到编辑框里再检查。"
CHAT_PLACEHOLDER = "填写左侧的标题和要点，点“生成初稿”。初稿会在这里逐段写出，之后可以在下方输入修改要求。"
EDITOR_TOO_LONG = ("编辑框只放一节报告（不超过{limit}字）：请把稿件分成几节，分别起草、检查和保存，"
                   "导出时再合成全文。"
                   "编辑框里的文字都还在，没有丢失；这一次没有保存，也没有检查。")
CONFIRM_LABEL = "需要你确认的数字（无出处）"
CONFIRM_INFO = ("勾选并点“确认所选数字”，表示你核实过这个数字、为它担保：它会标为“你的确认”并记入历史。"
                "没核实过的数字请改正或删去，不要确认。")
NOTHING_PICKED = "请先在“需要你确认的数字”里勾选要确认的数字，再点“确认所选数字”。"


# ---- plain helpers ----------------------------------------------------------------------------
CHECKPOINT_SECONDS = 2.0  # a streaming draft is saved at least this often


def figure_rows(table: Any) -> list[FigureRow]:
    """Dataframe rows (lists, or a pandas frame) → FigureRow, skipping blank rows."""
    if table is None:
        return []
    rows = table.values.tolist() if hasattr(table, "values") else list(table)
    out = []
    for n, row in enumerate(rows, 1):
        cells = [("" if c is None or str(c) == "nan" else str(c)).strip() for c in list(row)[:4]]
        cells += [""] * (4 - len(cells))
        name, value, unit, last = cells
        if not any(cells):
            continue
        if not value:
            raise InputError(f"数字表第{n}行“{name or '（未填指标）'}”缺少本期数值。"
                             "请补上数值，或清空这一行。")
        out.append(FigureRow(name, value, unit, last))
    return out


def build_request(heading: str, bullets: str, table: Any, doc_type: str, target: float,
                  past: str = "") -> DraftRequest:
    lines = [b.strip() for b in (bullets or "").splitlines() if b.strip()]
    return DraftRequest(
        heading=(heading or "").strip(),
        bullets=lines,
        figures=figure_rows(table),
        doc_type=(doc_type or DOC_TYPES[0]).strip(),
        target_chars=_target(target),
        past=(past or "").strip(),
    )


def _target(value: Any) -> int:
    try:
        n = int(float(str(value or 400).replace("字", "").strip()))
    except ValueError as exc:
        raise InputError(f"目标字数“{value}”不是数字。请填写如 400 这样的字数。") from exc
    if not 50 <= n <= 5000:
        raise InputError(f"目标字数{n}超出范围。请填写 50 到 5000 之间的字数。")
    return n


def request_summary(req: DraftRequest) -> str:
    lines = [f"【标题】{req.heading or '（未填）'}", "【要点】"]
    lines += [f"· {b}" for b in req.bullets] or ["（无）"]
    if req.figures:
        lines.append("【数字表】" + "；".join(f.as_text() for f in req.figures))
    lines.append(f"【文种】{req.doc_type} · 约{req.target_chars}字")
    if req.past:
        lines.append(f"【套写】{req.past}")
    return "\n".join(lines)


def relink(text: str, citations: list[dict[str, Any]], threshold: float = 0.12) -> list[dict[str, Any]]:
    """Citations with their paragraph links recomputed for a changed text (bigram overlap)."""
    paras = [bigrams(p) for p in text.split("\n") if p.strip()]
    out = []
    for c in citations:
        if c.get("reference"):  # retrieved for reference only: never linked to a paragraph
            out.append({**c, "paragraphs": []})
            continue
        hg = bigrams(str(c.get("text", "")))
        linked = [i for i, g in enumerate(paras) if g and len(g & hg) / len(g) >= threshold]
        out.append({**c, "paragraphs": linked})
    return out


class DraftTab:
    """The 起草 tab: see the module docstring."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.settings = ctx.settings
        self._edit_locks: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)  # one per user
        self._locks_lock = threading.Lock()

    # ---- layout ---------------------------------------------------------------------------
    def engine_choices(self) -> list[tuple[str, str]]:
        names = ["offline"]
        if self.settings.llm_base_url or self.settings.engine_name() == "openai":
            names.insert(0, "openai")
        if self.settings.llm_gguf or self.settings.engine_name() == "local":
            names.insert(0, "local")
        return [(ENGINE_LABELS[n], n) for n in names]

    def default_engine(self) -> str:
        name = self.settings.engine_name()
        return name if name in {v for _label, v in self.engine_choices()} else "offline"

    def build(self) -> None:
        with gr.Row(equal_height=False, elem_classes="draft-top"):
            with gr.Column(scale=4, min_width=340, elem_classes="panel"):
                gr.Markdown("#### 写什么", elem_classes="panel-title")
                self.heading = gr.Textbox(label="标题或主题", placeholder="例：（三）城市更新",
                                          elem_id="draft-heading")
                self.bullets = gr.Textbox(label="要点", placeholder=BULLETS_HINT, lines=6, max_lines=14,
                                          elem_id="draft-bullets")
                self.figures = gr.Dataframe(
                    headers=FIGURE_HEADERS,
                    value=[["", "", "", ""]],
                    datatype="str",
                    type="array",
                    row_count=1,
                    # fixed: Gradio 6.31 ignores column_limits ("not yet implemented"); its table reads this
                    column_count=(4, "fixed"),  # type: ignore[arg-type]
                    interactive=True,
                    label="数字表（可选，可加行）",
                    # 指标 names are long: give them the widest column, so they stay in view
                    column_widths=["38%", "22%", "16%", "24%"],
                    buttons=[],  # Gradio titles its copy / fullscreen buttons in English only
                    elem_id="draft-figures",
                    elem_classes=SINGLE_CLICK_EDIT,
                )
                with gr.Row():
                    self.doc_type = gr.Dropdown(DOC_TYPES, value=DOC_TYPES[0], label="文种",
                                                allow_custom_value=True, min_width=120,
                                                elem_id="draft-doctype")
                    self.target = gr.Dropdown(TARGETS, value=400, label="目标字数", allow_custom_value=True,
                                              min_width=120, elem_id="draft-target")
                self.past = gr.Textbox("", label="套写往年段落（可选）", placeholder=PAST_HINT,
                                       elem_id="draft-past")
                self.engine = gr.Dropdown(self.engine_choices(), value=self.default_engine(),
                                          label="起草引擎", elem_id="draft-engine")
                self.engine_info = gr.HTML('<div class="engine-info">正在检查引擎…</div>',
                                           elem_id="engine-info")
                self.generate_btn = gr.Button("生成初稿", variant="primary", elem_id="draft-generate")
                self.fallback_btn = gr.Button("改用 offline 引擎重新生成", visible=False,
                                              elem_id="draft-fallback")
            with gr.Column(scale=5, min_width=420, elem_classes="panel"):
                # a title above the chat, not Gradio's label floating over the scrolled messages
                gr.Markdown("#### 起草对话", elem_classes="panel-title")
                self.chat = gr.Chatbot(
                    show_label=False,
                    height=540,
                    render_markdown=False,
                    placeholder=CHAT_PLACEHOLDER,
                    feedback_options=None,
                    buttons=["copy"],
                    elem_id="draft-chat",
                )
                with gr.Row(equal_height=True):
                    self.instruction = gr.Textbox(label="修改要求", show_label=False, placeholder=REFINE_HINT,
                                                  scale=5, container=False, elem_id="draft-instruction")
                    self.send_btn = gr.Button("发送修改", scale=1, min_width=100, elem_id="draft-send")
                self.status = gr.Markdown("", elem_id="draft-status", elem_classes="draft-status")
            with gr.Column(scale=4, min_width=320, elem_classes="panel"):
                gr.Markdown("#### 检查结果", elem_classes="panel-title")
                self.checks = gr.HTML(checks_html("", None), elem_id="draft-checks")
                self.flagged = gr.CheckboxGroup([], label=CONFIRM_LABEL, info=CONFIRM_INFO,
                                                elem_id="draft-flagged")
                self.confirm_btn = gr.Button("确认所选数字", size="sm", elem_id="draft-confirm")
                self.basis = BasisMarks(self.ctx)
                self.basis.build()
        with gr.Row(equal_height=False):
            with gr.Column(scale=1, min_width=360, elem_classes="panel"):
                gr.Markdown("#### 编辑稿件", elem_classes="panel-title")
                self.editor = gr.Textbox(label="编辑稿件", show_label=False, lines=12, max_lines=30,
                                         placeholder="生成初稿后可在此直接修改。", elem_id="draft-editor")
                self.recheck_btn = gr.Button("重新检查", elem_id="draft-recheck")
            with gr.Column(scale=1, min_width=360, elem_classes="panel"):
                gr.Markdown("#### 问题标注（绿色：已核对；红色：需复核；橙色：提法）",
                            elem_classes="panel-title")
                self.annotated = gr.HTML(annotated_html("", None), elem_id="draft-annotated")
        with gr.Accordion("借用和可参考的往年段落（点“第3段”这样的链接，跳到稿件中对应的段落）", open=False,
                          elem_id="draft-cites-acc"):
            self.cites = gr.HTML(citations_html([]), elem_id="draft-cites")
        self.state = gr.State(None)

    @property
    def outputs(self) -> list[Any]:
        return [self.chat, self.editor, self.annotated, self.checks, self.cites, self.state, self.status,
                self.fallback_btn]

    def wire(self, demo: gr.Blocks) -> None:
        inputs = [self.heading, self.bullets, self.figures, self.doc_type, self.target]
        self.generate_btn.click(self.validate, inputs, None, show_progress="hidden").success(
            self.generate, [*inputs, self.engine, self.past], self.outputs, show_progress="hidden",
            api_name="draft",
        )
        self.fallback_btn.click(lambda: "offline", None, self.engine, show_progress="hidden").then(
            self.validate, inputs, None, show_progress="hidden"
        ).success(self.generate, [*inputs, self.engine, self.past], self.outputs, show_progress="hidden")
        refine_inputs = [self.instruction, self.editor, self.chat, self.state, self.engine]
        for trigger in (self.send_btn.click, self.instruction.submit):
            trigger(
                self.validate_refine, [self.instruction, self.editor], None, show_progress="hidden"
            ).success(
                self.refine_turn, refine_inputs, [*self.outputs, self.instruction], show_progress="hidden",
                api_name="refine",
            )
        recheck_outputs = [self.annotated, self.checks, self.cites, self.state, self.status]
        # 重新检查 and leaving the editor: save first, in a step of its own with no queue limit (one
        # SQLite insert, so it never waits behind another writer's check), then check and render, which
        # may queue.  A blur and a click racing are deduplicated per user in adopt_edit.
        save: dict[str, Any] = {"concurrency_limit": None, "show_progress": "hidden"}
        saved = [self.state, self.status]
        self.recheck_btn.click(self.check_editor, self.editor, None, show_progress="hidden").success(
            self.save_edit, [self.editor, self.state], saved, api_name="save_edit", **save
        ).success(self.render_edit, [self.editor, self.state], recheck_outputs, show_progress="hidden",
                  api_name="check_edit")
        self.editor.blur(
            self.save_edit, [self.editor, self.state], saved, trigger_mode="always_last", **save
        ).success(
            self.render_if_unchecked, [self.editor, self.state], recheck_outputs, show_progress="hidden"
        )
        self.checks.change(self.flagged_choices, [self.editor, self.state], self.flagged,
                           show_progress="hidden")
        self.confirm_btn.click(self.confirm, [self.flagged, self.editor, self.state],
                               [*recheck_outputs, self.flagged], api_name="confirm", **save)
        self.engine.change(self.engine_status, self.engine, self.engine_info, show_progress="hidden")
        demo.load(self.engine_status, self.engine, self.engine_info, show_progress="hidden")
        self.basis.wire(self.state)

    # ---- handlers -------------------------------------------------------------------------
    def engine_status(self, name: str) -> str:
        """Which engine drafts, and whether it can be reached now (never raises)."""
        try:
            engine = get_engine(self.settings, name or None)
            ok, message = engine.health()
            dot = '<span class="dot ok">●</span>' if ok else '<span class="dot bad">●</span>'
            return f'<div class="engine-info">{dot}<b>{esc(engine.describe())}</b><br>{esc(message)}</div>'
        except DraftingError as exc:
            return f'<div class="engine-info"><span class="dot bad">●</span>{esc(exc.help_message)}</div>'

    @ui_errors
    def validate(self, heading: str, bullets: str, table: Any, doc_type: str, target: float) -> None:
        build_request(heading, bullets, table, doc_type, target).validate(self.settings)

    @ui_errors
    def check_editor(self, editor: str) -> None:
        if not (editor or "").strip():
            raise InputError(EMPTY_EDITOR)
        self.check_size(editor)
        require_words(editor, "编辑框里的稿件")

    def check_size(self, text: str) -> None:
        """The editor holds one report section: a longer text is refused before it is saved or checked,
        and stays in the editor (the refusal changes no output)."""
        check_length(text, self.settings.max_editor_chars, EDITOR_TOO_LONG)

    @ui_errors
    def validate_refine(self, instruction: str, editor: str) -> None:
        if not (instruction or "").strip():
            raise InputError("修改要求是空的。请写明怎么改，例如“压缩到300字”或“改成一是二是三是”。")
        if not (editor or "").strip():
            raise InputError("还没有可修改的稿件。请先生成初稿，或把稿件粘贴到“编辑稿件”框里。")
        self.check_size(editor)
        require_words(editor, "编辑框里的稿件")

    def _sources(self, user: str, state: dict[str, Any] | None, pending: str | None = None) -> list[Source]:
        """The writer's own edits and confirmations in this section (beyond the request's sources);
        ``pending`` is editor text not saved yet."""
        if not state:
            return []
        history = self.ctx.history()
        versions = history.versions(user, limit=1_000_000, session=state["session"])
        return [*session_sources(versions, pending),
                *confirmation_sources(history.confirmations(user, state["session"]))]

    def _checks(self, text: str, result: DraftResult | None, req: DraftRequest,
                extra: list[Source] | None = None) -> tuple[Any, list[Any], Any, dict]:
        """(guard, terms, conformance, checks json) for ``text``; ``extra``: see :meth:`_sources`."""
        if result is not None:
            guard, terms = result.figures, result.terms
        else:
            guard, terms = check(text, [*req.sources(), *(extra or [])], req.pairs())
        try:
            profile = house_style(self.ctx.store())
        except DraftingError:
            profile = None
        conf = conformance(text, profile) if profile is not None else None
        status = ("ok" if guard.status == "ok" and not any(t.severity == "必错" for t in terms)
                  else "needs_review")
        data: dict[str, Any] = {
            "status": status,
            "figures": guard.to_json(),
            "terms": [t.to_json() for t in terms],
            "conformance": conf.to_json() if conf is not None else None,
        }
        if result is not None:
            data["reasons"] = result.reasons()
            data["notes"] = list(result.notes)
        return guard, terms, conf, data

    def _checkpoint(self, user: str, state: dict[str, Any], ck: dict[str, Any], text: str, engine: str,
                    inputs: dict[str, Any]) -> None:
        """While a model streams, save what has arrived every :data:`CHECKPOINT_SECONDS` as one
        ``partial`` row, rewritten in place: a crash or kill mid-stream loses at most that much."""
        now = time.monotonic()
        if not text.strip() or now - ck["at"] < CHECKPOINT_SECONDS:
            return
        ck["at"] = now
        history = self.ctx.history()
        marked = {**inputs, "streaming": True}
        if ck["id"] is None:
            ck["id"] = history.save(user, session=state["session"], kind="partial",
                                    heading=state["request"].get("heading", ""), text=text, engine=engine,
                                    inputs=marked, parent=state.get("version"))
        else:
            history.update(user, ck["id"], kind="partial", text=text, engine=engine, inputs=marked)

    def _save(self, user: str, state: dict[str, Any], kind: str, text: str, engine: str,
              inputs: dict[str, Any], citations: list[dict[str, Any]], checks: dict[str, Any],
              replace: int | None = None) -> int:
        if replace is not None:  # the stream's checkpoint row becomes the finished version
            self.ctx.history().update(user, replace, kind=kind, text=text, engine=engine, inputs=inputs,
                                      citations=citations, checks=checks)
            state.update(version=replace, text=text, engine=engine or state.get("engine", ""),
                         citations=citations)
            return replace
        vid = self.ctx.history().save(
            user,
            session=state["session"],
            kind=kind,
            heading=state["request"].get("heading", ""),
            text=text,
            engine=engine,
            inputs=inputs,
            citations=citations,
            checks=checks,
            parent=state.get("version"),
        )
        state.update(version=vid, text=text, engine=engine or state.get("engine", ""), citations=citations)
        return vid

    def _finish(self, user: str, state: dict[str, Any], kind: str, result: DraftResult, req: DraftRequest,
                inputs: dict[str, Any], citations: list[dict[str, Any]],
                replace: int | None = None) -> tuple[str, str, str, str]:
        """Check, autosave; return (annotated, checks, citations html, summary line)."""
        guard, terms, conf, data = self._checks(result.text, result, req)
        state["corpus"] = add_corpus(self.ctx, data, result.text, req, user, result)
        vid = self._save(user, state, kind, result.text, result.engine, inputs, citations, data,
                         replace=replace)
        problems = result.reasons()
        verdict = f"需要复核 {len(problems)} 处，见右侧“检查结果”" if problems else "检查通过"
        summary = f"已自动保存为版本 {vid}（{result.engine} 引擎）。{verdict}。"
        return (
            annotated_html(result.text, guard, terms),
            with_corpus(checks_html(result.text, guard, terms, conf, result.notes), data["corpus"]),
            citations_html(citations),
            summary,
        )

    def _failed(self, user: str, state: dict[str, Any], exc: EngineError, engine: str, inputs: dict[str, Any],
                replace: int | None = None) -> str:
        """Keep what the engine wrote before it failed: save it as a ``partial`` version."""
        partial = exc.partial or ""
        saved = ""
        if partial.strip():
            vid = self._save(user, state, "partial", partial, engine, {**inputs, "error": exc.help_message},
                             [], {}, replace=replace)
            saved = f"已写出的部分已保存为版本 {vid}，并保留在下方编辑框中。"
        gr.Warning(esc(exc.help_message), title="起草模型出错")
        return f"⚠ **起草模型出错**：{esc(exc.help_message)} {saved}可以点左侧“改用 offline 引擎重新生成”。"

    @ui_errors
    def generate(
        self, heading: str, bullets: str, table: Any, doc_type: str, target: float, engine_name: str,
        request: gr.Request | None = None,
        past: str = "",
    ) -> Iterator[tuple[Any, ...]]:
        user = self.ctx.user(request)
        req = build_request(heading, bullets, table, doc_type, target, past)
        req.validate(self.settings)
        engine = get_engine(self.settings, engine_name or None)
        inputs = request_json(req)
        state: dict[str, Any] = {"session": uuid.uuid4().hex, "request": inputs, "text": "", "version": None,
                                 "engine": engine.name, "citations": []}
        chat = [{"role": "user", "content": esc(request_summary(req))},
                {"role": "assistant", "content": "正在检索往年材料…"}]
        skip = gr.skip()
        yield (chat, skip, skip, skip, skip, state, f"正在用 {esc(engine.name)} 引擎起草…",
               gr.update(visible=False))
        ck: dict[str, Any] = {"id": None, "at": time.monotonic()}
        try:
            for text, result in stream_call(draft, req, self.settings, engine=engine, store=self.ctx.store()):
                if result is None:
                    chat[-1]["content"] = esc(text)
                    self._checkpoint(user, state, ck, text, engine.name, inputs)
                    yield chat, skip, skip, skip, skip, skip, skip, skip
        except EngineError as exc:
            status = self._failed(user, state, exc, engine.name, inputs, replace=ck["id"])
            chat[-1]["content"] = esc(exc.partial or "") or "（模型没有输出任何文字）"
            chat.append({"role": "assistant", "content": esc("⚠ " + exc.help_message)})
            yield (chat, exc.partial or "", annotated_html(exc.partial or "", None), checks_html("", None),
                   citations_html([]), state, status, gr.update(visible=True))
            return
        citations = [c.to_json() for c in result.citations]
        citations += [{**c.to_json(), "reference": True} for c in result.references]
        annotated, checks_panel, cites, summary = self._finish(user, state, "draft", result, req, inputs,
                                                               citations, replace=ck["id"])
        chat[-1]["content"] = esc(result.text)
        chat.append({"role": "assistant", "content": esc(summary)})
        yield chat, result.text, annotated, checks_panel, cites, state, esc(summary), gr.update(visible=False)

    def adopt_edit(self, user: str, text: str, state: dict[str, Any] | None, *,
                   checked: bool = True) -> dict[str, Any]:
        """The state for ``text`` typed or pasted by the writer, saved as an ``edit`` version if new.
        The text is saved first, with no checks; with ``checked`` they are computed and stored after
        (an editor save leaves them to :meth:`render_edit`)."""
        self.check_size(text)
        if not state:
            first = text.strip().split("\n", 1)[0][:40]
            state = {"session": uuid.uuid4().hex, "request": {"heading": first, "pasted": True}, "text": "",
                     "version": None, "engine": "", "citations": []}
        if text != state.get("text"):
            with self._locks_lock:
                lock = self._edit_locks[user]
            with lock:  # a blur and a click racing store one version, not two
                latest = self.ctx.history().versions(user, limit=1, session=state["session"])
                if latest and latest[0].text == text:  # saved already
                    state.update(version=latest[0].id, text=text)
                    return state
                self._save(user, state, "edit", text, "", state["request"],
                           relink(text, state.get("citations", [])), {})
            state["unchecked"] = True
            if checked:
                self._store_checks(user, state, text)
        return state

    def _store_checks(self, user: str, state: dict[str, Any], text: str) -> tuple[Any, list[Any], Any]:
        """Check ``text``; when it is the state's saved version, store the checks with it."""
        req = request_from_json(state["request"])
        guard, terms, conf, data = self._checks(text, None, req, self._sources(user, state))
        state["corpus"] = add_corpus(self.ctx, data, text, req, user)
        if state.get("version") is not None and state.get("text") == text and state.get("unchecked"):
            self.ctx.history().set_checks(user, state["version"], data)
        state["unchecked"] = False
        return guard, terms, conf

    @ui_errors
    def refine_turn(
        self, instruction: str, editor: str, chat_value: Any, state: dict[str, Any] | None, engine_name: str,
        request: gr.Request | None = None,
    ) -> Iterator[tuple[Any, ...]]:
        user = self.ctx.user(request)
        state = self.adopt_edit(user, editor or "", state)
        req = request_from_json(state["request"])
        engine = get_engine(self.settings, engine_name or None)
        inputs = {**state["request"], "instruction": instruction}
        chat = normalise_chat(chat_value)
        chat += [{"role": "user", "content": esc(instruction)}, {"role": "assistant", "content": "正在修改…"}]
        skip = gr.skip()
        yield chat, skip, skip, skip, skip, state, f"正在按“{esc(instruction)}”修改…", skip, skip
        ck: dict[str, Any] = {"id": None, "at": time.monotonic()}
        try:
            for text, result in stream_call(refine, editor, instruction, req, self.settings, engine=engine,
                                            store=self.ctx.store(), extra_sources=self._sources(user, state)):
                if result is None:
                    chat[-1]["content"] = esc(text)
                    self._checkpoint(user, state, ck, text, engine.name, inputs)
                    yield chat, skip, skip, skip, skip, skip, skip, skip, skip
        except EngineError as exc:
            if not exc.partial:  # nothing written: the draft stays as it was
                chat[-1]["content"] = esc("⚠ " + exc.help_message)
                gr.Warning(esc(exc.help_message), title="无法按此修改")
                yield chat, skip, skip, skip, skip, state, f"⚠ {esc(exc.help_message)}", skip, skip
                return
            status = self._failed(user, state, exc, engine.name, inputs, replace=ck["id"])
            chat[-1]["content"] = esc(exc.partial)
            chat.append({"role": "assistant", "content": esc("⚠ " + exc.help_message)})
            yield (chat, exc.partial, annotated_html(exc.partial, None), checks_html("", None), skip, state,
                   status, gr.update(visible=True), "")
            return
        citations = relink(result.text, state.get("citations", []))
        annotated, checks_panel, cites, summary = self._finish(user, state, "refine", result, req, inputs,
                                                               citations, replace=ck["id"])
        chat[-1]["content"] = esc(result.text)
        chat.append({"role": "assistant", "content": esc(" ".join([*result.notes, summary]))})
        yield (chat, result.text, annotated, checks_panel, cites, state, esc(summary),
               gr.update(visible=False), "")

    @ui_errors
    def save_edit(
        self, editor: str, state: dict[str, Any] | None,
        request: gr.Request | None = None,
    ) -> tuple[Any, Any]:
        """First step of 重新检查 and of leaving the editor: store the text at once, durably, with no
        checks and no rendering (:meth:`render_edit` follows), so a save never waits behind a check."""
        user = self.ctx.user(request)
        text = editor or ""
        if not text.strip() or not has_words(text):
            return gr.skip(), gr.skip()  # nothing worth a version; 重新检查 then says why (render_edit)
        if state and text == state.get("text"):
            state["note"] = self._saved_note(user, state)
            return state, gr.skip()
        state = self.adopt_edit(user, text, state, checked=False)
        state["note"] = f"修改已自动保存为版本 {state['version']}。"
        return state, f"{state['note']}正在检查…"

    def _saved_note(self, user: str, state: dict[str, Any]) -> str:
        """What 重新检查 says of a text that is already the state's saved version: a writer's edit was
        saved already (leaving the editor saves it, so the click has nothing new to save), anything
        else is that version unchanged."""
        vid = state.get("version")
        if vid is None:
            return ""
        version = self.ctx.history().get(user, int(vid))
        if version is not None and version.kind == "edit":
            return f"你的修改已自动保存为版本 {vid}（离开编辑框时即保存），之后没有新的改动。"
        return f"稿件与版本 {vid} 相同，没有新的改动需要保存。"

    @ui_errors
    def render_edit(
        self, editor: str, state: dict[str, Any] | None,
        request: gr.Request | None = None,
    ) -> tuple[Any, ...]:
        """Second step: check the saved text, store the checks with its version, render both panels."""
        user = self.ctx.user(request)
        text = editor or ""
        if not text.strip():
            raise InputError(EMPTY_EDITOR)
        self.check_size(text)
        require_words(text, "编辑框里的稿件")
        state = self.adopt_edit(user, text, state, checked=False)  # saved already: a no-op
        guard, terms, conf = self._store_checks(user, state, text)
        note = state.pop("note", "")
        return (annotated_html(text, guard, terms),
                with_corpus(checks_html(text, guard, terms, conf), state.get("corpus")),
                citations_html(state.get("citations", [])), state,
                f"{note}已重新检查，结果见右侧“检查结果”。")

    @ui_errors
    def render_if_unchecked(
        self, editor: str, state: dict[str, Any] | None,
        request: gr.Request | None = None,
    ) -> tuple[Any, ...]:
        """After a save on leaving the editor: render only what that save stored."""
        if (not (editor or "").strip() or not state or not state.get("unchecked")
                or editor != state.get("text")):
            return (gr.skip(),) * 5
        return self.render_edit(editor, state, request)

    @ui_errors
    def recheck(
        self, editor: str, state: dict[str, Any] | None,
        request: gr.Request | None = None,
    ) -> tuple[Any, ...]:
        """重新检查 in one call: :meth:`save_edit`, then :meth:`render_edit`."""
        if not (editor or "").strip():
            raise InputError(EMPTY_EDITOR)
        state, _status = self.save_edit(editor, state, request)  # a state: the text is not empty
        return self.render_edit(editor, state, request)

    @ui_errors
    def autosave(
        self, editor: str, state: dict[str, Any] | None,
        request: gr.Request | None = None,
    ) -> tuple[Any, ...]:
        """On leaving the editor: save and re-check an edited draft; do nothing otherwise."""
        if not (editor or "").strip() or (state and editor == state.get("text")) or not has_words(editor):
            return (gr.skip(),) * 5
        return self.recheck(editor, state, request)

    @property
    def input_fields(self) -> list[Any]:
        """What the writer fills in: a restored version refills them (see :meth:`version_inputs`)."""
        return [self.heading, self.bullets, self.figures, self.doc_type, self.target, self.past]

    @staticmethod
    def version_inputs(inputs: dict[str, Any] | None) -> tuple[Any, ...]:
        """Values of :attr:`input_fields` for a saved version's inputs: its 标题, 要点 (one a line),
        数字表 (an empty row when it had none), 文种, 目标字数 and 套写 source.  A pasted text had no
        inputs: the fields are cleared, so no other section's inputs are left beside it."""
        req = request_from_json(inputs)
        figures = [[f.name, f.value, f.unit, f.last] for f in req.figures] or [["", "", "", ""]]
        return req.heading, "\n".join(req.bullets), figures, req.doc_type, req.target_chars, req.past

    def open_version(self, version: Any, parent: Any = None) -> tuple[Any, ...]:
        """Outputs (:attr:`outputs`, then :attr:`input_fields`) that load a saved version into this tab
        (used by the 历史 tab); ``parent``: the version a restored copy was made from."""
        req = request_from_json(version.inputs)
        inputs = {k: version.inputs.get(k)
                  for k in ("heading", "bullets", "figures", "doc_type", "target_chars", "past", "pasted")
                  if k in version.inputs}
        state = {"session": version.session, "request": inputs or {"heading": version.heading},
                 "text": version.text, "version": version.id, "engine": version.engine,
                 "citations": list(version.citations)}
        guard, terms, conf, _d = self._checks(version.text, None, req, self._sources(version.user, state))
        add_corpus(self.ctx, _d, version.text, req, version.user)
        state["corpus"] = _d["corpus"]
        if parent is not None:
            said = (f"已恢复版本 {parent.id}（{when(parent.created)}保存），另存为新版本 {version.id}；"
                    "标题、要点和数字表也已恢复为当时填写的内容，可继续修改。")
        else:
            said = f"已打开版本 {version.id}（{when(version.created)}保存），可继续修改。"
        chat = [{"role": "assistant", "content": esc(version.text)},
                {"role": "assistant", "content": esc(said)}]
        return (chat, version.text, annotated_html(version.text, guard, terms),
                with_corpus(checks_html(version.text, guard, terms, conf), _d["corpus"]),
                citations_html(version.citations), state, esc(said), gr.update(visible=False),
                *self.version_inputs(version.inputs))

    def recheck_saved(self, user: str, version: Any) -> dict[str, Any]:
        """Re-check a saved version with its section's sources and store the result as its checks
        (a restored copy must not keep checks an older, laundering rule once passed)."""
        state = {"session": version.session, "request": version.inputs}
        _g, _t, _c, data = self._checks(version.text, None, request_from_json(version.inputs),
                                        self._sources(user, state))
        self.ctx.history().update(user, version.id, kind=version.kind, text=version.text,
                                  engine=version.engine, inputs=version.inputs, citations=version.citations,
                                  checks=data)
        return data

    def open_problems(self, user: str, state: dict[str, Any] | None, text: str) -> list[str]:
        """What still needs review in ``text`` of this section, in Chinese (for the export)."""
        req = request_from_json((state or {}).get("request"))
        return review(text, [*req.sources(), *self._sources(user, state)], req.pairs()).reasons()

    # ---- 确认: the writer vouches for a flagged figure --------------------------------------
    def _flagged(self, user: str, text: str, state: dict[str, Any] | None) -> tuple[Any, list[Any]]:
        """(guard, unverified findings) of ``text`` with every source of this section."""
        req = request_from_json((state or {}).get("request"))
        guard, _t, _c, _d = self._checks(text, None, req, self._sources(user, state))
        return guard, [f for f in guard.findings() if f.kind == "unverified"]

    @ui_errors
    def flagged_choices(
        self, editor: str, state: dict[str, Any] | None,
        request: gr.Request | None = None,
    ) -> Any:
        """The figures of the draft that have no source, as choices for 确认 (none ticked)."""
        text = editor or (state or {}).get("text", "")
        if not text.strip() or not state:
            return gr.update(choices=[], value=[])
        _g, findings = self._flagged(self.ctx.user(request), text, state)
        choices: dict[str, str] = {}
        for f in findings:
            para = paragraph_of(text, f.start)
            choices.setdefault(f.text, f"{f.text}（{f'第{para + 1}段' if para is not None else '稿中'}，"
                                       f"{f.message}）")
        return gr.update(choices=[(label, raw) for raw, label in choices.items()], value=[])

    @ui_errors
    def confirm(
        self, picked: list[str] | None, editor: str, state: dict[str, Any] | None,
        request: gr.Request | None = None,
    ) -> tuple[Any, ...]:
        """Record the ticked figures as confirmed by the writer (history), then re-check."""
        user = self.ctx.user(request)
        if not picked:
            raise InputError(NOTHING_PICKED)
        text = editor or ""
        if not text.strip():
            raise InputError(EMPTY_EDITOR)
        state = self.adopt_edit(user, text, state)
        _g, findings = self._flagged(user, text, state)
        open_ = {f.text: f for f in findings}
        figures = extract_figures(text)
        history = self.ctx.history()
        done = []
        for raw in dict.fromkeys(picked):
            f = open_.get(raw)
            if f is None:
                continue
            context = (figure_context(text, f.start, f.end, figures)
                       if f.start is not None and f.end is not None else raw)
            history.confirm(user, session=state["session"], figure=raw, context=context or raw,
                            version=state.get("version"))
            done.append(raw)
        if not done:
            raise InputError("所选数字已不在稿件中，或已经有出处了。请点“重新检查”，再从列表里重新勾选。")
        annotated, checks_panel, cites, state, _status = self.recheck(text, state, request)
        current = history.get(user, state["version"]) if state.get("version") else None
        if current is not None:  # the saved version's checks now count the confirmation
            self.recheck_saved(user, current)
        status = (f"已确认：{'、'.join(done)}。你为这些数字担保，它们标为“你的确认”，已记入历史"
                  f"（版本 {state['version']}）。")
        return annotated, checks_panel, cites, state, esc(status), self.flagged_choices(text, state, request)


__all__ = ["DraftTab", "build_request", "figure_rows", "relink", "request_json"]

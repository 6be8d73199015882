"""历史: the writer's own autosaved versions (open, compare, restore) and export to Word / Markdown."""

from __future__ import annotations

import re
import secrets
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr

from drafting.document import accepted_version
from drafting.errors import ExportNeedsConfirmation, InputError
from drafting.export import Section, safe_filename, to_docx, write_markdown
from drafting.headings import heading_level
from drafting.history import diff_versions
from drafting.ui.common import AppContext, esc, ui_errors, when
from drafting.ui.render import annotated_html, diff_html

if TYPE_CHECKING:
    from drafting.ui.draft_tab import DraftTab

KIND_ZH = {"draft": "初稿", "refine": "对话修改", "edit": "手动修改", "partial": "中断稿", "restore": "恢复"}
VERSION_HEADERS = ["编号", "时间", "类型", "标题", "引擎", "字数", "检查"]
CURRENT = "当前稿件"  # the value of the 起草页 draft in the export list (Gradio shows values as tooltips)
NO_SECTIONS = "请先在“组成全文的各节”里勾选至少一节，再导出。"
# characters XML 1.0 (so python-docx) cannot store: C0 controls but tab/newline/CR, lone surrogates, U+FFFE/F
NOT_IN_WORD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def check_word_text(label: str, text: str) -> None:
    """Refuse, in Chinese, a text Word cannot hold (python-docx would raise a bare ValueError)."""
    m = NOT_IN_WORD.search(text or "")
    if m:
        raise InputError(
            f"{label}第{m.start() + 1}个字符是无法写入 Word 的控制字符（U+{ord(m.group()):04X}），"
            "常见于从网页或其他软件复制来的文字。请删去这个字符后再导出；导出 Markdown 不受影响。"
        )


def version_label(v: Any) -> str:
    return f"#{v.id} · {when(v.created)} · {KIND_ZH.get(v.kind, v.kind)} · {v.heading[:20] or '（无标题）'}"


def _check_zh(checks: dict[str, Any]) -> str:
    status = (checks or {}).get("status")
    return {"ok": "通过", "needs_review": "需复核"}.get(status or "", "—")


def sections_for(texts: list[tuple[str, str]]) -> list[Section]:
    """(heading, text) → export sections; a text that opens with its own heading line keeps it."""
    out = []
    for heading, text in texts:
        first = text.strip().split("\n", 1)[0] if text.strip() else ""
        out.append(Section("" if heading_level(first) else heading, text))
    return out


class HistoryTab:
    """The 历史 tab."""

    def __init__(self, ctx: AppContext) -> None:
        from drafting.ui.draft_tab import DraftTab

        self.ctx = ctx
        # its section checks serve the export; wire() passes the live tab
        self.draft: DraftTab = DraftTab(ctx)

    def build(self) -> None:
        with gr.Row(equal_height=False):
            with gr.Column(scale=6, min_width=420, elem_classes="panel"):
                gr.Markdown("#### 我的版本（每次生成、修改都已自动保存；点表格中的一行即可选中）",
                            elem_classes="panel-title")
                self.table = gr.Dataframe(headers=VERSION_HEADERS, value=[], interactive=False, wrap=True,
                                          max_height=380,
                                          column_widths=["9%", "19%", "12%", "24%", "13%", "10%", "13%"],
                                          buttons=[], elem_id="history-table")
                with gr.Row(equal_height=True):
                    self.pick = gr.Dropdown([], label="选中的版本", scale=4, elem_id="history-pick")
                    self.refresh_btn = gr.Button("刷新", scale=1, min_width=80, elem_id="history-refresh")
                with gr.Row():
                    self.open_btn = gr.Button("查看", elem_id="history-open")
                    self.restore_btn = gr.Button("恢复到起草页继续修改", variant="primary",
                                                 elem_id="history-restore")
                gr.Markdown("#### 比较两个版本", elem_classes="panel-title")
                with gr.Row(equal_height=True):
                    self.old = gr.Dropdown([], label="旧版本", elem_id="history-old")
                    self.new = gr.Dropdown([], label="新版本", elem_id="history-new")
                self.compare_btn = gr.Button("比较", elem_id="history-compare")
            with gr.Column(scale=5, min_width=420, elem_classes="panel"):
                self.meta = gr.Markdown("选中一个版本后点“查看”，或选两个版本后点“比较”。",
                                        elem_id="history-meta", elem_classes="history-meta")
                self.view = gr.HTML("", elem_id="history-view")
        with gr.Column(elem_classes="panel"):
            gr.Markdown("#### 导出 Word（GB/T 9704 公文格式）或 Markdown", elem_classes="panel-title")
            with gr.Row():
                self.title = gr.Textbox(label="文件标题",
                                        placeholder="例：市住建局2024年上半年工作总结（不填则用第一节标题）",
                                        scale=3, elem_id="export-title")
                self.issuer = gr.Textbox(label="落款单位（可选）", placeholder="例：市住房和城乡建设局",
                                         scale=2, elem_id="export-issuer")
                self.date = gr.Textbox(label="成文日期（可选）", placeholder="例：2024年7月10日", scale=1,
                                       elem_id="export-date")
            self.sections = gr.CheckboxGroup(
                [], label="组成全文的各节（按列表顺序；每节取该次起草的最新版本）", elem_id="export-sections",
            )
            with gr.Row():
                self.docx_btn = gr.Button("导出 Word（.docx）", variant="primary", elem_id="export-docx")
                self.md_btn = gr.Button("导出 Markdown（.md）", elem_id="export-md")
            self.download = gr.File(label="下载", interactive=False, height=90, elem_id="export-file")
            self.export_status = gr.Markdown("", elem_id="export-status")
            self.force_btn = gr.Button("仍然导出", visible=False, variant="stop", elem_id="export-force")
            self.pending = gr.State("")  # the format a 仍然导出 click writes

    @property
    def list_outputs(self) -> list[Any]:
        return [self.table, self.pick, self.old, self.new, self.sections]

    def wire(self, demo: gr.Blocks, tab: Any, draft: DraftTab, tabs: gr.Tabs) -> None:
        tab.select(self.refresh, [draft.state], self.list_outputs, show_progress="hidden")
        self.refresh_btn.click(self.refresh, [draft.state], self.list_outputs, show_progress="minimal",
                               api_name="history")
        self.table.select(self.select_row, None, [self.pick, self.old, self.new], show_progress="hidden")
        hidden: dict[str, Any] = {"show_progress": "hidden"}
        self.open_btn.click(self.check_pick, self.pick, None, **hidden).success(
            self.open, self.pick, [self.meta, self.view], show_progress="minimal"
        )
        self.compare_btn.click(self.check_pair, [self.old, self.new], None, **hidden).success(
            self.compare, [self.old, self.new], [self.meta, self.view], show_progress="minimal"
        )
        self.restore_btn.click(self.check_pick, self.pick, None, **hidden).success(
            self.restore, self.pick, [*draft.outputs, *draft.input_fields, tabs], show_progress="minimal"
        ).then(self.refresh, [draft.state], self.list_outputs, **hidden)
        export_inputs = [self.sections, self.title, self.issuer, self.date, draft.editor, draft.state]
        exports = ((self.docx_btn, self.export_docx, "export_docx"),
                   (self.md_btn, self.export_markdown, "export_markdown"))
        export_outputs = [self.download, self.export_status, self.force_btn, self.pending]
        for button, fn, api in exports:
            button.click(self.check_sections, self.sections, None, **hidden).success(
                fn, export_inputs, export_outputs, show_progress="minimal", api_name=api
            )
        self.force_btn.click(self.export_anyway, [self.pending, *export_inputs], export_outputs,
                             show_progress="minimal", api_name="export_anyway")
        self.draft = draft

    # ---- handlers -------------------------------------------------------------------------
    @ui_errors
    def refresh(
        self, state: dict[str, Any] | None,
        request: gr.Request | None = None,
    ) -> tuple[Any, ...]:
        user = self.ctx.user(request)
        history = self.ctx.history()
        versions = history.versions(user)
        rows = [[v.id, when(v.created), KIND_ZH.get(v.kind, v.kind), v.heading or "（无标题）",
                 v.engine or "—", len(v.text), _check_zh(v.checks)] for v in versions]
        choices = [(version_label(v), v.id) for v in versions]
        latest = versions[0].id if versions else None
        older = versions[1].id if len(versions) > 1 else None
        sections: list[tuple[str, str]] = []
        if state and state.get("text"):
            sections.append((f"当前起草页中的稿件：{str(state.get('request', {}).get('heading', ''))[:24]}",
                             CURRENT))
        for session, heading, n, last in reversed(history.sessions(user)):
            if state and session == state.get("session"):
                continue
            sections.append((f"{heading[:24] or '（无标题）'} · {n}个版本 · {when(last)}", session))
        default = [CURRENT] if state and state.get("text") else ([sections[-1][1]] if sections else [])
        return (
            rows,
            gr.update(choices=choices, value=latest),
            gr.update(choices=choices, value=older),
            gr.update(choices=choices, value=latest),
            gr.update(choices=sections, value=default),
        )

    @ui_errors
    def check_pick(self, vid: Any, request: gr.Request | None = None) -> None:
        self._get(self.ctx.user(request), vid)

    @ui_errors
    def check_pair(self, old: Any, new: Any, request: gr.Request | None = None) -> None:
        user = self.ctx.user(request)
        self._get(user, old)
        self._get(user, new)

    @ui_errors
    def check_sections(self, picked: list[str] | None) -> None:
        if not picked:
            raise InputError(NO_SECTIONS)

    def select_row(self, evt: gr.SelectData) -> tuple[Any, ...]:
        row = evt.row_value or []
        vid = int(row[0]) if row and str(row[0]).isdigit() else None
        if vid is None:
            return gr.skip(), gr.skip(), gr.skip()
        return vid, gr.skip(), vid

    def _get(self, user: str, vid: Any) -> Any:
        if vid in (None, ""):
            raise InputError("请先选中一个版本（点表格中的一行，或在“选中的版本”里选择）。")
        version = self.ctx.history().get(user, int(vid))
        if version is None:
            raise InputError(f"找不到版本 {vid}。它可能属于其他用户，或已不存在；请点“刷新”后重选。")
        return version

    @ui_errors
    def open(
        self, vid: Any,
        request: gr.Request | None = None,
    ) -> tuple[str, str]:
        user = self.ctx.user(request)
        v = self._get(user, vid)
        checks = v.checks or {}
        reasons = checks.get("reasons") or []
        meta = (f"**版本 {v.id}** · {esc(when(v.created))} · {KIND_ZH.get(v.kind, v.kind)}"
                f" · 引擎 {esc(v.engine or '—')} · {len(v.text)} 字 · 检查：{_check_zh(checks)}")
        if v.parent:
            meta += f" · 由版本 {v.parent} 而来"
        if v.inputs.get("instruction"):
            meta += f"  \n修改要求：{esc(v.inputs['instruction'])}"
        if reasons:
            meta += "  \n需要复核：" + esc("；".join(reasons))
        confirmed = dict.fromkeys(c.figure for c in self.ctx.history().confirmations(user, v.session))
        if confirmed:
            meta += "  \n你确认过的数字（你的确认）：" + esc("、".join(confirmed))
        return meta, annotated_html(v.text, None)

    @ui_errors
    def compare(
        self, old: Any, new: Any,
        request: gr.Request | None = None,
    ) -> tuple[str, str]:
        user = self.ctx.user(request)
        a, b = self._get(user, old), self._get(user, new)
        ops = diff_versions(a.text, b.text)
        ins = sum(len(t) for op, t in ops if op == "insert")
        dele = sum(len(t) for op, t in ops if op == "delete")
        meta = (f"**版本 {a.id} → 版本 {b.id}**：新增 {ins} 字（绿色），删去 {dele} 字（红色删除线）"
                if (ins or dele) else f"**版本 {a.id} 与版本 {b.id} 内容相同。**")
        return meta, diff_html(ops)

    @ui_errors
    def restore(
        self, vid: Any,
        request: gr.Request | None = None,
    ) -> tuple[Any, ...]:
        user = self.ctx.user(request)
        self._get(user, vid)
        history = self.ctx.history()
        try:
            new_id = history.restore(user, int(vid))
        except KeyError as exc:
            raise InputError(f"找不到版本 {vid}。请点“刷新”后重选。") from exc
        restored = history.get(user, new_id)
        # never the old row's (maybe laundered) checks
        restored.checks = self.draft.recheck_saved(user, restored)
        outputs = self.draft.open_version(restored, history.get(user, int(vid)))
        return (*outputs, gr.Tabs(selected="draft"))

    # ---- export ---------------------------------------------------------------------------
    def _sections(self, user: str, picked: list[str] | None, editor: str, state: dict[str, Any] | None,
                  ) -> tuple[list[Section], str, list[str]]:
        """(sections, default title, headings of picked sections skipped for having no usable version)."""
        if not picked:
            raise InputError(NO_SECTIONS)
        history = self.ctx.history()
        parts: list[tuple[str, str, dict[str, Any] | None]] = []
        skipped: list[str] = []
        for key in picked:
            if key == CURRENT:
                text = editor if (editor or "").strip() else (state or {}).get("text", "")
                if state and text != state.get("text"):
                    # autosave the edit before exporting
                    state = self.draft.adopt_edit(user, text, dict(state))
                parts.append((str((state or {}).get("request", {}).get("heading", "")), text, state))
            else:
                versions = history.versions(user, limit=1, session=key)
                if not versions:
                    continue
                # never a junk version: an interrupted stream, or nothing but the heading line
                good = accepted_version(history, user, key, heading_level(versions[0].heading) or 2)
                if good is None:
                    skipped.append(versions[0].heading or key)
                    continue
                parts.append((good.heading, good.text, {"session": key, "request": good.inputs}))
        parts = [p for p in parts if (p[1] or "").strip()]
        if not parts:
            raise InputError("所选各节都是空的，或只有中断的稿件、只有标题。请先起草或打开一个版本，再导出。")
        first = parts[0]
        title = first[0] or first[1].strip().split("\n", 1)[0]
        sections = sections_for([(h, t) for h, t, _s in parts])
        for section, (_h, text, st) in zip(sections, parts, strict=True):  # checked now, with every source
            section.problems = self.draft.open_problems(user, st, text)
        return sections, title, skipped

    def _export(self, fmt: str, picked: list[str] | None, title: str, issuer: str, date: str, editor: str,
                state: dict[str, Any] | None, request: gr.Request | None,
                confirm: bool = False) -> tuple[Any, ...]:
        """(file, message, 仍然导出 button, pending format).  While a section needs review nothing is
        written: the message lists its problems and 仍然导出 appears (``confirm=True`` writes anyway)."""
        user = self.ctx.user(request)
        sections, default_title, junk = self._sections(user, picked, editor, state)
        skipped = ("；未导出“" + "”“".join(esc(h) for h in junk)
                   + "”：它们只有中断的稿件或只有标题，请先在“起草”页写完") if junk else ""
        title = (title or "").strip() or default_title
        # a random part makes the folder unguessable: Gradio serves everything under exports/ (allowed_paths)
        # to any logged-in user who knows the path, and the user slug and the time are guessable
        folder = self.ctx.exports_dir(user) / f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(8)}"
        if fmt == "docx":
            for label, value in (("文件标题", title), ("落款单位", issuer), ("成文日期", date)):
                check_word_text(label, value)
            for n, section in enumerate(sections, 1):
                check_word_text(f"第{n}节", f"{section.heading}\n{section.text}")
        path = folder / safe_filename(title, fmt)
        write = to_docx if fmt == "docx" else write_markdown  # both atomic; ExportError on failure
        try:
            write(title, sections, path, issuer=(issuer or "").strip(), date=(date or "").strip(),
                  confirm=confirm)
        except ExportNeedsConfirmation as exc:
            listing = "\n".join(f"- {esc(p)}" for p in exc.problems)
            message = (f"**还有 {len(exc.problems)} 处需要复核的问题，尚未导出：**\n\n{listing}\n\n"
                       "请回到“起草”页改正，或核实后在检查结果里确认这些数字；如果你已核实无误，点下方“仍然导出”。")
            return None, message, gr.update(visible=True), fmt
        problems = sum(len(s.problems) for s in sections)
        note = f"（其中 {problems} 处需要复核的问题经你确认后仍然导出）" if problems else ""
        return (str(path),
                f"已导出 {len(sections)} 节{note}：{esc(Path(path).name)}{skipped}。点上方文件名即可下载。",
                gr.update(visible=False), "")

    @ui_errors
    def export_anyway(
        self, fmt: str, picked: list[str] | None, title: str, issuer: str, date: str, editor: str,
        state: dict[str, Any] | None,
        request: gr.Request | None = None,
    ) -> tuple[Any, ...]:
        """仍然导出: the writer has seen the open problems and exports anyway."""
        if fmt not in ("docx", "md"):
            raise InputError("请先点“导出 Word”或“导出 Markdown”，看过需要复核的问题后再选择“仍然导出”。")
        return self._export(fmt, picked, title, issuer, date, editor, state, request, confirm=True)

    @ui_errors
    def export_docx(
        self, picked: list[str] | None, title: str, issuer: str, date: str, editor: str,
        state: dict[str, Any] | None, request: gr.Request | None = None,
    ) -> tuple[Any, ...]:
        return self._export("docx", picked, title, issuer, date, editor, state, request)

    @ui_errors
    def export_markdown(
        self, picked: list[str] | None, title: str, issuer: str, date: str, editor: str,
        state: dict[str, Any] | None, request: gr.Request | None = None,
    ) -> tuple[Any, ...]:
        return self._export("md", picked, title, issuer, date, editor, state, request)

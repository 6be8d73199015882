"""The 文稿 tab: a whole document — outline, drafting into it, the document view, export.

    start (文种 + 标题) ─ outline.propose ─ Document (history.documents)      一 the outline table
    pick a node ─ its inputs (要点 / 数字表) from its accepted version        一 the node form
    起草此节 ─ drafter.draft (the 起草 tab's engine choice) ─ a version in the node's session
    到起草页继续修改 ─ DraftTab.open_version: chat, edits and checks land in the same session
    document_view ─ statuses, totals, cross-section findings (crosscheck)    一 the 全文 panel
    导出 Word ─ export_sections ─ to_docx (ExportNeedsConfirmation → 仍然导出)

The only state in the page is the document id: every handler loads the document from history,
changes it, saves it and renders it again.
"""

from __future__ import annotations

import re
import secrets
import time
from pathlib import Path
from typing import Any

import gradio as gr

from drafting.document import (
    STATUSES,
    Document,
    DocumentView,
    accepted_version,
    document_view,
    export_sections,
    node_state,
)
from drafting.drafter import DraftRequest, draft, get_engine, request_from_json, request_json
from drafting.engines import EngineError
from drafting.errors import ExportNeedsConfirmation, InputError
from drafting.export import safe_filename, to_docx
from drafting.outline import DOC_TYPES, number, propose
from drafting.ui.common import AppContext, esc, ui_errors, when
from drafting.ui.draft_tab import FIGURE_HEADERS, DraftTab, figure_rows
from drafting.ui.history_tab import check_word_text
from drafting.ui.page import SINGLE_CLICK_EDIT

OUTLINE_HEADERS = ["标题（序号按位置自动编排）", "句式", "状态", "字数"]
NO_DOCUMENT = "还没有打开文稿。请先在上方选文种、填标题，点“提出提纲并新建”，或从“我的文稿”里打开一篇。"
NO_NODE = "请先在“提纲中的一项”里选中一项。"
STATUS_CLASS = {"未起草": "todo", "已起草": "drafted", "需复核": "review", "已检查": "checked"}
VIEW_CSS = """<style>
.docv{font-size:15px;line-height:1.7}
.docv .docv-title{font-size:20px;font-weight:600;text-align:center;margin:4px 0 8px}
.docv .docv-totals{background:#f5f7f5;border:1px solid #d9e2d9;border-radius:6px;padding:6px 10px;\
margin-bottom:10px}
.docv .docv-node{border-left:3px solid #c8d3c8;padding:2px 0 6px 10px;margin:6px 0}
.docv .docv-h1{font-weight:700}
.docv .docv-h2{font-weight:600;margin-left:1.5em}
.docv .docv-body{white-space:pre-wrap;color:#333;margin-left:1.5em}
.docv .docv-empty{color:#888;margin-left:1.5em}
.docv .docv-problem{color:#a40000;margin-left:1.5em}
.docv .badge{display:inline-block;font-size:12px;border-radius:10px;padding:0 8px;margin-left:8px;\
font-weight:400}
.docv .badge.todo{background:#eee;color:#555}
.docv .badge.drafted{background:#e6eefc;color:#1a4fa0}
.docv .badge.review{background:#fde8e8;color:#a40000}
.docv .badge.checked{background:#e3f4e3;color:#1d6b1d}
.docv .docv-findings{border:1px solid #f0c8c8;background:#fff6f6;border-radius:6px;padding:6px 10px;\
margin:10px 0}
.docv .docv-sign{text-align:right;margin-top:10px;color:#333}
</style>"""


def _doc_choices(history: Any, user: str) -> list[tuple[str, int]]:
    return [(f"{title}（{doc_type}，{when(updated)}）", did)
            for did, title, doc_type, updated in history.documents(user)]


def view_html(view: DocumentView) -> str:
    """The whole document in outline order: every section with its status, the totals and the
    cross-section findings (all text escaped)."""
    doc = view.document
    counts = view.counts()
    findings = view.findings()
    parts = [VIEW_CSS, '<div class="docv">', f'<div class="docv-title">{esc(doc.title)}</div>']
    parts.append(
        '<div class="docv-totals" id="doc-totals">'
        f"共 {len(view.states)} 项，{' · '.join(f'{k} {counts[k]}' for k in STATUSES)}；"
        f"全文 <b>{view.words}</b> 字；待处理的数字问题 <b>{view.figure_problems}</b> 处，"
        f"提法问题 <b>{view.term_problems}</b> 处，跨节核对 <b>{len(findings)}</b> 处。</div>")
    if findings:
        items = "".join(f"<li>{esc(f.message)}</li>" for f in findings)
        parts.append(f'<div class="docv-findings" id="doc-findings"><b>跨节核对</b><ul>{items}</ul></div>')
    for s in view.states:
        cls = "docv-h1" if s.node.level == 1 else "docv-h2"
        badge = f'<span class="badge {STATUS_CLASS[s.status]}">{s.status}</span>'
        words = f'<span class="badge todo">{s.words}字</span>' if s.words else ""
        parts.append(f'<div class="docv-node"><div class="{cls}">{esc(s.heading)}{badge}{words}</div>')
        if s.text:
            parts.append(f'<div class="docv-body">{esc(s.text)}</div>')
        elif s.leaf:
            parts.append('<div class="docv-empty">（尚未起草：选中这一项，填写要点后点“起草此节”）</div>')
        parts += [f'<div class="docv-problem">⚠ {esc(p)}</div>' for p in s.problems]
        parts.append("</div>")
    sign = [x for x in (doc.issuer, doc.date) if x.strip()]
    if sign:
        parts.append('<div class="docv-sign">' + "<br>".join(esc(x) for x in sign) + "</div>")
    parts.append("</div>")
    return "".join(parts)


class DocumentTab:
    """The 文稿 tab (see the module docstring)."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.draft: DraftTab | None = None

    # ---- layout -----------------------------------------------------------------------------
    def build(self) -> None:
        office = self.ctx.settings.office
        with gr.Column(elem_classes="panel"):
            gr.Markdown("#### 新建文稿：选文种、填标题，按本局往年同类材料提出提纲",
                        elem_classes="panel-title")
            with gr.Row(equal_height=True):
                self.doc_type = gr.Dropdown(list(DOC_TYPES), value=DOC_TYPES[0], label="文种", scale=1,
                                            min_width=120, elem_id="doc-type")
                self.title = gr.Textbox(label="标题", placeholder="例：市住建局2024年工作总结", scale=3,
                                        elem_id="doc-title")
                self.issuer = gr.Textbox(office, label="落款单位", scale=2, elem_id="doc-issuer")
                self.date = gr.Textbox(label="成文日期", placeholder="例：2024年12月20日", scale=1,
                                       min_width=140, elem_id="doc-date")
            with gr.Row(equal_height=True):
                self.start_btn = gr.Button("提出提纲并新建", variant="primary", scale=1, elem_id="doc-start")
                self.save_meta_btn = gr.Button("保存标题、落款和日期", scale=1, elem_id="doc-save-meta")
                self.docs = gr.Dropdown([], label="我的文稿", scale=3, elem_id="doc-list")
                self.open_btn = gr.Button("打开", scale=1, min_width=80, elem_id="doc-open")
            self.notes = gr.Markdown(NO_DOCUMENT, elem_id="doc-notes")
        self.doc_id = gr.State(None)
        with gr.Row(equal_height=False):
            with gr.Column(scale=6, min_width=480, elem_classes="panel"):
                gr.Markdown("#### 提纲（增删、改名、调整顺序；序号自动编排）", elem_classes="panel-title")
                self.outline = gr.Dataframe(headers=OUTLINE_HEADERS, value=[], interactive=False, wrap=True,
                                            column_widths=["54%", "24%", "12%", "10%"], max_height=720,
                                            # Gradio titles its copy / fullscreen buttons in English only
                                            buttons=[],
                                            elem_id="doc-outline")
                self.node = gr.Dropdown([], label="提纲中的一项", elem_id="doc-node")
                with gr.Row():
                    self.up_btn = gr.Button("上移", min_width=60, elem_id="doc-up")
                    self.down_btn = gr.Button("下移", min_width=60, elem_id="doc-down")
                    self.remove_btn = gr.Button("删除", variant="stop", min_width=60, elem_id="doc-remove")
                with gr.Row(equal_height=True):
                    self.new_text = gr.Textbox(label="新标题", placeholder="例：聚焦城市更新，做实民生实事",
                                               scale=3, elem_id="doc-new-text")
                    self.new_level = gr.Radio([("一级（一、）", 1), ("二级（（一））", 2)], value=2,
                                              label="级别", scale=2, elem_id="doc-new-level")
                with gr.Row():
                    self.add_btn = gr.Button("添加到所选项之后", elem_id="doc-add")
                    self.rename_btn = gr.Button("把所选项改为新标题", elem_id="doc-rename")
            with gr.Column(scale=5, min_width=400, elem_classes="panel"):
                gr.Markdown("#### 起草所选一项", elem_classes="panel-title")
                self.node_heading = gr.Markdown(NO_NODE, elem_id="doc-node-heading")
                self.bullets = gr.Textbox(label="要点（每行一条，含本期数字）", lines=5, max_lines=12,
                                          elem_id="doc-bullets")
                self.figures = gr.Dataframe(
                    headers=FIGURE_HEADERS, value=[["", "", "", ""]], datatype="str", type="array",
                    row_count=1,
                    # Gradio 6.31's table reads (4, "fixed"); its type stub says int
                    column_count=(4, "fixed"),  # type: ignore[arg-type]
                    interactive=True, label="数字表（可选，可加行）",
                    column_widths=["38%", "22%", "16%", "24%"],  # 指标 names are long: the widest column
                    buttons=[],  # Gradio titles its copy / fullscreen buttons in English only
                    elem_id="doc-figures", elem_classes=SINGLE_CLICK_EDIT)
                with gr.Row():
                    self.draft_btn = gr.Button("起草此节", variant="primary", elem_id="doc-draft")
                    self.continue_btn = gr.Button("到起草页继续修改", elem_id="doc-continue")
                self.node_status = gr.Markdown("", elem_id="doc-node-status")
        with gr.Column(elem_classes="panel"):
            gr.Markdown("#### 全文（按提纲顺序；每节取最新的有效版本）", elem_classes="panel-title")
            with gr.Row():
                self.refresh_btn = gr.Button("刷新全文", min_width=80, elem_id="doc-refresh")
                self.export_btn = gr.Button("导出公文文件", variant="primary", elem_id="doc-export")
                self.force_btn = gr.Button("仍然导出", visible=False, variant="stop",
                                           elem_id="doc-export-force")
            self.export_status = gr.Markdown("", elem_id="doc-export-status")
            self.download = gr.File(label="下载", interactive=False, height=90, visible=False,
                                    elem_id="doc-export-file")
            self.view = gr.HTML("", elem_id="doc-view")

    @property
    def doc_outputs(self) -> list[Any]:
        return [self.doc_id, self.outline, self.node, self.view, self.notes]

    def wire(self, demo: gr.Blocks, tab: Any, draft: DraftTab, tabs: gr.Tabs) -> None:
        self.draft = draft
        hidden: dict[str, Any] = {"show_progress": "hidden"}
        tab.select(self.list_documents, None, self.docs, **hidden)
        self.start_btn.click(self.start, [self.doc_type, self.title, self.issuer, self.date],
                             [*self.doc_outputs, self.docs], show_progress="minimal", api_name="doc_start")
        self.open_btn.click(self.open, [self.docs], [*self.doc_outputs, self.doc_type, self.title,
                                                     self.issuer, self.date], show_progress="minimal")
        self.save_meta_btn.click(self.save_meta, [self.doc_id, self.title, self.issuer, self.date, self.node],
                                 [*self.doc_outputs, self.docs], **hidden)
        for button, fn in ((self.up_btn, self.move_up), (self.down_btn, self.move_down),
                           (self.remove_btn, self.remove)):
            button.click(fn, [self.doc_id, self.node], self.doc_outputs, **hidden)
        self.add_btn.click(self.add, [self.doc_id, self.node, self.new_level, self.new_text],
                           [*self.doc_outputs, self.new_text], **hidden)
        self.rename_btn.click(self.rename, [self.doc_id, self.node, self.new_text],
                              [*self.doc_outputs, self.new_text], **hidden)
        self.node.change(self.pick, [self.doc_id, self.node],
                         [self.node_heading, self.bullets, self.figures, self.node_status], **hidden)
        self.draft_btn.click(self.draft_node,
                             [self.doc_id, self.node, self.bullets, self.figures, draft.engine],
                             [*self.doc_outputs, self.node_heading, self.node_status],
                             show_progress="minimal", api_name="doc_draft")
        self.continue_btn.click(self.continue_in_draft, [self.doc_id, self.node],
                                [*draft.outputs, *draft.input_fields, tabs], show_progress="minimal")
        self.refresh_btn.click(self.refresh, [self.doc_id, self.node], self.doc_outputs,
                               show_progress="minimal")
        tab.select(self.refresh, [self.doc_id, self.node], self.doc_outputs, **hidden)
        export_outputs = [self.download, self.export_status, self.force_btn]
        self.export_btn.click(self.export, [self.doc_id], export_outputs, show_progress="minimal",
                              api_name="doc_export")
        self.force_btn.click(self.export_anyway, [self.doc_id], export_outputs, show_progress="minimal")

    # ---- rendering --------------------------------------------------------------------------
    def _load(self, user: str, doc_id: Any) -> Document:
        if doc_id in (None, ""):
            raise InputError(NO_DOCUMENT)
        return Document.load(self.ctx.history(), user, int(doc_id))

    def _render(self, user: str, doc: Document, selected: str | None = None,
                notes: str | None = None, view: DocumentView | None = None) -> tuple[Any, ...]:
        view = view or document_view(self.ctx.history(), user, doc)
        # short: 对仗, not why
        patterns = {k: re.sub(r"（[^（）]*）", "", v) for k, v in doc.patterns().items()}
        rows = [[("　　" if s.node.level == 2 else "") + s.heading, patterns.get(s.node.session, ""),
                 s.status, s.words or ""] for s in view.states]
        choices = [(h, n.session) for n, h in doc.numbered()]
        sessions = {c[1] for c in choices}
        value = selected if selected in sessions else None
        return (doc.id, rows, gr.update(choices=choices, value=value), view_html(view),
                gr.update() if notes is None else notes)

    # ---- handlers ---------------------------------------------------------------------------
    @ui_errors
    def list_documents(self, request: gr.Request | None = None) -> Any:
        user = self.ctx.user(request)
        return gr.update(choices=_doc_choices(self.ctx.history(), user))

    @ui_errors
    def start(self, doc_type: str, title: str, issuer: str, date: str,
              request: gr.Request | None = None) -> tuple[Any, ...]:
        """Propose an outline from the store and save it as a new document."""
        user = self.ctx.user(request)
        if not (title or "").strip():
            raise InputError("请先填写文稿标题，例如“市住建局2024年工作总结”，再提出提纲。")
        outline = propose(self.ctx.store(), self.ctx.settings, doc_type or DOC_TYPES[0], title)
        doc = Document.from_outline(outline, issuer=(issuer or "").strip(), date=(date or "").strip())
        doc.save(self.ctx.history(), user)
        notes = "\n".join(f"- {esc(n)}" for n in outline.notes)
        for past in outline.past if len(outline.past) > 1 else []:
            heads = "；".join(number(1, i) + h for i, h in enumerate((h for h, _k in past.tree if h), 1))
            notes += f"\n- 《{esc(past.title)}》的一级标题：{esc(heads)}"
        if outline.nodes:
            notes += "\n- 每一项都可以改名、删除、调整顺序，也可以添加新的一项。"
        return (*self._render(user, doc, notes=notes),
                gr.update(choices=_doc_choices(self.ctx.history(), user), value=doc.id))

    @ui_errors
    def open(self, doc_id: Any, request: gr.Request | None = None) -> tuple[Any, ...]:
        user = self.ctx.user(request)
        if doc_id in (None, ""):
            raise InputError("请先在“我的文稿”里选一篇，再点“打开”。")
        doc = self._load(user, doc_id)
        notes = (
            f"已打开《{esc(doc.title)}》（{esc(doc.doc_type)}）：提纲和每一节的要点、数字表都已恢复，"
            "选中一项即可看到。"
        )
        return (*self._render(user, doc, notes=notes), doc.doc_type, doc.title, doc.issuer, doc.date)

    @ui_errors
    def save_meta(self, doc_id: Any, title: str, issuer: str, date: str, node: str | None,
                  request: gr.Request | None = None) -> tuple[Any, ...]:
        user = self.ctx.user(request)
        doc = self._load(user, doc_id)
        doc.title, doc.issuer, doc.date = (title or "").strip(), (issuer or "").strip(), (date or "").strip()
        doc.save(self.ctx.history(), user)
        return (*self._render(user, doc, node, notes="已保存标题、落款单位和成文日期。"),
                gr.update(choices=_doc_choices(self.ctx.history(), user), value=doc.id))

    def _edit(self, request: gr.Request | None, doc_id: Any, node: str | None, change: Any,
              need_node: bool = True) -> tuple[Document, str, str | None]:
        user = self.ctx.user(request)
        doc = self._load(user, doc_id)
        if need_node and not node:
            raise InputError(NO_NODE)
        selected = change(doc)
        doc.save(self.ctx.history(), user)
        return doc, user, selected

    @ui_errors
    def move_up(self, doc_id: Any, node: str | None, request: gr.Request | None = None) -> tuple[Any, ...]:
        doc, user, _s = self._edit(request, doc_id, node, lambda d: d.move(str(node), -1))
        return self._render(user, doc, node, notes="已上移，序号已按新位置重排。")

    @ui_errors
    def move_down(self, doc_id: Any, node: str | None, request: gr.Request | None = None) -> tuple[Any, ...]:
        doc, user, _s = self._edit(request, doc_id, node, lambda d: d.move(str(node), +1))
        return self._render(user, doc, node, notes="已下移，序号已按新位置重排。")

    @ui_errors
    def remove(self, doc_id: Any, node: str | None, request: gr.Request | None = None) -> tuple[Any, ...]:
        doc, user, _s = self._edit(request, doc_id, node, lambda d: d.remove(str(node)))
        return self._render(user, doc, None,
                            notes="已从提纲中删除这一项（已起草的版本仍保存在“历史与导出”里）。")

    @ui_errors
    def add(self, doc_id: Any, node: str | None, level: Any, text: str,
            request: gr.Request | None = None) -> tuple[Any, ...]:
        doc, user, new = self._edit(request, doc_id, node,
                                    lambda d: d.add(int(level or 2), text, after=node or None).session,
                                    need_node=False)
        return (*self._render(user, doc, new, notes=f"已添加“{esc(doc.heading_of(str(new)))}”。"), "")

    @ui_errors
    def rename(self, doc_id: Any, node: str | None, text: str,
               request: gr.Request | None = None) -> tuple[Any, ...]:
        doc, user, _s = self._edit(request, doc_id, node, lambda d: d.rename(str(node), text))
        return (*self._render(user, doc, node, notes=f"已改为“{esc(doc.heading_of(str(node)))}”。"), "")

    @ui_errors
    def refresh(self, doc_id: Any, node: str | None, request: gr.Request | None = None) -> tuple[Any, ...]:
        if doc_id in (None, ""):
            return gr.update(), gr.update(), gr.update(), gr.update(), gr.update()
        user = self.ctx.user(request)
        return self._render(user, self._load(user, doc_id), node)

    @ui_errors
    def pick(self, doc_id: Any, node: str | None, request: gr.Request | None = None) -> tuple[Any, ...]:
        """The selected node's heading and its section's inputs (要点 / 数字表) from its latest version."""
        if doc_id in (None, "") or not node:
            return NO_NODE, gr.update(), gr.update(), ""
        user = self.ctx.user(request)
        doc = self._load(user, doc_id)
        heading = doc.heading_of(node)
        versions = self.ctx.history().versions(user, limit=1, session=node)
        inputs = versions[0].inputs if versions else {}
        req = request_from_json(inputs)
        rows = [[f.name, f.value, f.unit, f.last] for f in req.figures] or [["", "", "", ""]]
        state = node_state(self.ctx.history(), user, doc, doc.nodes[doc.index(node)], heading)
        source = f"　（标题取自《{esc(state.node.source)}》）" if state.node.source else ""
        return (f"**{esc(heading)}**　状态：{state.status}{source}", "\n".join(req.bullets), rows,
                self._status_md(state))

    @staticmethod
    def _status_md(state: Any) -> str:
        if state.status == "未起草":
            return "这一项还没有起草。填写要点后点“起草此节”。"
        lines = [f"**{state.status}**：{state.words} 字。"]
        lines += [f"- ⚠ {esc(p)}" for p in state.problems]
        if state.problems:
            lines.append("\n请点“到起草页继续修改”改正，或在那里的检查结果中确认这些数字。")
        return "\n".join(lines)

    @ui_errors
    def draft_node(self, doc_id: Any, node: str | None, bullets: str, table: Any, engine: str | None,
                   request: gr.Request | None = None) -> tuple[Any, ...]:
        """Draft the selected node with its numbered heading; the version goes into the node's session."""
        user = self.ctx.user(request)
        doc = self._load(user, doc_id)
        if not node:
            raise InputError(NO_NODE)
        heading = doc.heading_of(node)
        req = DraftRequest(heading=heading,
                           bullets=[b.strip() for b in (bullets or "").splitlines() if b.strip()],
                           figures=figure_rows(table), doc_type=doc.doc_type)
        req.validate(self.ctx.settings)
        history = self.ctx.history()
        previous = history.versions(user, limit=1, session=node)
        parent = previous[0].id if previous else None
        try:
            result = draft(req, self.ctx.settings, engine=get_engine(self.ctx.settings, engine or None),
                           store=self.ctx.store())
        except EngineError as exc:
            if exc.partial.strip():
                history.save(user, session=node, kind="partial", heading=heading, text=exc.partial,
                             engine=engine or "", inputs=request_json(req), parent=parent)
            raise
        checks = {"status": result.status, "figures": result.figures.to_json(),
                  "terms": [t.to_json() for t in result.terms], "reasons": result.reasons(),
                  "notes": result.notes}
        history.save(user, session=node, kind="draft", heading=heading, text=result.text,
                     engine=result.engine,
                     inputs=request_json(req), citations=[c.to_json() for c in result.citations],
                     checks=checks, parent=parent)
        doc.save(history, user)  # the document's last change
        view = document_view(history, user, doc)
        out = self._render(user, doc, node, notes=f"已起草“{esc(heading)}”，并保存为这一项的新版本。",
                           view=view)
        state = next(s for s in view.states if s.node.session == node)
        return (*out, f"**{esc(heading)}**　状态：{state.status}", self._status_md(state))

    @ui_errors
    def continue_in_draft(self, doc_id: Any, node: str | None,
                          request: gr.Request | None = None) -> tuple[Any, ...]:
        """Open the node's accepted version in the 起草 tab: chat, edits and checks continue its session."""
        user = self.ctx.user(request)
        doc = self._load(user, doc_id)
        if not node:
            raise InputError(NO_NODE)
        level = doc.nodes[doc.index(node)].level  # a node of this document, or a Chinese error
        version = accepted_version(self.ctx.history(), user, node, level)
        if version is None:
            raise InputError("这一项还没有起草，没有可继续修改的稿件。请先填写要点，点“起草此节”。")
        assert self.draft is not None
        return (*self.draft.open_version(version), gr.Tabs(selected="draft"))

    # ---- export -----------------------------------------------------------------------------
    def _export(self, doc_id: Any, request: gr.Request | None, confirm: bool) -> tuple[Any, ...]:
        user = self.ctx.user(request)
        doc = self._load(user, doc_id)
        view = document_view(self.ctx.history(), user, doc)
        sections = export_sections(view)
        for label, value in (("文稿标题", doc.title), ("落款单位", doc.issuer), ("成文日期", doc.date)):
            check_word_text(label, value)
        for s in sections:
            check_word_text(s.heading, s.text)
        folder = self.ctx.exports_dir(user) / f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(8)}"
        path = folder / safe_filename(doc.title, "docx")
        try:
            to_docx(doc.title, sections, path, issuer=doc.issuer, date=doc.date, confirm=confirm)
        except ExportNeedsConfirmation as exc:
            listing = "\n".join(f"- {esc(p)}" for p in exc.problems)
            message = (f"**还有 {len(exc.problems)} 处未完成或需要复核，尚未导出：**\n\n{listing}\n\n"
                       "请先起草或改正这些部分；如果你已核实、确实要先导出，点“仍然导出”。")
            return gr.update(value=None, visible=False), message, gr.update(visible=True)
        problems = sum(len(s.problems) for s in sections)
        note = f"（其中 {problems} 处未完成或需要复核的问题经你确认后仍然导出）" if problems else ""
        return (gr.update(value=str(path), visible=True),
                f"已按提纲顺序导出 {len(sections)} 项{note}：{esc(Path(path).name)}。点上方文件名即可下载。",
                gr.update(visible=False))

    @ui_errors
    def export(self, doc_id: Any, request: gr.Request | None = None) -> tuple[Any, ...]:
        return self._export(doc_id, request, confirm=False)

    @ui_errors
    def export_anyway(self, doc_id: Any, request: gr.Request | None = None) -> tuple[Any, ...]:
        return self._export(doc_id, request, confirm=True)

"""语料库: upload past reports (with progress and a per-file result), browse, remove, re-index,
search directly, and read the house-style profile (with charts)."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from drafting.drafter import house_style
from drafting.errors import InputError
from drafting.ingest import IngestReport, ingest
from drafting.loaders import _human_size
from drafting.search import search
from drafting.ui.common import AppContext, esc, ui_errors
from drafting.ui.ledger_view import LedgerChart
from drafting.ui.render import hits_html

FORMATS = [".docx", ".pdf", ".txt", ".md"]
STATUS_ZH = {"added": "新增", "updated": "更新", "unchanged": "未变", "failed": "失败"}
RESULT_HEADERS = ["文件", "结果", "段落数", "说明"]
DOC_HEADERS = ["编号", "标题", "年份", "文种", "段落数", "数字数", "状态", "文件"]
NOTE_ZH = {
    "added": "已入库",
    "updated": "内容有变化，已替换旧版本",
    "unchanged": "与库中相同，已跳过",
}
Progress = Callable[..., Any]
MAX_NAME_BYTES = 180  # well under the 255-byte limit of common file systems
NO_FILES = "还没有选择文件。请先点上方的文件框选择 docx、pdf、txt 或 md 文件，再点“导入语料库”。"
NO_DOC = "请先在“选择文档”中选出要删除的文档。"
NO_QUERY = "检索内容是空的。请输入关键词或一句话，例如“老旧小区改造”。"


def report_rows(report: IngestReport) -> list[list[Any]]:
    rows = []
    for f in report.files:
        status = f.get("status", "")
        note = f.get("error", "") if status == "failed" else NOTE_ZH.get(status, "")
        rows.append([Path(f["path"]).name, STATUS_ZH.get(status, status), f.get("chunks", ""), note])
    return rows


def report_line(report: IngestReport) -> str:
    return (
        f"导入完成：新增 {report.added} 篇，更新 {report.updated} 篇，未变 {report.unchanged} 篇，"
        f"失败 {len(report.failed)} 篇；本次写入 {report.chunks} 个段落。"
    )


def safe_upload_name(name: str) -> str:
    """A file name safe to create in the uploads folder, whatever the browser or an API client sent:
    the last path part only (``/`` or ``\\``), no control or invisible characters (NUL, RTL
    override), no leading dots, portable characters, at most ``MAX_NAME_BYTES`` UTF-8 bytes with the
    extension kept."""
    base = re.split(r"[/\\]", str(name))[-1]
    base = "".join(ch if ch.isprintable() else "" for ch in base)
    base = re.sub(r'[<>:"|?*]', "_", base).strip().lstrip(".").strip()
    stem, dot, ext = base.rpartition(".")
    if not dot:
        stem, ext = base, ""
    ext = ext[:16]
    budget = MAX_NAME_BYTES - len(ext.encode("utf-8")) - 1
    stem = stem.encode("utf-8")[:budget].decode("utf-8", "ignore").strip() or "上传文件"
    return f"{stem}.{ext}" if ext else stem


def _empty_chart(label: str) -> pd.DataFrame:
    return pd.DataFrame({label: pd.Series([], dtype="str"), "次数": pd.Series([], dtype="int")})


class CorpusTab:
    """The 语料库 tab."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.settings = ctx.settings

    def uploads_dir(self) -> Path:
        path = self.settings.data_path() / "uploads"
        path.mkdir(parents=True, exist_ok=True)
        return path

    # ---- layout ---------------------------------------------------------------------------
    def build(self) -> None:
        with gr.Row(equal_height=False):
            with gr.Column(scale=1, min_width=380, elem_classes="panel"):
                gr.Markdown("#### 导入往年材料", elem_classes="panel-title")
                self.files = gr.File(
                    label="选择文件（可多选：docx、pdf、txt、md）",
                    file_count="multiple",
                    file_types=FORMATS,
                    type="filepath",
                    height=150,
                    elem_id="corpus-files",
                )
                self.upload_btn = gr.Button("导入语料库", variant="primary", elem_id="corpus-upload")
                self.upload_status = gr.Markdown("", elem_id="corpus-upload-status")
                self.results = gr.Dataframe(
                    headers=RESULT_HEADERS, value=[], label="本次导入结果", interactive=False, wrap=True,
                    column_widths=["34%", "12%", "12%", "42%"], buttons=[], elem_id="corpus-results",
                )
            with gr.Column(scale=1, min_width=380, elem_classes="panel"):
                gr.Markdown("#### 检索语料库", elem_classes="panel-title")
                with gr.Row(equal_height=True):
                    self.query = gr.Textbox(label="检索内容", show_label=False,
                                            placeholder="例：老旧小区改造 群众获得感", scale=4,
                                            container=False, elem_id="corpus-query")
                    self.search_btn = gr.Button("检索", scale=1, min_width=80, elem_id="corpus-search")
                self.k = gr.Slider(1, 20, value=5, step=1, label="返回条数", elem_id="corpus-k")
                self.hits = gr.HTML(
                    '<div class="cites empty">输入关键词或一句话，查找往年材料中的相关段落。</div>',
                    elem_id="corpus-hits")
        with gr.Column(elem_classes="panel"):
            gr.Markdown("#### 已入库文档", elem_classes="panel-title")
            # every column in view at 1280 px: widths add up to the table's width, long titles wrap
            self.docs = gr.Dataframe(headers=DOC_HEADERS, value=[], interactive=False, wrap=True,
                                     max_height=420,
                                     column_widths=["14%", "27%", "6%", "9%", "7%", "7%", "10%", "20%"],
                                     buttons=[], elem_id="corpus-docs")
            with gr.Row(equal_height=True):
                self.doc_pick = gr.Dropdown([], label="选择文档", scale=4, elem_id="corpus-doc-pick")
                self.remove_btn = gr.Button("删除所选文档", variant="stop", scale=1, min_width=120,
                                            elem_id="corpus-remove")
                self.reindex_btn = gr.Button("重新索引", scale=1, min_width=100, elem_id="corpus-reindex")
                self.refresh_btn = gr.Button("刷新", scale=1, min_width=80, elem_id="corpus-refresh")
            self.docs_status = gr.Markdown("", elem_id="corpus-docs-status")
        with gr.Column(elem_classes="panel"):
            gr.Markdown("#### 本局文风档案（从语料库归纳）", elem_classes="panel-title")
            with gr.Row(equal_height=False):
                self.style = gr.HTML("", elem_id="corpus-style")
                with gr.Column():
                    self.openers_chart = gr.BarPlot(
                        _empty_chart("开头词"), x="开头词", y="次数", sort="-y", y_lim=[0, None],
                        title="最常用的句首词", height=260, elem_id="corpus-openers",
                    )
                    self.verbs_chart = gr.BarPlot(
                        _empty_chart("动词"), x="动词", y="次数", sort="-y", y_lim=[0, None],
                        title="最常用的动词", height=260, elem_id="corpus-verbs",
                    )
        with gr.Column(elem_classes="panel"):
            self.ledger_chart = LedgerChart(self.ctx)
            self.ledger_chart.build()

    @property
    def view_outputs(self) -> list[Any]:
        return [self.docs, self.doc_pick, self.style, self.openers_chart, self.verbs_chart]

    def wire(self, demo: gr.Blocks) -> None:
        self.ledger_chart.wire()
        # each change is checked first by an output-less step, so a refusal is a toast and never
        # covers the document list with an error overlay
        self.upload_btn.click(self.check_upload, self.files, None, show_progress="hidden").success(
            self.upload, self.files, [self.results, self.upload_status, *self.view_outputs, self.files],
            concurrency_limit=1, concurrency_id="corpus-write", api_name="upload",
        )
        self.remove_btn.click(self.check_remove, self.doc_pick, None, show_progress="hidden").success(
            self.remove, self.doc_pick, [self.docs_status, *self.view_outputs],
            concurrency_limit=1, concurrency_id="corpus-write", show_progress="minimal",
        )
        self.reindex_btn.click(self.check_admin, None, None, show_progress="hidden").success(
            self.reindex, None, [self.docs_status, *self.view_outputs],
            concurrency_limit=1, concurrency_id="corpus-write", api_name="reindex",
        )
        self.refresh_btn.click(self.view, None, self.view_outputs, show_progress="minimal")
        for trigger in (self.search_btn.click, self.query.submit):
            trigger(self.check_query, self.query, None, show_progress="hidden").success(
                self.search, [self.query, self.k], self.hits, show_progress="minimal"
            )
        demo.load(self.view, None, self.view_outputs, show_progress="hidden")

    # ---- checks before a change (no outputs: a refusal is only a toast) ----------------------
    @ui_errors
    def check_admin(self, request: gr.Request | None = None) -> None:
        self.ctx.require_admin(self.ctx.user(request))

    @ui_errors
    def check_upload(self, files: list[str] | None, request: gr.Request | None = None) -> None:
        self.ctx.require_admin(self.ctx.user(request))
        if not files:
            raise InputError(NO_FILES)

    @ui_errors
    def check_remove(self, doc_id: str | None, request: gr.Request | None = None) -> None:
        self.ctx.require_admin(self.ctx.user(request))
        if not doc_id:
            raise InputError(NO_DOC)

    @ui_errors
    def check_query(self, query: str) -> None:
        if not (query or "").strip():
            raise InputError(NO_QUERY)

    # ---- handlers -------------------------------------------------------------------------
    @ui_errors
    def view(self) -> tuple[Any, ...]:
        """Document table, document picker, style summary and charts."""
        store = self.ctx.store()
        docs = store.documents() if store.count() else []
        rows = [
            [d.doc_id, d.title or Path(d.source).name, d.year or "", d.doc_type, d.chunks, d.figures,
             "完整" if d.complete else "不完整，请重新导入", Path(d.source).name]
            for d in docs
        ]
        choices = [(f"{d.title or Path(d.source).name}（{d.doc_id}）", d.doc_id) for d in docs]
        profile = house_style(store)
        if profile is None:
            style = ('<div class="style-summary muted">'
                     '语料库还是空的。请先在上方导入本局往年的总结、汇报材料。</div>')
            openers, verbs = _empty_chart("开头词"), _empty_chart("动词")
        else:
            style = f'<div class="style-summary">{esc(profile.summary_zh())}</div>'
            openers = pd.DataFrame(profile.openers[:12], columns=["开头词", "次数"])
            verbs = pd.DataFrame(profile.verbs[:12], columns=["动词", "次数"])
        return rows, gr.update(choices=choices, value=None), style, openers, verbs

    @ui_errors
    def upload(
        self, files: list[str] | None,
        request: gr.Request | None = None,
        progress: Progress = gr.Progress(),  # noqa: B008 - Gradio injects progress through the default
    ) -> tuple[Any, ...]:
        user = self.ctx.user(request)
        self.ctx.require_admin(user)
        if not files:
            raise InputError(NO_FILES)
        folder = self.uploads_dir()
        paths, refused = [], []
        for f in files:
            dest, reason = self._stage_upload(Path(f), folder)
            if dest is None:
                refused.append((safe_upload_name(Path(f).name), reason))
            else:
                paths.append(dest)

        def tick(done: int, total: int, name: str) -> None:
            progress((done, max(total, 1)), desc=f"正在导入 {name}" if name else "正在更新检索索引…",
                     unit="个文件")

        progress(0, desc="正在读取文件…")
        with self.ctx.corpus_lock:
            report = (ingest(paths, self.settings, progress=tick, store=self.ctx.store()) if paths
                      else IngestReport())
        for name, reason in refused:
            report.failed.append({"path": name, "error": reason})
            report.files.append({"path": name, "status": "failed", "error": reason})
        line = report_line(report)
        if report.failed:
            line += " 失败的文件见下表“说明”列。"
        return (report_rows(report), esc(line), *self.view(), None)

    def _stage_upload(self, src: Path, folder: Path) -> tuple[Path | None, str]:
        """Copy one uploaded file to ``folder`` under a sanitised name; ``(None, reason)`` when refused.

        Type and size are checked before copying, so a refused file never lands in the uploads folder."""
        name = safe_upload_name(src.name)
        suffix = Path(name).suffix.lower()
        if suffix not in FORMATS:
            return None, (f"不支持 {suffix or '（无扩展名）'} 格式的文件。"
                          "请转换为 .docx、.pdf、.txt 或 .md 后再上传。")
        try:
            size = src.stat().st_size if src.is_file() else -1
        except (OSError, ValueError):
            size = -1
        if size < 0:
            return None, "读取不到上传的文件。请重新选择文件再上传。"
        limit = self.settings.max_file_mb * 1024 * 1024
        if size > limit:
            return None, (f"文件大小 {_human_size(size)}，超过上限 {_human_size(int(limit))}，未入库。"
                          "请拆分后再上传，或请管理员调大 DRAFTING_MAX_FILE_MB。")
        dest = folder / name
        if dest.resolve().parent != folder.resolve():  # never outside uploads/, whatever the name
            return None, "文件名不合规。请改用普通文件名后再上传。"
        if dest.is_symlink():
            dest.unlink()
        if src.resolve() != dest.resolve():
            shutil.copyfile(src, dest)
        return dest, ""

    @ui_errors
    def remove(
        self, doc_id: str | None,
        request: gr.Request | None = None,
    ) -> tuple[Any, ...]:
        user = self.ctx.user(request)
        self.ctx.require_admin(user)
        if not doc_id:
            raise InputError(NO_DOC)
        with self.ctx.corpus_lock:
            info = self.ctx.store().remove_document(doc_id)
        message = (f"已删除：{info.title or Path(info.source).name}（{info.doc_id}），"
                   f"共 {info.chunks} 个段落。")
        return (esc(message), *self.view())

    @ui_errors
    def reindex(
        self,
        request: gr.Request | None = None,
        progress: Progress = gr.Progress(),  # noqa: B008
    ) -> tuple[Any, ...]:
        """Re-read every stored document's file (changed files are replaced) and rebuild the keyword index."""
        user = self.ctx.user(request)
        self.ctx.require_admin(user)
        store = self.ctx.store()
        sources = sorted({d.source for d in store.documents()} if store.count() else set())
        present = [Path(s) for s in sources if Path(s).is_file()]
        gone = len(sources) - len(present)

        def tick(done: int, total: int, name: str) -> None:
            progress((done, max(total, 1)), desc=f"正在重新索引 {name}" if name else "正在更新检索索引…",
                     unit="个文件")

        with self.ctx.corpus_lock:
            report = ingest(present, self.settings, progress=tick, store=store)
            store.sync_keyword()
        message = (f"重新索引完成：{len(present)} 个文件，"
                   f"其中更新 {report.updated} 篇，未变 {report.unchanged} 篇。")
        if report.failed:
            message += f" 有 {len(report.failed)} 个文件读取失败：" + "；".join(
                f"{Path(f['path']).name}：{f['error']}" for f in report.failed
            )
        if gone:
            message += f" 另有 {gone} 篇文档的原文件已不在原位置，保留库中内容不变。"
        return (esc(message), *self.view())

    @ui_errors
    def search(self, query: str, k: float) -> str:
        if not (query or "").strip():
            raise InputError(NO_QUERY)
        store = self.ctx.store()
        if store.count() == 0:
            return '<div class="cites empty">语料库还是空的。请先导入往年材料，再检索。</div>'
        return hits_html(search(store, query.strip(), k=int(k or 5)))

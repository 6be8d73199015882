"""The corpus checks in the UI: ledger and citation findings in the 起草 checks panel (each with the
source passage), the 口径不同 mark, and the indicator chart of the 语料库 tab.

Kept apart from ``render.py`` and the tab classes so that the tabs change by a few lines only.
Every writer, model or corpus string goes through :func:`html.escape`.
"""

from __future__ import annotations

from html import escape as esc
from typing import Any

import gradio as gr
import pandas as pd

from drafting.corpuscheck import CorpusChecks, corpus_checks
from drafting.errors import DraftingError, InputError
from drafting.ui.common import AppContext, ui_errors
from drafting.ui.render import OK_VERDICT

__all__ = ["BasisMarks", "LedgerChart", "add_corpus", "corpus_html", "corpus_json", "series_frame",
           "with_corpus"]

_KIND = {"stale": "疑似沿用去年数字", "inconsistent": "与已发文件不一致", "base": "可补上年基数",
         "title": "文件名称不符", "docno": "文号不符", "brackets": "文号括号", "quote": "引文不是原话",
         "absent": "引用的文件不在语料库"}


def corpus_json(ctx: AppContext, text: str, provided: str, pairs: Any, user: str,
                result: Any = None) -> dict[str, Any]:
    """The corpus checks of ``text`` as JSON (from ``result`` when it carries them), the user's 口径不同
    marks left out."""
    try:
        marks = ctx.history().basis_marks(user) if user else {}
    except DraftingError:  # a history that cannot be read must not stop the checks
        marks = {}
    corpus = getattr(result, "corpus", None)
    if corpus is None or not isinstance(corpus, CorpusChecks):
        try:
            corpus = corpus_checks(ctx.store(), ctx.settings, text, provided, pairs, marks=marks)
        except InputError:
            corpus = CorpusChecks()
    data = corpus.to_json()
    from drafting.ledger import mark_key

    data["ledger"] = [f for f in data["ledger"] if mark_key(f) not in marks]
    return data


def add_corpus(ctx: AppContext, data: dict[str, Any], text: str, req: Any, user: str,
               result: Any = None) -> dict[str, Any]:
    """Put the corpus checks into a checks record (``data["corpus"]``, and ``needs_review`` when one of
    them is 必查); returns them."""
    corpus = corpus_json(ctx, text, req.provided_text(), req.pairs(), user, result)
    if any(f["severity"] == "必查" for f in [*corpus["ledger"], *corpus["citations"]]):
        data["status"] = "needs_review"
    data["corpus"] = corpus
    return corpus


def _source(src: dict[str, Any]) -> str:
    where = " › ".join(x for x in (src.get("heading", ""),) if x)
    label = f"{src.get('year', '')}年{src.get('period', '')}" if src.get("year") else ""
    return (f'<details class="ledger-src"><summary>出处：《{esc(src.get("title", ""))}》{esc(label)}'
            f'{("（" + esc(where) + "）") if where else ""}</summary>'
            f'<blockquote class="ledger-passage">{esc(src.get("passage", ""))}</blockquote></details>')


def with_corpus(checks: str, data: dict[str, Any] | None) -> str:
    """The checks panel followed by the corpus findings; a 必查 corpus finding also turns the panel's
    own 检查通过 into 需要复核, so the top line never says the opposite of what is below."""
    blocking = sum(f["severity"] == "必查"
                   for f in [*(data or {}).get("ledger", []), *(data or {}).get("citations", [])])
    if blocking:
        checks = checks.replace(OK_VERDICT,
                                '<div class="verdict bad">需要复核：数字均有出处，'
                                f'但与往年数字或政策原文核对有 {blocking} 处问题，见下方</div>')
    return checks + corpus_html(data)


def corpus_html(data: dict[str, Any] | None) -> str:
    """Ledger and citation findings, each with the passage of the document it rests on."""
    if not data:
        return ""
    items = []
    for f in data.get("ledger", []):
        cls = "sugg" if f["severity"] == "建议" else "bad"
        items.append(
            f'<li class="{cls}" data-kind="{esc(f["kind"])}"><b>{esc(_KIND.get(f["kind"], f["kind"]))}</b>'
            f'（“{esc(f["text"])}”）：{esc(f["message"].split("出处：")[0])}{_source(f["source"])}</li>'
        )
    for c in data.get("citations", []):
        cls = "note" if c["severity"] == "提示" else "bad"
        passage = (f'<details class="ledger-src"><summary>原文：《{esc(c["source_title"])}》</summary>'
                   f'<blockquote class="ledger-passage">{esc(c["passage"])}</blockquote></details>'
                   ) if c.get("passage") else ""
        items.append(f'<li class="{cls}" '
                     f'data-kind="{esc(c["kind"])}"><b>{esc(_KIND.get(c["kind"], c["kind"]))}</b>：'
                     f'{esc(c["message"])}{passage}</li>')
    notes = "".join(f'<li class="note">{esc(n)}</li>' for n in data.get("notes", []))
    if not items and not notes:
        return '<div class="checks corpus ok">与往年数字、已发文件和引用的政策原文核对：未发现问题。</div>'
    blocking = sum(f["severity"] == "必查" for f in [*data.get("ledger", []), *data.get("citations", [])])
    verdict = (f'<div class="verdict bad">与往年数字和政策原文核对：{blocking} 处需要复核</div>' if blocking
               else '<div class="checks-title">与往年数字和政策原文核对</div>')
    return f'<div class="checks corpus">{verdict}<ul id="corpus-findings">{"".join(items)}{notes}</ul></div>'



class BasisMarks:
    """口径不同: the writer marks a ledger finding as a different basis, with a short reason, kept
    in history."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    def build(self) -> None:
        with gr.Accordion("标记“口径不同”（不再提示这一对数字）", open=False, elem_id="basis-acc"):
            self.pick = gr.Dropdown([], label="选择一条台账提示", elem_id="basis-pick")
            self.reason = gr.Textbox(label="理由（一句话）", placeholder="例：本稿含新蔡县，上年不含",
                                     elem_id="basis-reason")
            self.btn = gr.Button("标记为口径不同", elem_id="basis-mark")
            self.status = gr.Markdown("", elem_id="basis-status")

    def wire(self, state: Any) -> None:
        self.pick.focus(self.choices, [state], self.pick, show_progress="hidden")
        self.btn.click(self.mark, [self.pick, self.reason, state], [self.status, self.reason],
                       show_progress="hidden", api_name="mark_basis")

    @staticmethod
    def findings(state: dict[str, Any] | None) -> list[dict[str, Any]]:
        return [f for f in ((state or {}).get("corpus") or {}).get("ledger", []) if f.get("kind") != "base"]

    def choices(self, state: dict[str, Any] | None) -> Any:
        from drafting.ledger import mark_key

        opts = [(f"{_KIND[f['kind']]}：“{f['text']}” ↔ 《{f['source'].get('title', '')}》"
                 f"{f['source'].get('raw', '')}",
                 mark_key(f)) for f in self.findings(state)]
        return gr.update(choices=opts, value=opts[0][1] if opts else None)

    @ui_errors
    def mark(
        self, key: str, reason: str, state: dict[str, Any] | None,
        request: gr.Request | None = None,
    ) -> tuple[str, str]:
        from drafting.ledger import mark_key

        user = self.ctx.user(request)
        found = [f for f in self.findings(state) if mark_key(f) == key]
        if not key or not found:
            raise InputError("请先在下拉框里选一条台账提示（稿件检查后才有），再标记。")
        self.ctx.history().mark_basis(user, key, reason, found[0])
        return ((f"已记下：“{found[0]['text']}”与《{found[0]['source'].get('title', '')}》"
                 f"口径不同（{reason.strip()}）。"
                "这一对数字今后不再提示。"), "")


def series_frame(facts: list[Any], name: str = "") -> pd.DataFrame:
    """The series to draw: outcomes (not rates, not targets) in the most frequent unit and period, one
    line per period, all wordings of the indicator on it (they are one indicator)."""
    rows = [f for f in facts if not f.direction and not f.target]
    if not rows:
        return pd.DataFrame({"期间": pd.Series([], dtype="str"), "数值": pd.Series([], dtype="float"),
                             "指标": pd.Series([], dtype="str")})
    counts: dict[str, int] = {}
    for f in rows:
        counts[f.unit] = counts.get(f.unit, 0) + 1
    unit = max(counts, key=lambda u: counts[u])
    rows = [f for f in rows if f.unit == unit]
    scale = 1e8 if unit == "元" and max(f.value for f in rows) >= 1e8 else 1.0
    label = "亿元" if scale == 1e8 else unit
    name = name or rows[0].indicator
    rows.sort(key=lambda f: (f.year, f.period))
    return pd.DataFrame({"期间": [f.label for f in rows], "数值": [f.value / scale for f in rows],
                         "指标": [f"{name}{('·' + f.period) if f.period else ''}（{label}）" for f in rows]})


class LedgerChart:
    """语料库 tab: an indicator's series over time, per issuer, with its sources."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    def build(self) -> None:
        with gr.Accordion("数字台账：指标历年数值", open=False, elem_id="ledger-acc"):
            with gr.Row():
                self.indicator = gr.Textbox(label="指标", placeholder="例：棚户区改造、生产总值", scale=3,
                                            elem_id="ledger-indicator")
                self.issuer = gr.Dropdown([], label="发文单位", scale=2, allow_custom_value=True,
                                          elem_id="ledger-issuer")
                self.btn = gr.Button("查看", scale=1, min_width=80, elem_id="ledger-show")
            self.chart = gr.LinePlot(series_frame([]), x="期间", y="数值", title="历年数值", sort="x",
                                     height=280, elem_id="ledger-chart")
            self.table = gr.HTML("", elem_id="ledger-table")

    def wire(self) -> None:
        self.issuer.focus(self.issuers, None, self.issuer, show_progress="hidden")
        for trigger in (self.btn.click, self.indicator.submit):
            trigger(self.show, [self.indicator, self.issuer], [self.chart, self.table, self.issuer],
                    show_progress="hidden", api_name="ledger" if trigger == self.btn.click else None)

    def issuers(self) -> Any:
        return gr.update(choices=self.ctx.store().ledger().issuers())

    @ui_errors
    def show(self, indicator: str, issuer: str | None) -> tuple[Any, str, Any]:
        if not (indicator or "").strip():
            raise InputError("请先写一个指标，例如“棚户区改造”或“生产总值”。")
        ledger = self.ctx.store().ledger()
        series = ledger.series(indicator.strip(), issuer=issuer or None,
                               threshold=self.ctx.settings.ledger.match)
        if not series:
            return (series_frame([]), (f'<div class="checks empty">数字台账里没有“{esc(indicator)}”这一指标。'
                    "换个说法试试（如“棚改”），或先导入相关材料。</div>"), gr.skip())
        who = issuer if issuer is not None and issuer in series else next(iter(series))
        facts = series[who]
        rows = "".join(
            f"<tr><td>{esc(f.label)}</td><td>{esc(f.indicator)}</td><td>{esc(f.raw)}"
            f"{'（目标）' if f.target else ''}</td>"
            f"<td>《{esc(f.title)}》</td><td>{esc(f.passage)}</td></tr>" for f in facts
        )
        table = (f'<div class="ledger-series"><b>{esc(who)}</b>'
                 '<table id="ledger-rows"><tr><th>期间</th><th>指标</th><th>数值</th><th>文件</th><th>原文<'
                 '/th></tr>'
                 f"{rows}</table></div>")
        return series_frame(facts, indicator.strip()), table, gr.update(value=who)

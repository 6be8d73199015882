"""Look of the app: a calm Gradio theme with Chinese fonts, plus the CSS of our own HTML panels."""

from __future__ import annotations

import gradio as gr

FONTS = ["Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", "sans-serif"]


def theme() -> gr.themes.Base:
    return gr.themes.Default(primary_hue="red", secondary_hue="slate", neutral_hue="slate", font=FONTS).set(
        block_label_background_fill="transparent",
        block_label_text_color="*neutral_700",
        block_label_text_weight="600",
        block_title_text_weight="600",
        button_primary_background_fill="#b3261e",
        button_primary_background_fill_hover="#8c1d18",
        button_primary_text_color="white",
    )


CSS = """
.gradio-container { max-width: 1680px !important; }
.app-header { display: flex; align-items: baseline; gap: 16px; padding: 4px 4px 0; }
.app-header h1 { font-size: 22px; margin: 0; }
.app-header .who { margin-left: auto; color: var(--body-text-color-subdued); font-size: 14px; }
.panel-title h4 { margin: 0 0 2px; font-size: 15px; }
.engine-info { font-size: 13px; color: var(--body-text-color-subdued); line-height: 1.6; }
.engine-info .dot { font-size: 12px; margin-right: 4px; }
.engine-info .dot.ok { color: #2e7d32; } .engine-info .dot.bad { color: #c62828; }
.draft-status { font-size: 13px; min-height: 1.4em; }

/* checks panel */
.checks ul { list-style: none; padding: 0; margin: 4px 0 10px; }
.checks li { display: flex; flex-wrap: wrap; gap: 6px; align-items: baseline; padding: 4px 8px; margin: 3px 0;
  border-radius: 6px; font-size: 14px; line-height: 1.5; }
.checks li .icon { font-weight: 700; min-width: 1.2em; flex: none; }
/* the text shrinks beside its icon instead of wrapping under it (which left the icon alone on a line) */
.checks li .main { flex: 1 1 0; min-width: 0; }
.checks li .note { color: #555; font-size: 13px; flex-basis: 100%; padding-left: 1.8em; }
.checks li.ok { background: #e8f5e9; color: #1b5e20; }
.checks li.bad { background: #fdecea; color: #b71c1c; }
.checks li.warn { background: #fff4e5; color: #8a4b00; }
.checks li.info { background: #eef3fb; color: #1a3d6d; }
.checks h4 { margin: 12px 0 4px; font-size: 15px; }
.checks h4 .count { font-weight: 400; color: #666; font-size: 13px; margin-left: 6px; }
.checks .muted, .muted { color: #777; font-size: 13px; margin: 2px 0 8px; }
.checks .verdict { padding: 8px 10px; border-radius: 6px; font-weight: 600; }
.checks .verdict.ok { background: #e8f5e9; color: #1b5e20; }
.checks .verdict.bad { background: #fdecea; color: #b71c1c; }
.checks .score.ok { color: #1b5e20; } .checks .score.warn { color: #8a4b00; }
.checks .score.bad { color: #b71c1c; }
.checks .bar { height: 8px; background: #eee; border-radius: 4px; overflow: hidden; margin: 2px 0 6px; }
.checks .bar .fill { height: 100%; }
.checks .bar .fill.ok { background: #43a047; } .checks .bar .fill.warn { background: #fb8c00; }
.checks .bar .fill.bad { background: #e53935; }
.checks.empty, .draft-view.empty, .cites.empty { color: #777; font-size: 14px; padding: 12px; }

/* annotated draft */
.draft-view p { margin: 0 0 10px; line-height: 1.9; font-size: 15px; text-indent: 0; white-space: pre-wrap; }
.draft-view .pno { display: inline-block; min-width: 1.6em; margin-right: 6px; font-size: 12px; color: #999;
  text-align: right; user-select: none; }
.draft-view p:target { background: #fffbe6; outline: 2px solid #f0c36d; border-radius: 4px; }
.draft-view mark { padding: 0 2px; border-radius: 3px; cursor: help; }
.draft-view mark.m-ok { background: #c8e6c9; color: #1b5e20; }
.draft-view mark.m-bad { background: #ffcdd2; color: #b71c1c; font-weight: 600; }
.draft-view mark.m-term { background: #ffe0b2; color: #8a4b00; text-decoration: underline wavy #e65100; }
.draft-view mark.m-term.sev-must { background: #ffcdd2; color: #b71c1c; }

/* citations, search hits */
.cites { padding-left: 1.4em; margin: 0; }
.cites li { margin: 0 0 12px; }
.cites .cite-head { display: flex; flex-wrap: wrap; gap: 10px; align-items: baseline; font-size: 14px; }
.cites .path { color: #555; font-size: 13px; }
.cites .echo { font-size: 13px; }
.cites .echo a { color: #c62828; margin-right: 4px; }
.cites .snippet { color: #333; font-size: 14px; line-height: 1.7; background: #f7f7f9; padding: 6px 10px;
  border-radius: 6px; margin-top: 4px; white-space: pre-wrap; }

/* diffs and suggestions */
.diff { line-height: 1.9; font-size: 15px; white-space: pre-wrap; }
.diff ins { background: #c8e6c9; color: #1b5e20; text-decoration: none; padding: 0 1px; }
.diff del { background: #ffcdd2; color: #b71c1c; padding: 0 1px; }
.sugg { border: 1px solid #e3e3e8; border-radius: 8px; padding: 8px 12px; margin: 0 0 10px; }
.sugg.accepted { border-color: #43a047; background: #f4fbf4; }
.sugg .sugg-head { display: flex; gap: 8px; align-items: baseline; font-size: 13px; color: #555; }
.sugg .sid { font-weight: 700; color: #222; font-size: 14px; }
.sugg .tag { background: #eef3fb; color: #1a3d6d; border-radius: 4px; padding: 0 6px; }
.sugg .tag.flag { background: #fdecea; color: #b71c1c; }
.sugg .reason { font-size: 13px; color: #444; margin-top: 4px; }
.sugg .source { font-size: 13px; color: #666; margin-top: 2px; }
.sugg .ctx { font-size: 13px; color: #555; margin: 4px 0 2px; }
.sugg .ctx mark.ctx-hit { background: #fff3c4; color: #222; padding: 0 1px; border-radius: 2px; }
.sugg .ctx .ctx-where { color: #888; margin-left: 4px; }
.history-meta { font-size: 13px; color: #555; }
/* table cells break Chinese between characters, never a Latin word (「offli/ne」) */
#history-table [role=gridcell] span, #corpus-docs [role=gridcell] span, #corpus-results [role=gridcell] span,
#history-table th span, #corpus-docs th span {
  word-break: normal !important; overflow-wrap: normal !important; }
.style-summary { white-space: pre-wrap; line-height: 1.8; font-size: 14px; }
"""

# Gradio titles its toasts "Error"/"Warning" in English whatever title is passed; say it in Chinese.
CSS += """
.toast-title { font-size: 0 !important; }
.toast-title::before { font-size: 16px; font-weight: 700; }
.toast-title.error::before { content: "出错了"; }
.toast-title.warning::before { content: "请注意"; }
.toast-title.info::before, .toast-title.success::before { content: "提示"; }
"""

CSS += """
/* Gradio's table cell menu above the blocks below it (their labels showed through the menu) */
.cell-menu { z-index: 1000 !important; }
"""

"""What the app adds to Gradio's page: Gradio's own words in Chinese, never in English, whatever
language the browser asks for, and single-click editing of the 数字表.

Gradio's frontend picks its built-in texts (the table menu 「在下方插入一行」, upload hints, 「清除」,
「加载中」…) by the browser's language: an English browser got English.  :func:`gradio_i18n` hands
Gradio the Chinese for every one of its keys under English (its fallback) and Chinese, as flat keys
(``dataframe.add_row_below``), which its lookup prefers to its own nested tables.  The Chinese is
``drafting/data/gradio_zh.json``: Gradio 6.31's own zh-CN table, our wording where that reads
badly to a writer, and Chinese for the keys it lacks (one entry per key of Gradio's English
table).  A few words the frontend writes in English outside those tables (the progress line
「processing | 4.0s」, the upload-limit error) are rewritten in the page by ``data/gradio_zh.js``;
``data/table_click.js`` makes one click edit a cell of a table with the class ``single-click-edit``.
Both go into the page's ``<head>`` (:data:`HEAD`).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import gradio as gr

DATA = Path(__file__).resolve().parent.parent / "data"
TABLE = DATA / "gradio_zh.json"
SCRIPTS = ("gradio_zh.js", "table_click.js")
SINGLE_CLICK_EDIT = "single-click-edit"  # elem_classes of a table edited with one click
# English is what Gradio falls back to for any browser language it has no table for (zh-HK, en-GB…) and
# for keys missing from another language's table, so Chinese under "en" means no English ever; the two
# Chinese ones make a Chinese browser read our wording too.  A browser set to one of Gradio's other 30
# languages (fr, ja…) shows that language's words.  Every one of the 33 would work, but would put the
# table into the page 33 times (+225 KB on a 330 KB page).
GRADIO_LOCALES = ("en", "zh-CN", "zh-TW")


@cache
def chinese() -> dict[str, str]:
    """Gradio's translation keys → Chinese."""
    return json.loads(TABLE.read_text(encoding="utf-8"))


def gradio_i18n() -> gr.I18n:
    """``launch(i18n=…)``: the Chinese under :data:`GRADIO_LOCALES`."""
    return gr.I18n(**{locale: chinese() for locale in GRADIO_LOCALES})


HEAD = "\n".join(f"<script>\n{(DATA / name).read_text(encoding='utf-8')}\n</script>" for name in SCRIPTS)

# The login page is served before the app's config (no translations, no <head> additions reach it);
# its only writer-supplied part is the auth message, rendered as HTML.  This style, appended to it,
# puts Chinese over Gradio's English "Login" / "username" / "password" / "Incorrect Credentials".
LOGIN_CSS = """<style>
.wrap h2, .wrap p.creds, .wrap .form [data-testid=block-info], .wrap button.primary {
  font-size: 0 !important; }
.wrap h2::before { content: "登录拟稿助手"; font-size: 24px; }
.wrap p.creds::before {
  content: "没有登录成功：用户名或密码不对，或连续输错后该账号正暂停登录。请核对后稍后再试。";
  font-size: 14px; }
.wrap .form .block:nth-of-type(1) [data-testid=block-info]::before { content: "用户名"; font-size: 14px; }
.wrap .form .block:nth-of-type(2) [data-testid=block-info]::before { content: "密码"; font-size: 14px; }
.wrap button.primary::before { content: "登录"; font-size: 16px; }
</style>"""

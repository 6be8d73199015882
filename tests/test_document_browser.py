"""The 文稿 tab in a real headless Chromium: create a document from an outline, draft （二） before
（一）, export, and check the docx order, the 落款 layout and the review warning.

Screenshots of the document view go to test-artifacts/ui/ (git-ignored).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from drafting.settings import get_settings
from tests.test_ui_browser import (  # the harness: real app on 127.0.0.1, real Chromium
    Served,
    box,
    browser,  # noqa: F401  (fixture)
    choose,
    open_app,
    page,  # noqa: F401  (fixture)
    seeded_store,  # noqa: F401  (fixture)
    serve,
    shot,
    text_of,
    wait_text,
)

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::DeprecationWarning"),
              pytest.mark.filterwarnings("ignore:.*(no_silent_downcasting|copy keyword).*")]


@pytest.fixture(scope="module")
def app(seeded_store: Path) -> Iterator[Served]:  # noqa: F811
    settings = get_settings(store=seeded_store / "store", data_dir=seeded_store / "data-doc",
                            engine="offline")
    served = serve(settings)
    yield served
    served.close()


def _pick_node(pg: Any, heading: str) -> None:
    choose(pg, "doc-node", heading)
    wait_text(pg, "doc-node-heading", heading)


def _draft(pg: Any, heading: str, bullets: str) -> None:
    _pick_node(pg, heading)
    box(pg, "doc-bullets").fill(bullets)
    pg.click("#doc-draft")
    wait_text(pg, "doc-node-status", "字")


def test_document_from_outline_to_export(app: Served, page: Any, tmp_path: Path) -> None:  # noqa: F811
    open_app(page, app.url)
    page.click("#tab-document-button")
    box(page, "doc-title").fill("市住建局2024年工作总结")
    box(page, "doc-date").fill("2024年12月20日")
    page.click("#doc-start")
    wait_text(page, "doc-notes", "依据语料库中2篇往年材料")
    wait_text(page, "doc-outline", "三、下一步工作计划")
    outline = text_of(page, "doc-outline")
    shot(page, "doc-00-outline-proposed")
    assert (outline.index("一、工作开展情况") < outline.index("二、存在问题")
        < outline.index("三、下一步工作计划"))

    # the writer edits the proposal: drops two parts, renames two, adds one
    for part, gone in (("二、存在问题", "存在问题"), ("二、下一步工作计划", "下一步工作计划")):
        _pick_node(page, part)
        page.click("#doc-remove")
        page.wait_for_function("n => !(document.getElementById('doc-outline')?.innerText || '').includes(n)",
                               arg=gone)
    for old, new in (("（一）贯穿", "住房保障"), ("（二）围绕", "城市更新")):
        _pick_node(page, old)
        box(page, "doc-new-text").fill(new)
        page.click("#doc-rename")
        wait_text(page, "doc-outline", new)
    _pick_node(page, "（六）突出")
    box(page, "doc-new-text").fill("下一步工作打算")
    page.locator("#doc-new-level label", has_text="一级").click()
    page.click("#doc-add")
    wait_text(page, "doc-outline", "二、下一步工作打算")

    # （二） before （一）
    _draft(page, "（二）城市更新", "完成老旧小区改造120个，惠及居民3200户\n新增公共停车泊位1.2万个")
    wait_text(page, "doc-view", "（二）城市更新已检查")
    _draft(page, "（一）住房保障", "新开工保障性住房1200套\n发放租赁补贴3000户")
    wait_text(page, "doc-view", "（一）住房保障已检查")
    # （三） repeats a figure of （一） with another value and misquotes a formulation: 需复核 and a finding
    _draft(page, "（三）深化", "深入学习习近平新时代中国特色思想\n新开工保障性住房1300套")
    wait_text(page, "doc-view", "需复核")
    wait_text(page, "doc-findings", "1300套")
    assert "1200套" in text_of(page, "doc-findings")
    # the other parts are left undrafted; the review warning must list them
    view = text_of(page, "doc-view")
    assert view.index("（一）住房保障") < view.index("（二）城市更新") < view.index("二、下一步工作打算")
    assert "未起草" in view and "全文" in view
    shot(page, "doc-01-document-view")

    page.click("#doc-export")
    wait_text(page, "doc-export-status", "尚未导出")
    status = text_of(page, "doc-export-status")
    assert ("二、下一步工作打算：未起草" in status
        and "（四）加快“内涵提标”，城乡面貌持续改善：未起草" in status)
    assert "习近平新时代中国特色社会主义思想" in status  # （三）'s 必错 formulation
    assert "同一数字前后不一致" in status
    page.wait_for_selector("#doc-export-force", state="visible")
    shot(page, "doc-02-export-warning")
    page.click("#doc-export-force")
    page.wait_for_selector("#doc-export-file a")
    wait_text(page, "doc-export-status", "已按提纲顺序导出")
    with page.expect_download() as info:
        page.locator("#doc-export-file a").first.click()
    target = tmp_path / "doc.docx"
    info.value.save_as(target)

    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn

    paras = [p for p in docx.Document(str(target)).paragraphs if p.text]
    texts = [p.text for p in paras]
    assert texts[0] == "市住建局2024年工作总结"
    assert texts[1] == "一、工作开展情况" and texts[2] == "（一）住房保障"
    assert texts.index("（一）住房保障") < texts.index("（二）城市更新") < texts.index("二、下一步工作打算")
    assert any("1200套" in t for t in texts[texts.index("（一）住房保障"):texts.index("（二）城市更新")])
    assert not any("⚠" in t or "需复核" in t for t in texts)  # the file carries the text only
    assert texts[-2:] == ["市住房和城乡建设局", "2024年12月20日"]
    issuer, date = paras[-2], paras[-1]
    assert issuer.alignment == date.alignment == WD_ALIGN_PARAGRAPH.RIGHT
    r_date = int(date._p.pPr.find(qn("w:ind")).get(qn("w:right")))
    r_issuer = int(issuer._p.pPr.find(qn("w:ind")).get(qn("w:right")))
    assert r_date == 4 * 320  # 右空四字
    # 市住房和城乡建设局 (9 characters of 312 twips once condensed) centred over 2024年12月20日 (3 full-width
    # and 8 half-width characters, each condensed by 8 twips): half the difference further left
    issuer_w, date_w = 9 * (320 - 8), 3 * 320 + 8 * 160 - 11 * 8
    assert abs((r_date - r_issuer) - (issuer_w - date_w) / 2) <= 2

    # 到起草页继续修改: the 起草 tab opens （三）'s version; its chat and edits continue that section
    page.click("#tab-document-button")
    _pick_node(page, "（三）深化")
    page.click("#doc-continue")
    page.wait_for_function(
        "() => (document.querySelector('#draft-editor textarea')?.value || '').includes('1300套')")

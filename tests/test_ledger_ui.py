"""The ledger in the UI: findings with their source passage in the 起草 checks panel, 口径不同 marks kept
in history, and the indicator chart of the 语料库 tab (handlers directly, then real Chromium)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from drafting.ingest import ingest
from drafting.settings import Settings, get_settings
from drafting.ui.common import AppContext
from drafting.ui.draft_tab import DraftTab
from drafting.ui.ledger_view import BasisMarks, LedgerChart, corpus_html
from tests.test_ledger import _corpus

BULLETS = "上半年完成棚户区改造3300套\n老旧小区改造52个"


@pytest.fixture(scope="module")
def bureau(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    root = tmp_path_factory.mktemp("ledger-ui")
    settings = get_settings(store=root / "store", data_dir=root / "data", engine="offline",
                            ledger={"year": 2024})
    ingest([_corpus(root / "c", ["2023上半年.txt", "2024上半年.txt"])], settings)
    return settings


@pytest.fixture
def ctx(bureau: Settings, tmp_path: Path) -> AppContext:
    return AppContext.create(bureau.model_copy(update={"data_dir": tmp_path / "data"}))


def _draft(tab: DraftTab) -> tuple[Any, ...]:
    *_, last = list(tab.generate("（一）住房保障", BULLETS, None, "工作总结", 400, "offline"))
    return last


def test_checks_panel_shows_the_ledger_finding_with_its_source_passage(ctx: AppContext) -> None:
    tab = DraftTab(ctx)
    out = _draft(tab)
    checks, state = out[3], out[5]
    assert "与已发文件不一致" in checks and "《市住建局2024年上半年工作总结》" in checks
    assert "上半年完成棚户区改造3200套" in checks  # the passage it rests on
    assert state["corpus"]["ledger"][0]["kind"] == "inconsistent"
    saved = ctx.history().versions("本机用户")[0]
    assert saved.checks["corpus"]["ledger"][0]["source"]["title"] == "市住建局2024年上半年工作总结"
    assert saved.checks["status"] == "needs_review"


def test_corpus_html_escapes_corpus_text() -> None:
    src = {"title": "<b>x</b>", "passage": "<script>alert(1)</script>", "year": 2024}
    html = corpus_html({"ledger": [{"kind": "stale", "severity": "必查", "text": "<i>1</i>", "message": "m",
                                    "source": src}],
                        "citations": [], "notes": []})
    assert "<script>" not in html and "&lt;script&gt;" in html and "<b>x</b>" not in html


def test_basis_mark_is_kept_and_the_pair_is_not_asked_again(ctx: AppContext) -> None:
    tab = DraftTab(ctx)
    state = _draft(tab)[5]
    marks = BasisMarks(ctx)
    choices = marks.choices(state)
    key = choices["value"]
    assert key and "3300套" in choices["choices"][0][0]
    status, reason = marks.mark(key, "汇报口径含在建项目", state)
    assert "口径不同" in status and reason == ""
    assert ctx.history().basis_marks("本机用户") == {key: "汇报口径含在建项目"}
    again = _draft(DraftTab(ctx))
    assert [f["kind"] for f in again[5]["corpus"]["ledger"]] == ["base", "base"]  # suggestions stay
    assert "与已发文件不一致" not in again[3]
    import gradio as gr

    with pytest.raises(gr.Error, match="口径为什么不同"):
        marks.mark(key, " ", state)
    with pytest.raises(gr.Error, match="请先在下拉框"):
        marks.mark("", "理由", state)


def test_chart_handler_draws_the_series_with_sources(ctx: AppContext) -> None:
    chart = LedgerChart(ctx)
    frame, table, _issuer = chart.show("棚改", None)
    assert list(frame["期间"]) == ["2023年上半年", "2024年上半年"] and list(frame["数值"]) == [2845, 3200]
    assert set(frame["指标"]) == {"棚改·上半年（套）"}
    assert "3200套" in table and "2845套" in table and "《市住建局2023年上半年工作总结》" in table
    frame, table, _ = chart.show("高速公路通车里程", None)
    assert frame.empty and "没有“高速公路通车里程”" in table


# ---- real Chromium -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def served(bureau: Settings) -> Iterator[Any]:
    pytest.importorskip("playwright.sync_api")
    from tests.test_ui_browser import CHROMIUM, serve

    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed (.ci/run installs it)")
    app = serve(bureau)
    yield app
    app.close()


@pytest.mark.slow
def test_browser_chart_and_checks_panel(served: Any, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    from tests.test_ui_browser import CHROMIUM, WAIT, box, generate, open_app, shot, text_of, wait_text

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=["--disable-background-networking", "--no-first-run"])
        page = browser.new_context(locale="zh-CN", viewport={"width": 1440, "height": 1000}).new_page()
        page.set_default_timeout(WAIT)
        try:
            open_app(page, served.url)
            generate(page, "（一）住房保障", BULLETS)
            wait_text(page, "draft-checks", "与已发文件不一致")
            assert "《市住建局2024年上半年工作总结》" in text_of(page, "draft-checks")
            page.locator("#corpus-findings details summary").first.click()
            wait_text(page, "draft-checks", "上半年完成棚户区改造3200套")
            shot(page, "ledger-01-checks")
            page.click("#tab-corpus-button")
            page.click("#ledger-acc button, #ledger-acc .label-wrap")
            box(page, "ledger-indicator").fill("棚改")
            page.click("#ledger-show")
            wait_text(page, "ledger-table", "3200套")
            assert "2845套" in text_of(page, "ledger-table")
            page.wait_for_selector("#ledger-chart svg, #ledger-chart canvas")
            page.wait_for_timeout(1500)
            shot(page, "ledger-02-chart")
        finally:
            browser.close()


def test_the_panel_verdict_never_says_passed_above_a_blocking_corpus_finding() -> None:
    from drafting.ui.ledger_view import with_corpus
    from drafting.ui.render import OK_VERDICT

    finding = {"kind": "inconsistent", "text": "3300套", "message": "不一致", "severity": "必查",
               "source": {"title": "t", "label": "l", "issuer": "i", "passage": "p", "doc_id": "d",
                          "heading": "h"}}
    html = with_corpus(f'<div class="checks">{OK_VERDICT}</div>',
                       {"ledger": [finding], "citations": [], "notes": []})
    assert "检查通过" not in html and "需要复核" in html
    assert OK_VERDICT in with_corpus(f'<div class="checks">{OK_VERDICT}</div>',
                                     {"ledger": [], "citations": [], "notes": []})

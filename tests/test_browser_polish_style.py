"""润色 suggestion cards and 文风 notes in a real headless Chromium (the harness of test_ui_browser.py).

Screenshots: test-artifacts/ui/09-polish-context.png, 10-style-notes.png.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.test_ui_browser import (  # noqa: F401 (fixtures)
    Served,
    app,
    box,
    browser,
    open_app,
    page,
    seeded_store,
    shot,
    stub,
)

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::DeprecationWarning"),
              pytest.mark.filterwarnings("ignore:.*(no_silent_downcasting|copy keyword).*")]


def test_identical_suggestions_show_their_own_surroundings(app: Served, page: Any) -> None:  # noqa: F811
    open_app(page, app.url)
    page.click("#tab-polish-button")
    text = "今年完成老旧小区改造120个，老百姓很满意。\n加装电梯36部，解决了老百姓上下楼难题，比去年多了不少。"
    box(page, "polish-text").fill(text)
    page.click("#polish-run")
    page.wait_for_selector("#polish-cards .ctx")
    cards = page.locator("#polish-cards .sugg", has=page.locator("del", has_text="老百姓"))
    assert cards.count() == 2
    first, second = (cards.nth(i).locator(".ctx").inner_text() for i in range(2))
    assert "改造120个，老百姓很满意" in first and "第1段" in first
    assert "解决了老百姓上下楼难题" in second and "第2段" in second
    assert cards.nth(0).locator("mark.ctx-hit").inner_text() == "老百姓"
    labels = page.locator("#polish-accept label", has_text="群众")
    assert labels.count() == 2 and labels.nth(0).inner_text() != labels.nth(1).inner_text()
    labels.nth(1).click()
    page.wait_for_function(
        "() => document.querySelector('#polish-result textarea').value.includes('解决了群众上下楼难题')"
    )
    assert "老百姓很满意" in box(page, "polish-result").input_value()
    shot(page, "09-polish-context")


def test_a_long_style_note_wraps_beside_its_bullet(browser: Any) -> None:  # noqa: F811
    """The 文风 notes are long sentences; each must wrap beside its「·」, not leave it alone on a line."""
    from drafting.guard import check_figures
    from drafting.style_profile import build_profile
    from drafting.style_score import conformance
    from drafting.ui.render import checks_html
    from drafting.ui.theme import CSS

    bare = "（二）项目建设\n推进项目建设\n加强安全管理\n提升服务水平\n完成老旧小区改造120个"
    conf = conformance(bare, build_profile([]))
    assert len(conf.notes) >= 2 and max(len(n) for n in conf.notes) > 60
    panel = checks_html(bare, check_figures(bare, bare), conformance=conf)
    html = f'<style>{CSS}</style><div style="width:420px">{panel}</div>'
    context = browser.new_context(locale="zh-CN", viewport={"width": 800, "height": 1000})
    try:
        pg = context.new_page()
        pg.set_content(html)
        items = pg.locator(".checks h4:has-text('文风符合度') ~ ul li.warn")
        assert items.count() == len(conf.notes)
        for i in range(items.count()):
            icon = items.nth(i).locator(".icon").bounding_box()
            main = items.nth(i).locator(".main").bounding_box()
            # same first line
            assert abs(icon["y"] - main["y"]) < icon["height"] / 2, (conf.notes[i], icon, main)
            assert main["height"] > icon["height"] * 1.5 or len(conf.notes[i]) < 25  # the long ones wrap
        shot(pg, "10-style-notes")
    finally:
        context.close()

"""The 润色 tab's suggestion cards in a real headless Chromium (the harness of test_ui_browser.py).

Screenshot: test-artifacts/ui/09-polish-context.png.
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

"""The sandbox's pages in a real browser: the index's dots (green only for a waybill WeChat has a
trace of) and the page of what WeChat received, in both languages. Screenshots go to
``test-artifacts/``."""

from __future__ import annotations

import pytest

from tests.admin.test_browser import ARTIFACTS, browser  # noqa: F401

from .conftest import WeChatCaller

pytestmark = pytest.mark.browser

GREEN, GREY = "rgb(7, 193, 96)", "rgb(204, 204, 204)"


def dot(page, selector: str) -> str:
    return page.evaluate(
        f"getComputedStyle(document.querySelector({selector!r}), '::before').backgroundColor"
    )


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_index_and_what_wechat_received(browser, wechat_sandbox, wechat: WeChatCaller, lang):  # noqa: F811
    wechat_sandbox.register_waybill("SF-EMPTY", "T0")  # first in the list, and nothing pushed
    wechat_sandbox.register_waybill("SF-TRACED", "T1")
    assert wechat.update_path(waybill_id="SF-TRACED", token="T1")["errcode"] == 0
    assert wechat.update_path(waybill_id="SF-NOBODY", token="T1")["errcode"] == 40199
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    try:
        page.goto(f"{wechat_sandbox.url}/__sandbox__/?lang={lang}")
        assert dot(page, "ol.waybills li:nth-child(1)") == GREY
        assert dot(page, "ol.waybills li:nth-child(2)") == GREEN

        page.click('a[href^="/__sandbox__/received"]')
        page.locator("ol li").first.wait_for()
        assert dot(page, "main ol li:nth-child(1)") != GREEN  # 40199, the latest
        assert dot(page, "main ol li:nth-child(2)") == GREEN
        page.locator("main ol li:nth-child(1) details summary").nth(1).click()  # WeChat's answer
        assert "40199" in page.locator("main ol li:nth-child(1) details").nth(1).inner_text()
        assert page.evaluate("document.documentElement.scrollWidth") <= 1400
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"sandbox-received-{lang}.png"), full_page=True)
    finally:
        context.close()

"""The trace event list in a real browser at 1,400 px, beside the admin's two sidebars, in English
and Chinese: every column in view, none scrolled out sideways. Screenshots go to ``test-artifacts/``."""

from __future__ import annotations

import os

import pytest
from django.test import override_settings

from tests.admin.test_browser import ARTIFACTS, a_waybill_on_its_way, browser, log_in  # noqa: F401

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(("locale", "language"), [("en-US", "en"), ("zh-CN", "zh-hans")])
def test_the_trace_event_list_fits_1400_px(browser, live_server, wechat_sandbox, locale, language):  # noqa: F811
    a_waybill_on_its_way(wechat_sandbox)  # sent, pending and failed events, one with its errcode
    context = browser.new_context(locale=locale, viewport={"width": 1400, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        with override_settings(LANGUAGE_CODE=language):
            log_in(page, live_server)
            page.goto(f"{live_server.url}/admin/django_wxlogistics/traceevent/")
            page.locator("#result_list").wait_for()
            assert (
                page.locator("#nav-sidebar").is_visible() and page.locator("#changelist-filter").is_visible()
            )
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / f"admin-trace-events-{language}-1400.png"), full_page=True)
            results = page.evaluate(
                "(() => { const r = document.querySelector('#changelist .results');"
                " return [r.scrollWidth, r.clientWidth]; })()"
            )
            assert results[0] <= results[1], f"the list is {results[0]} px wide in {results[1]} px"
            assert page.evaluate("document.documentElement.scrollWidth") <= 1400
            sent = page.locator("#result_list td.field-sent_at").first.bounding_box()
            listing = page.locator("#changelist .results").bounding_box()
            assert sent and listing and sent["x"] + sent["width"] <= listing["x"] + listing["width"]
    finally:
        context.close()

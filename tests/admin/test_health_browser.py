"""The delivery health dashboard in a real browser, in English and Chinese: it sits above the
waybill list and fits the page, wide and narrow. Screenshots go to ``test-artifacts/``."""

from __future__ import annotations

import os

import pytest
from django.test import override_settings

from tests.admin.test_browser import ARTIFACTS, a_waybill_on_its_way, browser, log_in, shot  # noqa: F401

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(("locale", "language"), [("en-US", "en"), ("zh-CN", "zh-hans")])
@pytest.mark.parametrize("width", [1440, 1024])
def test_the_dashboard_fits_above_the_list(browser, live_server, wechat_sandbox, locale, language, width):  # noqa: F811
    a_waybill_on_its_way(wechat_sandbox)
    context = browser.new_context(locale=locale, viewport={"width": width, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        with override_settings(LANGUAGE_CODE=language):
            log_in(page, live_server)
            page.goto(f"{live_server.url}/admin/django_wxlogistics/waybill/")
            dashboard = page.locator(".wxl-dashboard")
            dashboard.wait_for()
            text = dashboard.inner_text()
            assert ("Failed" if language == "en" else "推送失败") in text
            box, listing = dashboard.bounding_box(), page.locator("#changelist").bounding_box()
            assert box and listing
            assert box["y"] + box["height"] <= listing["y"]  # above the list, not over it
            # Nothing sticks out of the page sideways.
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            for figure in page.locator(".wxl-figure").all():
                figure_box = figure.bounding_box()
                assert figure_box and figure_box["x"] + figure_box["width"] <= width
            if width == 1440:  # the documentation's (docs/operations.md)
                shot(page, f"health-dashboard-{language}-{width}")
            else:
                ARTIFACTS.mkdir(exist_ok=True)
                page.screenshot(
                    path=str(ARTIFACTS / f"admin-health-dashboard-{language}-{width}.png"), full_page=True
                )
    finally:
        context.close()

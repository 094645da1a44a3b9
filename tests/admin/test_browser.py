"""Staff in a real browser: log in, open a waybill, read its trace, reveal its contacts, retry.

Drives Debian's Chromium (``/usr/bin/chromium``, installed by ``make test``) through
Playwright against pytest-django's live server, which talks to the sandbox over real HTTP.
Screenshots go to ``test-artifacts/``. The documentation's come from here: with
``WXL_UPDATE_SCREENSHOTS=1`` they are written to ``docs/_static/screenshots/`` as well.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission, User
from django.utils import timezone

from django_wxlogistics.enums import ActionType, EventState
from django_wxlogistics.models import ContactAccess, TraceEvent, Waybill
from tests.factories import TraceEventFactory, WaybillFactory

# The live server and Playwright's sync API share the test thread with Django's ORM.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
#: Where docs/admin.md finds its screenshots; written only when asked, so a test run never
#: changes the documentation by surprise.
DOC_SCREENSHOTS = ROOT / "docs" / "_static" / "screenshots"
UPDATE_SCREENSHOTS = os.environ.get("WXL_UPDATE_SCREENSHOTS", "").lower() in ("1", "true", "yes")
SENDER = {
    "name": "张三",
    "mobile": "18666666666",
    "tel": "020-88888888",
    "address": "广东省广州市海珠区新港中路 397 号",
}
RECEIVER = {
    "name": "王小萌",
    "mobile": "18610000000",
    "tel": "",
    "address": "广东省广州市天河区天河路 385 号 12 楼",
}


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} is missing: run 'make test' (it installs Debian's chromium), "
            "or apt-get install chromium"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(locale="en-US", viewport={"width": 1440, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"admin-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    if UPDATE_SCREENSHOTS:
        DOC_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOC_SCREENSHOTS / path.name)


def log_in(page, live_server) -> None:
    user = User.objects.create_user("supervisor", password="correct horse", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="django_wxlogistics",
            codename__in=[
                "view_waybill",
                "change_waybill",
                "view_traceevent",
                "change_traceevent",  # the Retry button
                "view_contact",
            ],
        )
    )
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "supervisor")
    page.fill("#id_password", "correct horse")
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")


def a_waybill_on_its_way(sandbox) -> Waybill:
    now = timezone.now()
    waybill = WaybillFactory(
        waybill_id="SF1400027834961", order_id="SO20261123001", latest_action_type=ActionType.IN_TRANSIT
    )
    sandbox.register_waybill(waybill.waybill_id, waybill.token, sender=SENDER, receiver=RECEIVER)
    for hours, action_type, message, state in [
        (5, ActionType.PICKED_UP, "顺丰速运已揽收您的包裹", EventState.SENT),
        (3, ActionType.IN_TRANSIT, "包裹已到达广州转运中心", EventState.SENT),
        (1, ActionType.OUT_FOR_DELIVERY, "快递员 邓丽君 [18666666666] 正在派送您的包裹", EventState.FAILED),
    ]:
        failed = state == EventState.FAILED
        TraceEventFactory(
            waybill=waybill,
            action_type=action_type,
            action_msg=message,
            action_time=now - timedelta(hours=hours),
            state=state,
            attempts=10 if failed else 1,
            sent_at=None if failed else now - timedelta(hours=hours) + timedelta(seconds=2),
            last_errcode=-1 if failed else None,
            last_errmsg="system error" if failed else "",
        )
    for n in range(4):
        other = WaybillFactory(latest_action_type=ActionType.PICKED_UP)
        TraceEventFactory(waybill=other, state=EventState.SENT, sent_at=now)
        if n % 2:
            TraceEventFactory(waybill=other, action_type=ActionType.IN_TRANSIT)
    return waybill


def test_staff_read_the_trace_reveal_contacts_and_retry(page, live_server, wechat_sandbox):
    waybill = a_waybill_on_its_way(wechat_sandbox)
    log_in(page, live_server)

    page.goto(f"{live_server.url}/admin/django_wxlogistics/waybill/")
    row = page.locator("#result_list tr", has_text=waybill.waybill_id)
    assert "1 failed" in row.inner_text()
    shot(page, "waybill-list")

    row.locator("a", has_text=waybill.waybill_id).click()
    timeline = page.locator("#wxl-timeline")
    timeline.wait_for()
    assert "Picked up" in timeline.inner_text()
    assert "In transit" in timeline.inner_text()
    assert "-1 · WeChat busy" in timeline.inner_text()

    panel = page.locator("#wxl-contact-panel")
    panel.locator(".wxl-contact-table").wait_for()
    assert "186****6666" in panel.inner_text()
    assert "18666666666" not in panel.inner_text()
    assert ContactAccess.objects.count() == 0
    shot(page, "waybill-masked")

    panel.get_by_role("button", name="Show unmasked").click()
    panel.locator(".wxl-revealed").wait_for()
    assert "18666666666" in panel.inner_text()
    assert "天河区天河路 385 号" in panel.inner_text()
    access = ContactAccess.objects.get()
    assert (access.waybill_id, access.username, access.channel) == (waybill.pk, "supervisor", "admin")
    shot(page, "waybill-revealed")

    failed = TraceEvent.objects.get(waybill=waybill, state=EventState.FAILED)
    page.locator(f'tr[data-event="{failed.pk}"] button.wxl-retry').click()
    page.locator(".messagelist").wait_for()
    assert "will be pushed again" in page.locator(".messagelist").inner_text()
    failed.refresh_from_db()
    assert (failed.state, failed.attempts) == (EventState.PENDING, 0)
    page.locator("#wxl-contact-panel .wxl-contact-table").wait_for()
    shot(page, "waybill-retried")


def test_panel_explains_a_wechat_error_and_the_page_still_works(page, live_server, wechat_sandbox):
    waybill = a_waybill_on_its_way(wechat_sandbox)
    wechat_sandbox.set_faults(error_rate=1.0, kinds=["errcode"], apis=["logistics.getContact"])
    log_in(page, live_server)
    page.goto(f"{live_server.url}/admin/django_wxlogistics/waybill/{waybill.pk}/change/")
    error = page.locator("#wxl-contact-panel .wxl-contact-error")
    error.wait_for()
    assert "WeChat is busy (-1)" in error.inner_text()
    assert "Out for delivery" in page.locator("#wxl-timeline").inner_text()
    shot(page, "waybill-wechat-busy")

    wechat_sandbox.clear_faults()
    page.get_by_role("button", name="Try again").click()
    page.locator("#wxl-contact-panel .wxl-contact-table").wait_for()
    assert "186****0000" in page.locator("#wxl-contact-panel").inner_text()


def test_panel_says_when_the_contact_rate_is_used_up(page, live_server, wechat_sandbox, settings):
    settings.WXLOGISTICS = {**settings.WXLOGISTICS, "CONTACT_RATE": "1/min"}
    waybill = a_waybill_on_its_way(wechat_sandbox)
    log_in(page, live_server)
    page.goto(f"{live_server.url}/admin/django_wxlogistics/waybill/{waybill.pk}/change/")
    panel = page.locator("#wxl-contact-panel")
    panel.locator(".wxl-contact-table").wait_for()  # the masked panel: this minute's one lookup

    panel.get_by_role("button", name="Show unmasked").click()
    error = panel.locator(".wxl-contact-error")
    error.wait_for()
    assert "Too many contact lookups (at most 1/min per user). Try again in" in error.inner_text()
    assert "18666666666" not in panel.inner_text()
    assert panel.get_by_role("button", name="Try again").is_visible()
    assert ContactAccess.objects.count() == 0
    assert len(wechat_sandbox.calls(api="logistics.getContact")) == 1

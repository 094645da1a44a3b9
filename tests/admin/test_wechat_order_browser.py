"""Staff in a real browser ask WeChat for its view of a payment: nothing is asked until the button
is clicked, the answer appears in the panel, an error appears as a message. Chromium through
Playwright, against the live server and the sandbox, as in test_browser.py."""

from __future__ import annotations

import os

import pytest
from django.contrib.auth.models import Permission, User

from django_wxlogistics import services
from django_wxlogistics.models import Payment
from tests.admin.test_browser import browser, page, shot  # noqa: F401  (the browser fixtures)
from tests.shipping.helpers import deliver, upload_fields

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OPENID = "oPayerBrowser00000000000042"


def log_in(tab, live_server) -> None:
    user = User.objects.create_user("shipper", password="correct horse", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="django_wxlogistics",
            codename__in=["view_payment", "view_shippinginfo", "change_shippinginfo"],
        )
    )
    tab.goto(f"{live_server.url}/admin/login/")
    tab.fill("#id_username", "shipper")
    tab.fill("#id_password", "correct horse")
    tab.click("input[type=submit]")
    tab.wait_for_selector("#site-name")


def test_staff_ask_wechat_for_its_view_of_a_shipped_payment(page, live_server, wechat_sandbox):  # noqa: F811
    paid = wechat_sandbox.create_payment(openid=OPENID, description="龙井茶 250g")
    parcel = {
        "tracking_no": "SF1400027834961",
        "express_company": "SF",
        "item_desc": "龙井茶 250g*1",
        "contact": {"receiver_contact": "189****1234"},
    }
    info = services.record_shipping_info("SO20261123001", **upload_fields(paid, shipping_list=[parcel]))
    deliver(info.pk)
    payment = Payment.objects.get()
    log_in(page, live_server)
    page.goto(f"{live_server.url}/admin/django_wxlogistics/payment/{payment.pk}/change/")
    calls = page.locator("#wxl-payment-calls")
    assert "Upload" in calls.inner_text() and "Sent" in calls.inner_text()
    assert wechat_sandbox.calls(api="get_order") == []

    panel = page.locator("#wxl-wechat-order-panel")
    panel.get_by_role("link", name="Ask WeChat").click()
    panel.locator(".wxl-wechat-order").wait_for()
    text = panel.inner_text()
    assert "Shipped" in text and "SF1400027834961" in text and "189****1234" in text
    assert "oPa****0042" in text and OPENID not in text
    assert page.url.endswith(f"/payment/{payment.pk}/change/")  # the panel, not a new page
    shot(page, "payment-wechat-order")

    wechat_sandbox.set_faults(error_rate=1.0, kinds=["errcode"], apis=["get_order"])
    panel.get_by_role("link", name="Ask again").click()
    panel.locator(".wxl-contact-error").wait_for()
    assert "WeChat is busy (-1)" in panel.inner_text()


def test_staff_find_a_carriers_code(page, live_server, wechat_sandbox):  # noqa: F811
    log_in(page, live_server)
    page.goto(f"{live_server.url}/admin/django_wxlogistics/shippinginfo/")
    page.get_by_role("link", name="Carriers").click()
    page.fill("#wxl-carrier-q", "顺丰")
    page.get_by_role("button", name="Search").click()
    rows = page.locator("table.wxl-carriers tbody tr")
    assert rows.count() == 1 and "SF" in rows.first.inner_text()
    shot(page, "carriers")

"""WeChat's view of a payment (get_order) and the carrier list in the admin, against the sandbox:
asked only on demand, masked, errors a person can act on, permissions, Chinese; and a payment's
shipping calls on its page, with retry."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse

from django_wxlogistics import services
from django_wxlogistics.enums import EventState, ShippingCall
from django_wxlogistics.models import Payment, ShippingInfo
from django_wxlogistics.throttling import WeChatLookupRateThrottle
from tests.shipping.helpers import deliver, upload_fields

pytestmark = pytest.mark.django_db

FRAGMENT = {"HTTP_X_REQUESTED_WITH": "XMLHttpRequest"}
OPENID = "oPayerAdmin0000000000000042"
CARRIERS = "admin:django_wxlogistics_shippinginfo_carriers"
SF_CONTACT = {"consignor_contact": "021-****1234", "receiver_contact": "189****1234"}


@pytest.fixture
def paid(wechat_sandbox) -> dict:
    """A payment the sandbox knows."""
    return wechat_sandbox.create_payment(openid=OPENID)


@pytest.fixture
def payment(paid) -> Payment:
    return Payment.objects.create(order_id="SO-ADMIN-1", transaction_id=paid["transaction_id"])


@pytest.fixture
def viewer(make_client) -> Client:
    """Staff who may see payments, and nothing of their calls."""
    return make_client("payments", "view_payment")


@pytest.fixture
def shipper(make_client) -> Client:
    """Staff who may see payments and their calls, and retry failed ones."""
    return make_client("shipper", "view_payment", "view_shippinginfo", "change_shippinginfo")


def order_url(payment: Payment) -> str:
    return reverse("admin:django_wxlogistics_payment_wechat_order", args=[payment.pk])


def change_url(payment: Payment) -> str:
    return reverse("admin:django_wxlogistics_payment_change", args=[payment.pk])


class Clock:
    """The throttle's clock (DRF's ``SimpleRateThrottle.timer``), moved by hand."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(WeChatLookupRateThrottle, "timer", clock)
    return clock


def get_order_calls(sandbox) -> int:
    return len(sandbox.calls(api="get_order"))


def test_the_payment_page_asks_wechat_nothing_until_the_button_is_clicked(viewer, payment, wechat_sandbox):
    html = viewer.get(change_url(payment)).content.decode()
    assert "WeChat&#x27;s view of this order" in html or "WeChat's view of this order" in html
    assert f'href="{order_url(payment)}" data-wxl-wechat-order' in html
    assert "wechat_order_panel.js" in html
    assert get_order_calls(wechat_sandbox) == 0


def test_the_panel_shows_the_state_moving_to_shipped_after_the_upload_is_sent(
    viewer, paid, payment, wechat_sandbox
):
    before = viewer.get(order_url(payment), **FRAGMENT)
    html = before.content.decode()
    assert before.status_code == 200 and "<html" not in html  # the panel alone
    assert "Awaiting shipment" in html and "order_state 1" in html
    assert paid["transaction_id"] in html
    assert "oPa****0042" in html and OPENID not in html
    parcel = {
        "tracking_no": "SF1234567890",
        "express_company": "SF",
        "item_desc": "茶叶*1",
        "contact": SF_CONTACT,
    }
    info = services.record_shipping_info(payment.order_id, **upload_fields(paid, shipping_list=[parcel]))
    deliver(info.pk)
    html = viewer.get(order_url(payment), **FRAGMENT).content.decode()
    assert "Shipped" in html and "order_state 2" in html
    assert "SF1234567890" in html and "茶叶*1" in html
    assert "189****1234" in html and "021-****1234" in html
    assert "Express delivery" in html and "all shipped" in html
    assert get_order_calls(wechat_sandbox) == 2


def test_without_script_the_answer_opens_on_a_page_of_its_own(viewer, payment):
    page = viewer.get(order_url(payment))
    html = page.content.decode()
    assert page.status_code == 200 and "<html" in html
    assert "Awaiting shipment" in html
    assert f'href="{change_url(payment)}"' in html  # the breadcrumbs lead back


@pytest.mark.parametrize(("state", "label"), [(6, "Funds awaiting settlement"), (7, "Unknown state 7")])
def test_a_state_wechat_has_not_documented_is_shown_as_it_came(
    viewer, paid, payment, wechat_sandbox, state, label
):
    wechat_sandbox.set_payment_state(paid["transaction_id"], state)
    html = viewer.get(order_url(payment), **FRAGMENT).content.decode()
    assert label in html and f"order_state {state}" in html


def test_a_payment_wechat_does_not_know_is_a_message_to_act_on_not_an_error_page(viewer, wechat_sandbox):
    unknown = wechat_sandbox.create_payment(unknown_for=3600)
    payment = Payment.objects.create(order_id="SO-ADMIN-2", transaction_id=unknown["transaction_id"])
    response = viewer.get(order_url(payment), **FRAGMENT)
    html = response.content.decode()
    assert response.status_code == 200
    assert "WeChat does not know this payment (10060001)" in html
    assert "errornote" in html and "Technical details" in html
    assert "access_token" not in html and django_settings.WXLOGISTICS["APPSECRET"] not in html


def test_wechat_busy_is_a_message_too(viewer, payment, wechat_sandbox):
    wechat_sandbox.set_faults(error_rate=1.0, kinds=["errcode"], apis=["get_order"])
    response = viewer.get(order_url(payment), **FRAGMENT)
    assert response.status_code == 200
    assert "WeChat is busy (-1). Try again in a moment." in response.content.decode()


def test_settings_that_cannot_reach_wechat_are_a_message_naming_the_setting(viewer, payment, settings):
    settings.WXLOGISTICS = {**settings.WXLOGISTICS, "APPSECRET": ""}
    response = viewer.get(order_url(payment), **FRAGMENT)
    assert response.status_code == 200
    assert "The WeChat logistics settings are incomplete: WXLOGISTICS[&#x27;APPSECRET&#x27;]" in (
        response.content.decode()
    )


def test_each_user_asks_wechat_at_most_contact_rate_times_admin_and_api_together(
    make_client, payment, wechat_sandbox, settings, clock
):
    settings.WXLOGISTICS = {**settings.WXLOGISTICS, "CONTACT_RATE": "3/min"}
    staff = make_client("shipper", "view_payment", "view_shippinginfo")
    assert [staff.get(order_url(payment), **FRAGMENT).status_code for _ in range(2)] == [200, 200]
    assert staff.get(f"/wxlogistics/api/payments/{payment.pk}/wechat-order/").status_code == 200
    refused = staff.get(order_url(payment), **FRAGMENT)
    assert (refused.status_code, refused["Retry-After"]) == (429, "60")
    assert "Too many lookups at WeChat (at most 3/min per user). Try again in 60 seconds." in (
        refused.content.decode()
    )
    assert get_order_calls(wechat_sandbox) == 3  # the refused one asked WeChat nothing
    kept = staff.get(reverse(CARRIERS))  # the list kept is no lookup
    assert kept.status_code == 200 and "<code>SF</code>" in kept.content.decode()
    refresh = staff.post(reverse(CARRIERS))
    assert refresh.status_code == 429 and "Too many lookups at WeChat" in refresh.content.decode()
    assert "<code>SF</code>" in refresh.content.decode()  # still shown, from the list kept
    assert len(wechat_sandbox.calls(api="get_delivery_list")) == 1
    assert make_client("other", "view_payment").get(order_url(payment), **FRAGMENT).status_code == 200
    clock.now += 60
    assert staff.get(order_url(payment), **FRAGMENT).status_code == 200


def test_the_panel_needs_the_view_payment_permission(make_client, payment, wechat_sandbox):
    other = make_client("waybills", "view_waybill", "view_shippinginfo")
    assert other.get(order_url(payment), **FRAGMENT).status_code == 403
    assert other.get(change_url(payment)).status_code == 403
    anonymous = Client().get(order_url(payment))
    assert anonymous.status_code == 302 and reverse("admin:login") in anonymous["Location"]
    assert get_order_calls(wechat_sandbox) == 0


def test_the_panel_takes_only_get(viewer, payment):
    assert viewer.post(order_url(payment)).status_code == 405


def test_the_panel_of_a_payment_that_does_not_exist_is_404(viewer, db):
    assert (
        viewer.get(reverse("admin:django_wxlogistics_payment_wechat_order", args=[999999])).status_code == 404
    )


def test_the_panel_in_chinese(viewer, payment):
    response = viewer.get(order_url(payment), HTTP_ACCEPT_LANGUAGE="zh-hans", **FRAGMENT)
    html = response.content.decode()
    assert "待发货" in html and "Awaiting shipment" not in html
    page = viewer.get(change_url(payment), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "微信眼中的这笔订单" in page and "询问微信" in page


# --- the payment's calls on its page -----------------------------------------------------------


def _call(payment: Payment, **fields) -> ShippingInfo:
    return ShippingInfo.objects.create(
        payment=payment,
        order_id=payment.order_id,
        call=ShippingCall.UPLOAD,
        request={"payer": {"openid": OPENID}},
        **fields,
    )


def test_the_payments_calls_are_listed_with_state_and_wechats_answer(shipper, payment):
    failed = _call(
        payment, state=EventState.FAILED, attempts=1, last_errcode=10060031, last_errmsg="openid mismatch"
    )
    html = shipper.get(change_url(payment)).content.decode()
    assert 'id="wxl-payment-calls"' in html
    assert "wxl-state-failed" in html and "10060031" in html and "openid mismatch" in html
    assert reverse("admin:django_wxlogistics_payment_retry_call", args=[payment.pk, failed.pk]) in html
    assert OPENID not in html


def test_a_failed_call_is_retried_from_the_payments_page(shipper, payment):
    failed = _call(payment, state=EventState.FAILED, attempts=10, last_errcode=10060031)
    retry = reverse("admin:django_wxlogistics_payment_retry_call", args=[payment.pk, failed.pk])
    response = shipper.post(retry, follow=True)
    assert "will be sent to WeChat again" in response.content.decode()
    failed.refresh_from_db()
    assert (failed.state, failed.attempts) == (EventState.PENDING, 0)
    response = shipper.post(retry, follow=True)
    assert "cannot be retried" in response.content.decode()
    assert shipper.get(retry).status_code == 405


def test_the_calls_need_their_own_permissions(viewer, make_client, payment):
    failed = _call(payment, state=EventState.FAILED, last_errcode=10060031)
    html = viewer.get(change_url(payment)).content.decode()
    assert 'id="wxl-payment-calls"' not in html and "10060031" not in html
    reader = make_client("reader", "view_payment", "view_shippinginfo")
    html = reader.get(change_url(payment)).content.decode()
    assert "10060031" in html and "wxl-retry" not in html
    retry = reverse("admin:django_wxlogistics_payment_retry_call", args=[payment.pk, failed.pk])
    assert reader.post(retry).status_code == 403
    failed.refresh_from_db()
    assert failed.state == EventState.FAILED


# --- the carriers -------------------------------------------------------------------------------


def test_the_carriers_page_lists_codes_and_names_and_how_to_use_them(shipper, wechat_sandbox):
    assert (
        reverse(CARRIERS)
        in shipper.get(reverse("admin:django_wxlogistics_shippinginfo_changelist")).content.decode()
    )
    html = shipper.get(reverse(CARRIERS)).content.decode()
    assert "<code>SF</code>" in html and "顺丰速运" in html
    assert "express_company" in html and "delivery_id" in html
    found = shipper.get(reverse(CARRIERS), {"q": "中通"}).content.decode()
    assert "<code>ZTO</code>" in found and "<code>SF</code>" not in found


def test_refresh_asks_wechat_again(shipper, wechat_sandbox):
    shipper.get(reverse(CARRIERS))
    wechat_sandbox.add_carrier("BDT", "八达通")
    assert "八达通" not in shipper.get(reverse(CARRIERS)).content.decode()  # kept for hours
    response = shipper.post(reverse(CARRIERS), follow=True)
    html = response.content.decode()
    assert response.redirect_chain[-1][0] == reverse(CARRIERS)
    assert (
        "WeChat&#x27;s carrier list was fetched again" in html
        or "WeChat's carrier list was fetched again" in html
    )
    assert "八达通" in html
    assert len(wechat_sandbox.calls(api="get_delivery_list")) == 2


def test_a_carrier_list_wechat_does_not_give_is_a_message(shipper, wechat_sandbox):
    wechat_sandbox.set_faults(error_rate=1.0, kinds=["errcode"], apis=["get_delivery_list"])
    response = shipper.get(reverse(CARRIERS))
    assert response.status_code == 200
    assert "WeChat is busy (-1). Try again in a moment." in response.content.decode()
    response = shipper.post(reverse(CARRIERS))
    assert response.status_code == 200 and "WeChat is busy (-1)" in response.content.decode()


def test_the_carriers_page_needs_the_shipping_information_permission(viewer, wechat_sandbox):
    assert viewer.get(reverse(CARRIERS)).status_code == 403
    assert viewer.post(reverse(CARRIERS)).status_code == 403
    anonymous = Client().get(reverse(CARRIERS))
    assert anonymous.status_code == 302 and reverse("admin:login") in anonymous["Location"]
    assert wechat_sandbox.calls(api="get_delivery_list") == []


def test_the_carriers_page_in_chinese(shipper, wechat_sandbox):
    html = shipper.get(reverse(CARRIERS), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "承运商" in html and "从微信刷新" in html and "<code>SF</code>" in html

"""What WeChat says of a payment (get_order) and the carriers it knows, on demand over the API,
against the sandbox: the order's state as the calls arrive, masked openid, WeChat's errors as
answers a person can act on, permissions and the rate limit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from django_wxlogistics import delivery, services
from django_wxlogistics.models import Payment
from django_wxlogistics.sandbox.control import SandboxControl
from django_wxlogistics.throttling import WeChatLookupRateThrottle
from tests.api.conftest import ThrottleClock
from tests.shipping.helpers import deliver, upload_fields

PAYMENTS = "/wxlogistics/api/payments/"
CARRIERS = "/wxlogistics/api/carriers/"


def order_url(payment: Payment) -> str:
    return f"{PAYMENTS}{payment.pk}/wechat-order/"


@pytest.fixture
def clerk(client_for: Callable[..., APIClient]) -> APIClient:
    return client_for("view_payment", "view_shippinginfo")


@pytest.fixture
def known(sandbox: SandboxControl, payment: dict[str, Any]) -> Payment:
    """The sandbox's payment, as the shop keeps it."""
    return Payment.objects.create(order_id="SO-API-1", transaction_id=payment["transaction_id"])


@pytest.fixture
def clock(stop_throttle_clock: Callable[[type], ThrottleClock]) -> ThrottleClock:
    return stop_throttle_clock(WeChatLookupRateThrottle)


def test_the_order_state_moves_to_shipped_once_the_upload_is_sent(clerk, sandbox, payment, order):
    info = services.record_shipping_info(order, **upload_fields(payment))
    before = clerk.get(order_url(info.payment))
    assert before.status_code == 200, before.content
    assert (before.json()["order_state"], before.json()["order_state_label"]) == (1, "Awaiting shipment")
    assert before.json()["shipping"] == []

    assert deliver(info.pk) is delivery.Outcome.SENT
    after = clerk.get(order_url(info.payment))
    assert after.status_code == 200, after.content
    shown = after.json()
    assert (shown["order_state"], shown["order_state_label"], shown["order_state_known"]) == (
        2,
        "Shipped",
        True,
    )
    assert shown["transaction_id"] == payment["transaction_id"]
    assert shown["paid_amount"] == payment["amount"]
    assert (shown["logistics_type"], shown["delivery_mode"], shown["finish_shipping"]) == (1, 1, True)
    (parcel,) = shown["shipping"]
    assert (parcel["tracking_no"], parcel["express_company"]) == ("ZT1234567890", "ZTO")
    assert after["Cache-Control"] == "no-store, private"
    assert len(sandbox.payment_calls(payment["transaction_id"], api="get_order")) == 2


def test_the_payers_openid_is_masked(clerk, sandbox, payment, known):
    response = clerk.get(order_url(known))
    assert response.status_code == 200, response.content
    openid = payment["openid"]
    assert openid not in response.content.decode()
    masked = response.json()["openid_masked"]
    assert masked == f"{openid[:3]}****{openid[-4:]}"


def test_the_state_is_in_the_requests_language(clerk, sandbox, known):
    response = clerk.get(order_url(known), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.json()["order_state_label"] == "待发货"


def test_a_payment_wechat_does_not_know_yet_is_404_with_its_errcode(clerk, sandbox):
    unknown = sandbox.create_payment(unknown_for=3600)
    payment = Payment.objects.create(order_id="SO-API-2", transaction_id=unknown["transaction_id"])
    response = clerk.get(order_url(payment))
    assert response.status_code == 404
    body = response.json()
    assert body["errcode"] == 10060001
    assert body["detail"].startswith("WeChat does not know this payment (10060001). Right after a payment")
    assert "10060001" in body["errmsg"]


def test_wechat_failing_is_502_saying_what_to_do(clerk, sandbox, known):
    sandbox.set_faults(error_rate=1.0, kinds=["errcode"], apis=["get_order"])
    response = clerk.get(order_url(known))
    assert response.status_code == 502
    assert response.json()["detail"] == "WeChat is busy (-1). Try again in a moment."
    assert response.json()["errcode"] == -1


def test_incomplete_settings_are_503_naming_the_setting(clerk, sandbox, known, settings):
    settings.WXLOGISTICS = {**settings.WXLOGISTICS, "APPSECRET": ""}
    response = clerk.get(order_url(known))
    assert response.status_code == 503, response.content
    assert "WXLOGISTICS['APPSECRET']" in response.json()["detail"]
    assert sandbox.calls(api="get_order") == []


def test_an_unknown_payment_is_404_and_wechat_is_not_asked(clerk, sandbox):
    response = clerk.get(f"{PAYMENTS}999999/wechat-order/")
    assert (response.status_code, response.json()) == (404, {"detail": "No Payment matches the given query."})
    assert sandbox.calls(api="get_order") == []


def test_asking_needs_view_payment(client_for, sandbox, known):
    assert client_for().get(order_url(known)).status_code == 403
    assert client_for("view_shippinginfo").get(order_url(known)).status_code == 403
    assert sandbox.calls(api="get_order") == []
    assert client_for("view_payment").get(order_url(known)).status_code == 200


def test_each_user_asks_at_most_contact_rate_times(clerk, client_for, sandbox, known, settings, clock):
    settings.WXLOGISTICS = {**settings.WXLOGISTICS, "CONTACT_RATE": "2/min"}
    assert [clerk.get(order_url(known)).status_code for _ in range(2)] == [200, 200]
    refused = clerk.get(order_url(known))
    assert refused.status_code == 429
    assert refused["Retry-After"] == "60"
    assert refused.json() == {
        "detail": "Too many lookups at WeChat (at most 2/min per user). Try again in 60 seconds.",
        "errcode": None,
    }
    assert clerk.get(CARRIERS, {"refresh": "1"}).status_code == 429  # the same counter
    assert len(sandbox.calls(api="get_order")) == 2  # the refused ones asked WeChat nothing
    assert client_for("view_payment").get(order_url(known)).status_code == 200  # another user
    clock.now += 60
    assert clerk.get(order_url(known)).status_code == 200


def test_the_carriers_are_kept_until_refreshed(clerk, sandbox):
    first = clerk.get(CARRIERS)
    assert first.status_code == 200, first.content
    body = first.json()
    assert body["count"] == len(body["results"]) == len(sandbox.carriers())
    assert {"delivery_id": "SF", "delivery_name": "顺丰速运"} in body["results"]
    sandbox.add_carrier("BDT", "八达通")
    assert "BDT" not in {c["delivery_id"] for c in clerk.get(CARRIERS).json()["results"]}
    refreshed = clerk.get(CARRIERS, {"refresh": "1", "page_size": "500"})
    assert refreshed.status_code == 200, refreshed.content
    assert {"delivery_id": "BDT", "delivery_name": "八达通"} in refreshed.json()["results"]
    assert len(sandbox.calls(api="get_delivery_list")) == 2


def test_the_carriers_come_a_page_at_a_time(clerk, sandbox):
    page = clerk.get(CARRIERS, {"page_size": "2", "page": "2"}).json()
    assert page["count"] == len(sandbox.carriers())
    assert len(page["results"]) == 2
    assert page["previous"] is not None


@pytest.mark.parametrize(
    ("query", "errors"),
    [
        (
            {"refresh": "yes"},
            {"refresh": ["Give 1 to ask WeChat now, or 0 (the default) for the list kept."]},
        ),
        ({"page_size": "0"}, {"page_size": ["Give a whole number above 0."]}),
    ],
)
def test_bad_parameters_are_400(clerk, sandbox, query, errors):
    response = clerk.get(CARRIERS, query)
    assert (response.status_code, response.json()) == (400, errors)
    assert sandbox.calls(api="get_delivery_list") == []


def test_the_carriers_need_view_shippinginfo(client_for, sandbox):
    assert client_for().get(CARRIERS).status_code == 403
    assert client_for("view_payment").get(CARRIERS).status_code == 403
    assert client_for("view_shippinginfo").get(CARRIERS).status_code == 200


def test_wechat_failing_to_list_carriers_is_502(clerk, sandbox):
    sandbox.set_faults(error_rate=1.0, kinds=["http502"], apis=["get_delivery_list"])
    response = clerk.get(CARRIERS, {"refresh": "1"})
    assert response.status_code == 502
    assert response.json()["errcode"] is None
    assert response.json()["detail"].startswith("WeChat")

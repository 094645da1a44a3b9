"""The merchant's payments and their shipping information over the API, against the sandbox: state
and WeChat's answer, filters, retry of failed calls, permissions, and never the payer's openid."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from django_wxlogistics import delivery, services
from django_wxlogistics.enums import EventState, ShippingCall
from django_wxlogistics.models import Payment, ShippingInfo
from tests.factories import OrderFactory
from tests.shipping.helpers import deliver, upload_fields

PAYMENTS = "/wxlogistics/api/payments/"
SHIPPING = "/wxlogistics/api/shipping-info/"
SHIPPED = 2
NOT_A_CHOICE = "is not one of the available choices."
PERMS = ("view_payment", "view_shippinginfo", "change_shippinginfo")


@pytest.fixture
def clerk(client_for: Callable[..., APIClient]) -> APIClient:
    return client_for(*PERMS)


def _wrong_payer(payment: dict[str, Any], order: Any) -> ShippingInfo:
    """An upload WeChat refuses for good (10060031): failed after one attempt."""
    info = services.record_shipping_info(order, **upload_fields(payment, payer={"openid": "oSomeoneElse"}))
    assert deliver(info.pk) is delivery.Outcome.FAILED
    info.refresh_from_db()
    return info


def test_a_payment_shows_its_calls_and_what_wechat_answered(clerk, sandbox, payment, order):
    failed = _wrong_payer(payment, order)
    sent = services.record_shipping_info(order, **upload_fields(payment))
    assert deliver(sent.pk) is delivery.Outcome.SENT
    confirm = services.confirm_receipt(order)  # pending: WeChat has not been told yet

    listing = clerk.get(PAYMENTS, {"order_id": sent.order_id})
    assert listing.status_code == 200, listing.content
    assert listing.json()["count"] == 1
    shown = listing.json()["results"][0]
    assert clerk.get(f"{PAYMENTS}{shown['id']}/").json() == shown
    assert shown["key"] == shown["transaction_id"] == payment["transaction_id"]
    assert (shown["mchid"], shown["out_trade_no"]) == ("", "")
    assert (shown["order_id"], shown["latest_call"]) == (sent.order_id, "upload")
    calls = [(c["id"], c["call"], c["state"], c["last_errcode"]) for c in shown["shipping_info"]]
    assert calls == [
        (failed.pk, "upload", "failed", 10060031),
        (sent.pk, "upload", "sent", None),
        (confirm.pk, "confirm_receipt", "pending", None),
    ]
    assert "10060031" in shown["shipping_info"][0]["last_errmsg"]
    assert shown["shipping_info"][1]["sent_at"] is not None
    assert shown["shipping_info"][2]["call_label"] == "Receipt confirmation"


def test_shipping_information_newest_first_with_state_and_wechats_answer(clerk, sandbox, payment, order):
    failed = _wrong_payer(payment, order)
    sent = services.record_shipping_info(order, **upload_fields(payment))
    assert deliver(sent.pk) is delivery.Outcome.SENT
    response = clerk.get(SHIPPING)
    assert response.status_code == 200, response.content
    body = response.json()
    assert [item["id"] for item in body["results"]] == [sent.pk, failed.pk]
    item = body["results"][1]
    assert item["payment"] == failed.payment_id
    assert item["payment_key"] == payment["transaction_id"]
    assert (item["order_id"], item["call"], item["call_label"]) == (failed.order_id, "upload", "Upload")
    assert (item["state"], item["attempts"], item["last_errcode"]) == ("failed", 1, 10060031)
    assert item["last_errmsg"] == failed.last_errmsg != ""
    assert set(item) == {
        "id",
        "order_id",
        "payment",
        "payment_key",
        "call",
        "call_label",
        "state",
        "attempts",
        "next_attempt_at",
        "last_errcode",
        "last_errmsg",
        "sent_at",
        "created_at",
    }
    assert clerk.get(f"{SHIPPING}{failed.pk}/").json() == item


def test_the_filters(clerk, sandbox, payment, order):
    failed = _wrong_payer(payment, order)
    sent = services.record_shipping_info(order, **upload_fields(payment))
    assert deliver(sent.pk) is delivery.Outcome.SENT
    other_payment = sandbox.create_payment()
    other_order = OrderFactory(status=order.status)
    other = services.record_shipping_info(other_order, **upload_fields(other_payment))

    def ids(**query: Any) -> list[int]:
        response = clerk.get(SHIPPING, query)
        assert response.status_code == 200, response.content
        return [item["id"] for item in response.json()["results"]]

    assert ids(state="failed") == [failed.pk]
    assert ids(state="pending") == [other.pk]
    assert ids(order_id=other.order_id) == [other.pk]
    assert ids(payment=sent.payment_id) == [sent.pk, failed.pk]
    assert ids(payment=sent.payment_id, state="sent", call="upload") == [sent.pk]
    assert ids(call="confirm_receipt") == []
    assert ids(ordering="id") == [failed.pk, sent.pk, other.pk]
    payments = clerk.get(PAYMENTS, {"order_id": other.order_id}).json()["results"]
    assert [p["id"] for p in payments] == [other.payment_id]
    newest_first = [p["id"] for p in clerk.get(PAYMENTS).json()["results"]]
    assert newest_first == [other.payment_id, sent.payment_id]


@pytest.mark.parametrize(
    ("url", "query", "errors"),
    [
        (SHIPPING, {"state": "lost"}, {"state": [f"Select a valid choice. lost {NOT_A_CHOICE}"]}),
        (SHIPPING, {"call": ""}, {"call": ["Give one of the listed values, or leave the parameter out."]}),
        (SHIPPING, {"payment": "abc"}, {"payment": ["Enter a whole number."]}),
        (SHIPPING, {"payment": "0"}, {"payment": ["Ensure this value is greater than or equal to 1."]}),
        (SHIPPING, {"page_size": "x"}, {"page_size": ["Give a whole number above 0."]}),
        (PAYMENTS, {"page": "-1"}, {"page": ["Give a whole number above 0."]}),
    ],
)
def test_bad_filters_are_400_naming_the_parameter(clerk, url, query, errors):
    response = clerk.get(url, query)
    assert (response.status_code, response.json()) == (400, errors)


@pytest.mark.parametrize(("url", "field"), [(SHIPPING, "request"), (PAYMENTS, "shipping_infos__request")])
def test_the_body_with_the_openid_cannot_sort_a_list(clerk, url, field):
    response = clerk.get(url, {"ordering": field})
    assert response.status_code == 400
    assert list(response.json()) == ["ordering"]


def test_the_payers_openid_is_in_no_answer(
    clerk, sandbox, payment, order, django_capture_on_commit_callbacks
):
    openid = payment["openid"]
    info = services.record_shipping_info(order, **upload_fields(payment))
    ShippingInfo.objects.filter(pk=info.pk).update(state=EventState.FAILED, last_errcode=-1)
    assert info.request["payer"] == {"openid": openid}  # stored, to be sent: never shown
    with django_capture_on_commit_callbacks():
        retried = clerk.post(f"{SHIPPING}{info.pk}/retry/")
    answers = [
        clerk.get(PAYMENTS),
        clerk.get(f"{PAYMENTS}{info.payment_id}/"),
        clerk.get(SHIPPING),
        clerk.get(f"{SHIPPING}{info.pk}/"),
        retried,
    ]
    for response in answers:
        assert response.status_code == 200, response.content
        body = response.content.decode()
        assert openid not in body
        assert '"request"' not in body and '"payer"' not in body


def test_retry_sends_a_failed_call_again_once_wechat_knows_the_payment(
    clerk, sandbox, order, settings, django_capture_on_commit_callbacks
):
    settings.WXLOGISTICS = {**settings.WXLOGISTICS, "MAX_ATTEMPTS": 1}
    payment = sandbox.create_payment(unknown_for=3600)  # WeChat keeps answering 10060001
    info = services.record_shipping_info(order, **upload_fields(payment))
    assert deliver(info.pk) is delivery.Outcome.FAILED
    sandbox.set_payment_unknown(payment["transaction_id"], 0)  # WeChat has learnt of it since

    with django_capture_on_commit_callbacks() as callbacks:
        response = clerk.post(f"{SHIPPING}{info.pk}/retry/")
    assert response.status_code == 200, response.content
    assert (response.json()["state"], response.json()["attempts"]) == ("pending", 0)
    assert response.json()["last_errcode"] == 10060001  # WeChat's last answer stays until the next
    info.refresh_from_db()
    assert (info.state, info.attempts) == (EventState.PENDING, 0)
    assert len(callbacks) == 1  # the nudge, after the commit

    assert deliver(info.pk) is delivery.Outcome.SENT  # what the nudged worker does
    info.refresh_from_db()
    assert info.state == EventState.SENT
    assert sandbox.payment(payment["transaction_id"])["order_state"] == SHIPPED
    assert Payment.objects.get(pk=info.payment_id).latest_call == ShippingCall.UPLOAD


def test_retry_of_a_call_that_is_not_failed_is_409(clerk, sandbox, payment, order):
    info = services.record_shipping_info(order, **upload_fields(payment))
    response = clerk.post(f"{SHIPPING}{info.pk}/retry/")
    assert response.status_code == 409
    assert response.json() == {
        "detail": "Only failed shipping information can be retried; this call is Pending.",
        "errcode": None,
    }
    assert ShippingInfo.objects.get(pk=info.pk).state == EventState.PENDING


def test_retry_of_a_failed_call_recorded_again_since_is_409(clerk, sandbox, payment, order):
    failed = _wrong_payer(payment, order)
    ShippingInfo.objects.filter(pk=failed.pk).update(completes=True)
    fixed = services.record_shipping_info(order, **upload_fields(payment))
    assert deliver(fixed.pk) is delivery.Outcome.SENT
    response = clerk.post(f"{SHIPPING}{failed.pk}/retry/")
    assert response.status_code == 409
    assert "recorded the same call again" in response.json()["detail"]
    assert ShippingInfo.objects.get(pk=failed.pk).state == EventState.FAILED


def test_each_endpoint_needs_its_permission(client_for, sandbox, payment, order):
    info = _wrong_payer(payment, order)
    reads = {
        PAYMENTS: "view_payment",
        f"{PAYMENTS}{info.payment_id}/": "view_payment",
        SHIPPING: "view_shippinginfo",
        f"{SHIPPING}{info.pk}/": "view_shippinginfo",
    }
    nobody = client_for()
    for url, perm in reads.items():
        assert nobody.get(url).status_code == 403, url
        other = "view_shippinginfo" if perm == "view_payment" else "view_payment"
        assert client_for(other).get(url).status_code == 403, url
        assert client_for(perm).get(url).status_code == 200, url
    retry = f"{SHIPPING}{info.pk}/retry/"
    assert nobody.post(retry).status_code == 403
    assert client_for("view_shippinginfo", "add_shippinginfo").post(retry).status_code == 403
    assert ShippingInfo.objects.get(pk=info.pk).state == EventState.FAILED
    # Allowed to retry but not to read: the answer says only what was done.
    response = client_for("change_shippinginfo").post(retry)
    assert (response.status_code, response.json()) == (200, {"id": info.pk, "state": "pending"})


@pytest.mark.django_db
def test_anonymous_users_are_refused() -> None:
    for url in (PAYMENTS, SHIPPING, f"{PAYMENTS}1/", f"{SHIPPING}1/"):
        response = APIClient().get(url)
        assert response.status_code == 403
        assert response.json() == {"detail": "Authentication credentials were not provided."}


@pytest.mark.parametrize("item", ["999999", "abc", "9" * 30])
def test_an_unknown_id_is_404(clerk, item):
    assert clerk.get(f"{PAYMENTS}{item}/").status_code == 404
    assert clerk.get(f"{SHIPPING}{item}/").status_code == 404
    assert clerk.post(f"{SHIPPING}{item}/retry/").status_code == 404

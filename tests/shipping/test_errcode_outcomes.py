"""What the pipeline does with each errcode of docs/merchant.md's table, for shipping information,
against the sandbox over real HTTP: the transient ones are tried again and get through once WeChat
takes the call, a refused access token is replaced, the others fail at the first attempt with
WeChat's errcode and a message saying what to do."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from django_wxlogistics import delivery, services
from django_wxlogistics.client import get_client
from django_wxlogistics.enums import EventState
from django_wxlogistics.models import ShippingInfo
from tests.shipping.helpers import deliver, upload_fields

pytestmark = pytest.mark.django_db

SHIPPED = 2
UPLOAD, CONFIRM = "upload_shipping_info", "notify_confirm_receive"


def _due_now(info: ShippingInfo) -> None:
    """Time passes: the retry of ``info`` is due."""
    ShippingInfo.objects.filter(pk=info.pk).update(next_attempt_at=timezone.now())


def _shipped(sandbox: Any, payment: dict[str, Any], order: Any) -> ShippingInfo:
    """The payment's upload, sent: WeChat holds it shipped."""
    upload = services.record_shipping_info(order, **upload_fields(payment))
    assert deliver(upload.pk, follow=False) is delivery.Outcome.SENT
    return upload


def _call_of(sandbox: Any, payment: dict[str, Any], order: Any, api: str) -> ShippingInfo:
    """The ShippingInfo making ``api``'s call, recorded and not yet tried."""
    if api == CONFIRM:
        _shipped(sandbox, payment, order)
        return services.confirm_receipt(order)
    return services.record_shipping_info(order, **upload_fields(payment))


def _tokens_fetched(sandbox: Any) -> int:
    return len(sandbox.calls(api="token")) + len(sandbox.calls(api="stable_token"))


# -- tried again ------------------------------------------------------------------------------------

TRANSIENT_ERRCODES = [-1, 10060012, 10060019, 45009, 44990]


@pytest.mark.parametrize("api", [UPLOAD, CONFIRM])
@pytest.mark.parametrize("errcode", TRANSIENT_ERRCODES)
def test_transient_errcodes_are_tried_again_and_get_through(sandbox, payment, order, api, errcode):
    info = _call_of(sandbox, payment, order, api)
    sandbox.set_faults(error_rate=1.0, kinds=["errcode"], errcode=errcode, errmsg="微信忙", apis=[api])
    assert deliver(info.pk, follow=False) is delivery.Outcome.RETRY
    info.refresh_from_db()
    assert (info.state, info.attempts, info.last_errcode) == (EventState.PENDING, 1, errcode)
    assert info.next_attempt_at is not None
    assert [c["reply"]["errcode"] for c in sandbox.payment_calls(payment["transaction_id"], api=api)] == [
        errcode
    ]

    sandbox.clear_faults()
    _due_now(info)
    assert deliver(info.pk, follow=False) is delivery.Outcome.SENT
    info.refresh_from_db()
    assert (info.state, info.attempts) == (EventState.SENT, 2)
    replies = [c["reply"]["errcode"] for c in sandbox.payment_calls(payment["transaction_id"], api=api)]
    assert replies == [errcode, 0]


@pytest.mark.parametrize("kind", ["http500", "http502", "reset", "hang"])
def test_http_and_network_errors_are_tried_again(sandbox, payment, order, kind):
    info = _call_of(sandbox, payment, order, UPLOAD)
    sandbox.set_faults(error_rate=1.0, kinds=[kind], hang_seconds=3, apis=[UPLOAD])
    assert deliver(info.pk, follow=False) is delivery.Outcome.RETRY
    info.refresh_from_db()
    assert (info.state, info.attempts, info.last_errcode) == (EventState.PENDING, 1, None)
    assert info.last_errmsg  # what went wrong, for the admin
    sandbox.clear_faults()
    sandbox.release()
    _due_now(info)
    # After a hang WeChat took the first attempt: the retry is "unchanged", which is the call done.
    assert deliver(info.pk, follow=False) is delivery.Outcome.SENT
    assert sandbox.payment(payment["transaction_id"])["order_state"] == SHIPPED


@pytest.mark.parametrize("api", [UPLOAD, CONFIRM])
def test_an_expired_access_token_is_replaced_and_the_call_made_once_more(sandbox, payment, order, api):
    info = _call_of(sandbox, payment, order, api)
    get_client().is_trade_managed()  # the client holds a token
    fetched = _tokens_fetched(sandbox)
    assert sandbox.expire_tokens() >= 1
    assert deliver(info.pk, follow=False) is delivery.Outcome.SENT
    info.refresh_from_db()
    assert (info.state, info.attempts, info.last_errcode) == (EventState.SENT, 1, None)
    assert _tokens_fetched(sandbox) == fetched + 1
    replies = [c["reply"]["errcode"] for c in sandbox.payment_calls(payment["transaction_id"], api=api)]
    assert replies == [42001, 0]


@pytest.mark.parametrize("errcode", [40001, 40014, 42001])
def test_a_token_refused_again_after_the_refresh_is_tried_later_not_failed(sandbox, payment, order, errcode):
    info = _call_of(sandbox, payment, order, UPLOAD)
    get_client().is_trade_managed()
    fetched = _tokens_fetched(sandbox)
    sandbox.set_faults(
        error_rate=1.0, kinds=["errcode"], errcode=errcode, errmsg="invalid credential", apis=[UPLOAD]
    )
    assert deliver(info.pk, follow=False) is delivery.Outcome.RETRY
    info.refresh_from_db()
    assert (info.state, info.attempts, info.last_errcode) == (EventState.PENDING, 1, errcode)
    # Asked once for a new token; WeChat's stable_token answers the one it holds, so the call is not
    # repeated with it: the pipeline tries again later.
    assert _tokens_fetched(sandbox) == fetched + 1
    assert len(sandbox.payment_calls(payment["transaction_id"], api=UPLOAD)) == 1
    sandbox.clear_faults()
    _due_now(info)
    assert deliver(info.pk, follow=False) is delivery.Outcome.SENT


# -- failed at once, with what to do ------------------------------------------------------------------

#: the field errors of WeChat's shipping-information pages (10060005-10060026, 268485194-268485228)
FIELD_ERRCODES = (
    *(10060005, 10060006, 10060007, 10060008, 10060009, 10060011, 10060014, 10060020),
    *(10060024, 10060025, 10060026),
    *(268485194, 268485195, 268485196, 268485197, 268485216, 268485224, 268485226, 268485227, 268485228),
)

#: (api, errcode, words of the message a person acts on)
PERMANENT_ERRCODES: list[tuple[str, int, str]] = [
    (UPLOAD, 47001, "Fix the data before trying again"),
    (UPLOAD, 10060002, "upload once more with a later upload_time"),
    (UPLOAD, 10060003, "tell the buyer any correction directly"),
    (UPLOAD, 10060004, "order_state (5 is refunded)"),
    (UPLOAD, 10060031, "openid of the user who paid"),
    (CONFIRM, 10060028, "Upload its shipping information first"),
    (CONFIRM, 10060029, "Unix seconds (not milliseconds)"),
    (CONFIRM, 10060032, "Do not confirm receipt of same-city"),
    *((UPLOAD, code, "Fix the field WeChat's errmsg names") for code in FIELD_ERRCODES),
]


@pytest.mark.parametrize(
    ("api", "errcode", "words"), PERMANENT_ERRCODES, ids=[str(code) for _, code, _ in PERMANENT_ERRCODES]
)
def test_permanent_errcodes_fail_at_once_saying_what_to_do(sandbox, payment, order, api, errcode, words):
    info = _call_of(sandbox, payment, order, api)
    sandbox.set_faults(error_rate=1.0, kinds=["errcode"], errcode=errcode, errmsg="微信的话", apis=[api])
    assert deliver(info.pk, follow=False) is delivery.Outcome.FAILED
    info.refresh_from_db()
    assert (info.state, info.attempts, info.last_errcode) == (EventState.FAILED, 1, errcode)
    assert words in info.last_errmsg and "微信的话" in info.last_errmsg
    assert len(sandbox.payment_calls(payment["transaction_id"], api=api)) == 1  # never made again


def test_a_reminder_wechat_holds_already_fails_a_first_attempt(sandbox, payment, order):
    _shipped(sandbox, payment, order)
    get_client().notify_confirm_receive(transaction_id=payment["transaction_id"])  # sent some other way
    info = services.confirm_receipt(order)
    assert deliver(info.pk, follow=False) is delivery.Outcome.FAILED
    info.refresh_from_db()
    assert (info.state, info.last_errcode) == (EventState.FAILED, 10060030)
    assert "WeChat reminds once per payment" in info.last_errmsg

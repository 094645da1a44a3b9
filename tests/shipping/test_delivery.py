"""Shipping information through the pipeline, against the sandbox over real HTTP: sent once and in
order per payment, a payment WeChat does not know yet retried soon, WeChat's refusals failed
with their errcode."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from django_wxlogistics import delivery, services, tasks
from django_wxlogistics.client import get_client
from django_wxlogistics.delivery.shipping import UNKNOWN_PAYMENT_RETRIES, shipping_retry_delay
from django_wxlogistics.enums import EventState, ShippingCall
from django_wxlogistics.exceptions import PaymentNotYetKnown, WeChatError
from django_wxlogistics.models import ShippingInfo
from django_wxlogistics.signals import shipping_info_failed, shipping_info_sent
from tests.shipping.helpers import deliver, deliver_many, upload_fields

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("both_paths")]

SHIPPED, CONFIRMED = 2, 3


@pytest.fixture
def signals():
    received: dict[str, list[dict]] = {"sent": [], "failed": []}

    def on_sent(sender, **kwargs):
        received["sent"].append(kwargs)

    def on_failed(sender, **kwargs):
        received["failed"].append(kwargs)

    shipping_info_sent.connect(on_sent)
    shipping_info_failed.connect(on_failed)
    yield received
    shipping_info_sent.disconnect(on_sent)
    shipping_info_failed.disconnect(on_failed)


def _due_now(info: ShippingInfo) -> None:
    """Time passes: the retry of ``info`` is due."""
    ShippingInfo.objects.filter(pk=info.pk).update(next_attempt_at=timezone.now())


def test_an_upload_reaches_wechat_and_the_payment_is_shipped(sandbox, payment, order, signals):
    info = services.record_shipping_info(order, **upload_fields(payment))
    assert sandbox.payment(payment["transaction_id"])["order_state"] == 1
    assert deliver(info.pk) is delivery.Outcome.SENT
    info.refresh_from_db()
    assert (info.state, info.attempts, info.last_errcode) == (EventState.SENT, 1, None)
    assert info.sent_at is not None
    assert info.payment.latest_call == ShippingCall.UPLOAD
    seen = sandbox.payment(payment["transaction_id"])
    assert seen["order_state"] == SHIPPED
    assert seen["shipping"]["shipping_list"][0]["tracking_no"] == "ZT1234567890"
    assert [s["shipping_info"].pk for s in signals["sent"]] == [info.pk]
    assert signals["sent"][0]["payment"] == info.payment
    assert signals["failed"] == []
    assert deliver(info.pk) is delivery.Outcome.SKIPPED  # a duplicate message calls nothing
    assert len(sandbox.payment_calls(payment["transaction_id"], api="upload_shipping_info")) == 1


def test_the_receipt_confirmation_waits_for_its_upload_then_follows_it(sandbox, payment, order):
    sandbox.configure_merchant(confirm_on_reminder=True)
    upload = services.record_shipping_info(order, **upload_fields(payment))
    confirm = services.confirm_receipt(order)
    assert deliver(confirm.pk) is delivery.Outcome.SKIPPED  # its upload is not sent yet
    assert sandbox.payment_calls(payment["transaction_id"]) == []
    outcomes = deliver_many([upload.pk])
    assert outcomes == {upload.pk: delivery.Outcome.SENT, confirm.pk: delivery.Outcome.SENT}
    calls = sandbox.payment_calls(payment["transaction_id"])
    assert [c["api"] for c in calls] == ["upload_shipping_info", "notify_confirm_receive"]
    seen = sandbox.payment(payment["transaction_id"])
    assert seen["order_state"] == CONFIRMED
    confirm.refresh_from_db()
    assert confirm.request["received_time"] is None  # received by the time of the call
    assert int(confirm.created_at.timestamp()) <= seen["received_time"] <= confirm.sent_at.timestamp()
    assert confirm.payment.latest_call == ShippingCall.CONFIRM_RECEIPT


def test_a_payment_wechat_does_not_know_yet_is_tried_again_soon(sandbox, order, signals):
    payment = sandbox.create_payment(unknown_for=45)
    info = services.record_shipping_info(order, **upload_fields(payment))
    confirm = services.confirm_receipt(order)
    waits = []
    for _ in UNKNOWN_PAYMENT_RETRIES:
        assert deliver(info.pk) is delivery.Outcome.RETRY
        info.refresh_from_db()
        assert (info.state, info.last_errcode) == (EventState.PENDING, 10060001)
        waits.append((info.next_attempt_at - info.updated_at).total_seconds())
        assert deliver(info.pk) is delivery.Outcome.SKIPPED  # not due yet
        assert deliver(confirm.pk) is delivery.Outcome.SKIPPED  # behind its upload
        _due_now(info)
    assert waits == list(UNKNOWN_PAYMENT_RETRIES)
    sandbox.set_payment_unknown(payment["transaction_id"], 0)  # WeChat has learnt of the payment
    assert deliver_many([info.pk]) == {info.pk: delivery.Outcome.SENT, confirm.pk: delivery.Outcome.SENT}
    info.refresh_from_db()
    assert (info.state, info.attempts) == (EventState.SENT, 3)
    assert sandbox.payment(payment["transaction_id"])["order_state"] == SHIPPED
    assert len(sandbox.payment_calls(payment["transaction_id"], api="upload_shipping_info")) == 3
    assert signals["failed"] == []


def test_the_payment_is_known_once_its_seconds_have_passed_on_wechats_clock(sandbox, order):
    payment = sandbox.create_payment(unknown_for=30)
    info = services.record_shipping_info(order, **upload_fields(payment))
    assert deliver(info.pk) is delivery.Outcome.RETRY
    sandbox.advance_clock(29)
    _due_now(info)
    assert deliver(info.pk) is delivery.Outcome.RETRY
    sandbox.advance_clock(1)
    _due_now(info)
    assert deliver(info.pk) is delivery.Outcome.SENT
    assert sandbox.payment(payment["transaction_id"])["order_state"] == SHIPPED


def test_after_the_short_schedule_the_backoff_takes_over_never_sooner(settings):
    settings.WXLOGISTICS = {**settings.WXLOGISTICS, "RETRY_BACKOFF_BASE": 2.0, "RETRY_BACKOFF_CAP": 600.0}
    unknown = PaymentNotYetKnown(10060001, "payment not found")
    assert [shipping_retry_delay(unknown, n) for n in (1, 2)] == [10.0, 60.0]
    later = [shipping_retry_delay(unknown, n) for n in range(3, 30)]
    assert all(60.0 <= wait <= 600.0 for wait in later)  # type: ignore[operator]
    assert shipping_retry_delay(WeChatError(-1, "system busy"), 1) is None  # the normal backoff


def test_a_payment_still_unknown_when_the_attempts_are_used_up_fails(sandbox, order, signals, settings):
    settings.WXLOGISTICS = {**settings.WXLOGISTICS, "MAX_ATTEMPTS": 2}
    payment = sandbox.create_payment(unknown_for=3600)
    info = services.record_shipping_info(order, **upload_fields(payment))
    assert deliver(info.pk) is delivery.Outcome.RETRY
    _due_now(info)
    assert deliver(info.pk) is delivery.Outcome.FAILED
    info.refresh_from_db()
    assert (info.state, info.last_errcode) == (EventState.FAILED, 10060001)
    assert [s["shipping_info"].pk for s in signals["failed"]] == [info.pk]


def _refunded(sandbox, payment, order):
    sandbox.refund_payment(payment["transaction_id"])
    return services.record_shipping_info(order, **upload_fields(payment))


def _wrong_payer(sandbox, payment, order):
    return services.record_shipping_info(order, **upload_fields(payment, payer={"openid": "oSomeoneElse"}))


def _reship_used_in_the_console(sandbox, payment, order):
    # Shipped through the pipeline, then changed twice where the shop does not see it (WeChat's
    # merchant console): the shop's one change is refused.
    assert deliver(services.record_shipping_info(order, **upload_fields(payment)).pk) is delivery.Outcome.SENT
    for seconds, tracking_no in ((60, "ZT1"), (120, "ZT2")):
        parcel = {"tracking_no": tracking_no, "express_company": "ZTO", "item_desc": "茶叶*1"}
        fields = upload_fields(payment, shipping_list=[parcel])
        fields["upload_time"] = timezone.now() + timedelta(seconds=seconds)
        if tracking_no == "ZT1":
            get_client().upload_shipping_info(**fields)
    return services.record_shipping_info(order, reupload=True, **fields)


def _received_before_wechat_recorded_the_shipping(sandbox, payment, order):
    # Uploaded as shipped an hour ago, but WeChat recorded it now: a receipt half an hour ago
    # is after the upload_time the shop knows and before the shipping WeChat knows.
    fields = upload_fields(payment, upload_time=timezone.now() - timedelta(hours=1))
    assert deliver(services.record_shipping_info(order, **fields).pk) is delivery.Outcome.SENT
    return services.confirm_receipt(order, received_time=timezone.now() - timedelta(minutes=30))


@pytest.mark.parametrize(
    ("make", "errcode"),
    [
        (_refunded, 10060004),
        (_wrong_payer, 10060031),
        (_reship_used_in_the_console, 10060003),
        (_received_before_wechat_recorded_the_shipping, 10060029),
    ],
)
def test_wechat_refusals_fail_at_once_with_their_errcode(sandbox, payment, order, signals, make, errcode):
    info = make(sandbox, payment, order)
    assert deliver(info.pk) is delivery.Outcome.FAILED
    info.refresh_from_db()
    assert (info.state, info.attempts, info.last_errcode) == (EventState.FAILED, 1, errcode)
    assert str(errcode) in info.last_errmsg
    failed = signals["failed"]
    assert [(s["shipping_info"].pk, s["error"].errcode) for s in failed] == [(info.pk, errcode)]


def test_a_failed_call_does_not_hold_back_the_payments_later_ones(sandbox, payment, order):
    upload = _wrong_payer(sandbox, payment, order)
    ShippingInfo.objects.filter(pk=upload.pk).update(completes=True)
    assert deliver(upload.pk) is delivery.Outcome.FAILED
    fixed = services.record_shipping_info(order, **upload_fields(payment))
    assert fixed.call == ShippingCall.UPLOAD  # the failed one was not taken by WeChat
    assert deliver(fixed.pk) is delivery.Outcome.SENT
    assert sandbox.payment(payment["transaction_id"])["order_state"] == SHIPPED


@pytest.mark.parametrize("api", ["upload_shipping_info", "notify_confirm_receive"])
def test_a_call_whose_answer_was_lost_is_not_failed_by_its_own_earlier_attempt(
    sandbox, payment, order, signals, settings, api
):
    settings.WXLOGISTICS = {**settings.WXLOGISTICS, "PUSH_CHAIN": 1}  # one call at a time
    upload = services.record_shipping_info(order, **upload_fields(payment))
    confirm = services.confirm_receipt(order)
    if api == "notify_confirm_receive":
        assert deliver(upload.pk, follow=False) is delivery.Outcome.SENT
    info = upload if api == "upload_shipping_info" else confirm
    # WeChat takes the call, but its answer never comes back (past TIMEOUT).
    sandbox.set_faults(error_rate=1.0, kinds=["hang"], hang_seconds=3, apis=[api])
    assert deliver(info.pk, follow=False) is delivery.Outcome.RETRY
    sandbox.clear_faults()
    sandbox.release()
    _due_now(info)
    assert deliver(info.pk, follow=False) is delivery.Outcome.SENT  # WeChat: "unchanged" / "used"
    info.refresh_from_db()
    assert (info.state, info.attempts) == (EventState.SENT, 2)
    replies = [c["reply"]["errcode"] for c in sandbox.payment_calls(payment["transaction_id"], api=api)]
    assert replies == [0, 10060023 if api == "upload_shipping_info" else 10060030]
    assert signals["failed"] == []


def test_wechat_holding_the_call_already_fails_a_first_attempt(sandbox, payment, order):
    fields = upload_fields(payment, upload_time=timezone.now())
    get_client().upload_shipping_info(**fields)  # the same shipping, recorded elsewhere
    info = services.record_shipping_info(order, **fields)
    assert deliver(info.pk) is delivery.Outcome.FAILED
    info.refresh_from_db()
    assert info.last_errcode == 10060023


@pytest.mark.django_db(transaction=True)
def test_nothing_reaches_wechat_before_commit_and_nothing_on_rollback(sandbox, payment, order):
    tasks.push_shipping_info.app.conf.task_always_eager = True
    try:
        with transaction.atomic():
            services.record_shipping_info(order, **upload_fields(payment))
            assert sandbox.payment_calls(payment["transaction_id"]) == []
        assert sandbox.payment(payment["transaction_id"])["order_state"] == SHIPPED
        with pytest.raises(RuntimeError), transaction.atomic():
            services.confirm_receipt(order)
            raise RuntimeError("the shop's transaction fails")
    finally:
        tasks.push_shipping_info.app.conf.task_always_eager = False
    assert [c["api"] for c in sandbox.payment_calls(payment["transaction_id"])] == ["upload_shipping_info"]
    assert ShippingInfo.objects.count() == 1


def test_the_sweeper_sends_what_no_nudge_announced(
    sandbox, payment, order, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):  # the nudge is lost
        info = services.record_shipping_info(order, **upload_fields(payment))
    # A sweep interval later: nobody has touched it since.
    ShippingInfo.objects.filter(pk=info.pk).update(updated_at=timezone.now() - timedelta(minutes=1))
    tasks.push_shipping_info.app.conf.task_always_eager = True
    try:
        swept = tasks.sweep_due_events()
    finally:
        tasks.push_shipping_info.app.conf.task_always_eager = False
    assert swept["nudged"] == 1
    info.refresh_from_db()
    assert info.state == EventState.SENT
    assert sandbox.payment(payment["transaction_id"])["order_state"] == SHIPPED


def test_the_sweeper_hands_back_a_call_whose_worker_died(sandbox, payment, order):
    info = services.record_shipping_info(order, **upload_fields(payment))
    (claimed,) = delivery.claim_many(delivery.SHIPPING_INFO, [info.pk])
    assert claimed.item.state == EventState.SENDING
    ShippingInfo.objects.filter(pk=info.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    swept = delivery.sweep(delivery.SHIPPING_INFO)
    assert (swept.reclaimed, swept.due) == (1, [info.pk])
    assert deliver(info.pk) is delivery.Outcome.SENT

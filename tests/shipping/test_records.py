"""Recording shipping information: what the services insert, what they refuse as WeChat would, and
the one-time rules the database holds against any caller."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, connections, transaction
from django.utils import timezone

from django_wxlogistics import services
from django_wxlogistics.enums import EventState, ShippingCall
from django_wxlogistics.models import Payment, ShippingInfo
from tests.pipeline.processes import wait_until
from tests.shipping.helpers import upload_fields

pytestmark = pytest.mark.django_db


def _refusal(excinfo: pytest.ExceptionInfo[ValidationError]) -> tuple[str, str]:
    """The field and the code of a ValidationError with one message."""
    ((field, errors),) = excinfo.value.error_dict.items()
    return field, errors[0].code


def test_an_upload_is_one_pending_row_in_the_callers_transaction(
    payment, order, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        info = services.record_shipping_info(order, **upload_fields(payment))
        assert callbacks == []  # nothing is nudged before the commit
    assert len(callbacks) == 1
    info.refresh_from_db()
    assert (info.state, info.call, info.completes, info.order_id) == (
        EventState.PENDING,
        ShippingCall.UPLOAD,
        True,
        order.number,
    )
    assert info.request["order_key"] == {"order_number_type": 2, "transaction_id": payment["transaction_id"]}
    assert info.request["payer"] == {"openid": payment["openid"]}
    assert info.request["upload_time"][10] == "T"  # now, RFC 3339 with its offset
    assert info.payment.transaction_id == payment["transaction_id"]
    assert info.payment.order_id == order.number
    assert info.next_attempt_at <= timezone.now()


def test_the_order_may_be_given_by_its_reference(payment):
    info = services.record_shipping_info("SO-REF-1", **upload_fields(payment))
    assert info.order_id == info.payment.order_id == "SO-REF-1"


def test_bad_fields_are_refused_each_by_name_and_nothing_is_recorded(payment, order):
    with pytest.raises(ValidationError) as excinfo:
        services.record_shipping_info(order, **upload_fields(payment, shipping_list=[], payer={}))
    assert {"shipping_list", "payer.openid"} <= set(excinfo.value.message_dict)
    assert not Payment.objects.exists() and not ShippingInfo.objects.exists()


def test_a_second_upload_is_refused_and_reupload_spends_the_one_change(payment, order):
    first = services.record_shipping_info(order, **upload_fields(payment))
    with pytest.raises(ValidationError) as excinfo:
        services.record_shipping_info(order, **upload_fields(payment))
    assert _refusal(excinfo) == ("order_key", "uploaded_already")
    assert "reupload=True" in excinfo.value.messages[0]
    second = services.record_shipping_info(order, reupload=True, **upload_fields(payment))
    assert (first.call, second.call) == (ShippingCall.UPLOAD, ShippingCall.REUPLOAD)
    assert second.payment_id == first.payment_id
    with pytest.raises(ValidationError) as excinfo:
        services.record_shipping_info(order, reupload=True, **upload_fields(payment))
    assert _refusal(excinfo) == ("order_key", "reupload_used")
    assert "10060003" in excinfo.value.messages[0]
    assert ShippingInfo.objects.count() == 2


def test_reupload_with_nothing_to_change_is_refused(payment, order):
    with pytest.raises(ValidationError) as excinfo:
        services.record_shipping_info(order, reupload=True, **upload_fields(payment))
    assert _refusal(excinfo) == ("order_key", "nothing_to_change")


def _split(payment, last: bool, tracking_no: str):
    parcel = {"tracking_no": tracking_no, "express_company": "ZTO", "item_desc": "茶叶*1"}
    return upload_fields(payment, delivery_mode=2, is_all_delivered=last, shipping_list=[parcel])


def test_a_split_delivery_uploads_its_parcels_until_the_last(payment, order):
    parts = [
        services.record_shipping_info(order, **_split(payment, last, f"ZT{n}"))
        for n, last in enumerate([False, False, True])
    ]
    assert [(p.call, p.completes) for p in parts] == [
        (ShippingCall.UPLOAD, False),
        (ShippingCall.UPLOAD, False),
        (ShippingCall.UPLOAD, True),
    ]
    with pytest.raises(ValidationError) as excinfo:
        services.record_shipping_info(order, **_split(payment, True, "ZT9"))
    assert _refusal(excinfo) == ("order_key", "uploaded_already")


def test_changing_how_the_goods_travel_is_the_one_change(payment, order):
    services.record_shipping_info(order, **_split(payment, False, "ZT1"))
    with pytest.raises(ValidationError) as excinfo:
        services.record_shipping_info(order, **upload_fields(payment))  # unified now
    assert _refusal(excinfo) == ("order_key", "uploaded_already")


def test_a_failed_upload_does_not_count_against_the_rules(payment, order):
    first = services.record_shipping_info(order, **upload_fields(payment))
    ShippingInfo.objects.filter(pk=first.pk).update(state=EventState.FAILED, last_errcode=10060031)
    again = services.record_shipping_info(order, **upload_fields(payment))
    assert again.call == ShippingCall.UPLOAD


def test_a_payment_of_another_order_is_refused(payment, order):
    services.record_shipping_info("SO-OTHER", **upload_fields(payment))
    with pytest.raises(ValidationError) as excinfo:
        services.record_shipping_info(order, **upload_fields(payment))
    assert _refusal(excinfo) == ("order_key", "other_order")
    assert "SO-OTHER" in excinfo.value.messages[0]


def test_receipt_is_confirmed_once_by_the_payment_the_upload_named(payment, order):
    services.record_shipping_info(order, **upload_fields(payment))
    received = int(timezone.now().timestamp())
    info = services.confirm_receipt(order, received_time=received)
    assert info.call == ShippingCall.CONFIRM_RECEIPT
    assert info.request == {"transaction_id": payment["transaction_id"], "received_time": received}
    assert info.payment.shipping_infos.count() == 2
    with pytest.raises(ValidationError) as excinfo:
        services.confirm_receipt(order)
    assert _refusal(excinfo) == ("order", "confirmed_already")
    with pytest.raises(ValidationError) as excinfo:
        services.record_shipping_info(order, reupload=True, **upload_fields(payment))
    assert _refusal(excinfo) == ("order_key", "confirmed_already")


def test_a_payment_named_by_merchant_number_is_confirmed_by_it(sandbox, order):
    payment = sandbox.create_payment(mchid="1900000109", out_trade_no="SHOP-ORDER-0001")
    key = {"order_number_type": 1, "mchid": "1900000109", "out_trade_no": "SHOP-ORDER-0001"}
    services.record_shipping_info(order, **upload_fields(payment, order_key=key))
    info = services.confirm_receipt(order)
    assert info.request["merchant_id"] == "1900000109"
    assert info.request["merchant_trade_no"] == "SHOP-ORDER-0001"
    assert "transaction_id" not in info.request
    assert info.payment.transaction_id == ""


def test_receipt_of_an_order_not_shipped_is_refused(order):
    with pytest.raises(ValidationError) as excinfo:
        services.confirm_receipt(order)
    assert _refusal(excinfo) == ("order", "not_shipped")
    assert "record_shipping_info" in excinfo.value.messages[0]


def test_receipt_of_a_split_delivery_waits_for_its_last_parcel(payment, order):
    services.record_shipping_info(order, **_split(payment, False, "ZT1"))
    with pytest.raises(ValidationError) as excinfo:
        services.confirm_receipt(order)
    assert _refusal(excinfo) == ("order", "not_shipped")
    assert "is_all_delivered" in excinfo.value.messages[0]


def test_receipt_is_confirmed_for_express_only(payment, order):
    virtual = upload_fields(payment, logistics_type=3, shipping_list=[{"item_desc": "会员卡"}])
    services.record_shipping_info(order, **virtual)
    with pytest.raises(ValidationError) as excinfo:
        services.confirm_receipt(order)
    assert _refusal(excinfo) == ("order", "not_express")


@pytest.mark.parametrize(
    ("received", "code"),
    [
        (lambda now: int(now.timestamp() * 1000), "milliseconds"),
        (lambda now: now + timedelta(hours=1), "future"),
        (lambda now: now - timedelta(days=2), "before_shipping"),
    ],
)
def test_a_receipt_time_wechat_would_refuse_is_refused(payment, order, received, code):
    services.record_shipping_info(order, **upload_fields(payment))
    with pytest.raises(ValidationError) as excinfo:
        services.confirm_receipt(order, received_time=received(timezone.now()))
    assert _refusal(excinfo) == ("received_time", code)
    assert ShippingInfo.objects.filter(call=ShippingCall.CONFIRM_RECEIPT).count() == 0


@pytest.mark.parametrize(
    "call",
    [ShippingCall.UPLOAD, ShippingCall.REUPLOAD, ShippingCall.CONFIRM_RECEIPT],
)
def test_the_database_holds_each_one_time_rule(order, call):
    payment = Payment.objects.create(order_id=order.number, transaction_id="4200000001")

    def insert(**fields):
        with transaction.atomic():
            return ShippingInfo.objects.create(
                payment=payment, order_id=order.number, call=call, request={}, **fields
            )

    insert()
    with pytest.raises(IntegrityError):
        insert()
    insert(state=EventState.FAILED)  # a failed call was not taken: it does not count
    with pytest.raises(IntegrityError):
        insert(state=EventState.SENT, sent_at=timezone.now())


def test_the_database_lets_partial_uploads_through(order):
    payment = Payment.objects.create(order_id=order.number, transaction_id="4200000001")
    for _ in range(3):
        ShippingInfo.objects.create(
            payment=payment, order_id=order.number, call=ShippingCall.UPLOAD, completes=False, request={}
        )
    assert payment.shipping_infos.count() == 3


def test_the_database_wants_a_key_for_each_payment(order):
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.create(order_id=order.number, mchid="1900000109")
    Payment.objects.create(order_id=order.number, mchid="1900000109", out_trade_no="A1")
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.create(order_id="SO2", mchid="1900000109", out_trade_no="A1")


@pytest.mark.django_db(transaction=True)
def test_two_callers_at_once_record_one_upload(payment, order):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has one writer at a time: the callers cannot overlap")
    # The payment is known already: each caller finds it, neither creates it.
    Payment.objects.create(order_id=order.number, transaction_id=payment["transaction_id"])
    outcome: dict[str, object] = {}

    def other_caller():
        try:
            outcome["info"] = services.record_shipping_info(order, **upload_fields(payment))
        except Exception as exc:
            outcome["error"] = exc
        finally:
            connections.close_all()

    with transaction.atomic():
        services.record_shipping_info(order, **upload_fields(payment))
        thread = threading.Thread(target=other_caller)
        thread.start()
        # The other caller waits for this transaction's lock (on the payment's key or row).
        with connection.cursor() as cursor:

            def waiting() -> bool:
                cursor.execute("SELECT pg_stat_clear_snapshot()")  # a transaction sees one snapshot otherwise
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = %s",
                    [connection.settings_dict["NAME"]],
                )
                return cursor.fetchone()[0] > 0 or not thread.is_alive()

            wait_until(waiting, timeout=30)
        assert thread.is_alive(), outcome  # it waits until this transaction ends
    thread.join(timeout=30)
    error = outcome.get("error")
    assert isinstance(error, ValidationError)
    assert error.error_dict["order_key"][0].code == "uploaded_already"
    assert ShippingInfo.objects.count() == 1


def test_a_failed_call_gets_fresh_attempts_unless_it_was_recorded_again(
    payment, order, django_capture_on_commit_callbacks
):
    first = services.record_shipping_info(order, **upload_fields(payment))
    ShippingInfo.objects.filter(pk=first.pk).update(state=EventState.FAILED, attempts=10, last_errcode=-1)
    with django_capture_on_commit_callbacks() as callbacks:
        assert services.retry_failed_shipping_info(ShippingInfo.objects.all()) == 1
    assert len(callbacks) == 1  # the worker is nudged once this commits
    first.refresh_from_db()
    assert (first.state, first.attempts) == (EventState.PENDING, 0)

    ShippingInfo.objects.filter(pk=first.pk).update(state=EventState.FAILED, last_errcode=10060031)
    again = services.record_shipping_info(order, **upload_fields(payment))  # put right
    assert services.retry_failed_shipping_info(ShippingInfo.objects.all()) == 0
    first.refresh_from_db()
    assert first.state == EventState.FAILED  # WeChat takes the upload once: `again` is it
    assert again.state == EventState.PENDING

"""Parcels registered with WeChat's tracking component on the same status change as their upload
(``TRACK_WAYBILLS``): recorded behind the upload on the payment's line, sent after it, the
``waybill_token`` kept for the mini program; the receiver's phone never in a log line."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.test import override_settings

from django_wxlogistics import services
from django_wxlogistics.checks import check_settings
from django_wxlogistics.client import get_client
from django_wxlogistics.enums import EventState, ShippingCall
from django_wxlogistics.models import ShippingInfo
from django_wxlogistics.shipping_orders import trace_fields
from django_wxlogistics.signals import waybill_tracked
from tests.shipping.helpers import deliver_many, upload_fields
from tests.shipping.test_status_changes import ACTIONS, PaidOrder, send

pytestmark = pytest.mark.django_db

PHONE = PaidOrder.receiver_phone  # the orders' receiver, never to be logged
PICTURE = "https://shop.example.com/goods/hub.jpg"
CONFIRMED = 3


@dataclass
class TrackedOrder(PaidOrder):
    """A shop's order as the default adapters read it, with what the tracking component shows."""

    goods_img_url: str = PICTURE
    order_detail_path: str = "pages/orders/detail?number=SO-T1"
    extra: dict[str, Any] = field(default_factory=dict)


@pytest.fixture
def tracking_settings(sandbox, settings):
    settings.WXLOGISTICS = {
        **settings.WXLOGISTICS,
        "SHIPPING_ACTIONS": ACTIONS,
        "ORDER_ID_ATTR": "number",
        "TRACK_WAYBILLS": True,
    }


def _paid(sandbox, number: str = "SO-T1", **attributes: Any) -> TrackedOrder:
    payment = sandbox.create_payment()
    return TrackedOrder(
        number, wechat_transaction_id=payment["transaction_id"], payer_openid=payment["openid"], **attributes
    )


def _no_phone_in(caplog) -> None:
    for record in caplog.records:
        text = record.getMessage() + (record.exc_text or "")
        assert PHONE not in text, f"the receiver's phone is in a log line: {text!r}"


def test_the_default_tracking_adapter_reads_the_order():
    order = TrackedOrder("SO-1")
    parcel = {"tracking_no": "SF1", "express_company": "SF", "item_desc": "微信气泡狗集线器*1"}
    assert trace_fields(order, parcel) == {
        "receiver_phone": PHONE,  # whole: the tracking component takes it so
        "goods_info": {"detail_list": [{"goods_name": "微信气泡狗集线器*1", "goods_img_url": PICTURE}]},
        "order_detail_path": "pages/orders/detail?number=SO-T1",
    }

    class WithGoods:
        receiver_phone = PHONE

        def goods(self) -> list[dict[str, str]]:
            return [{"goods_name": "茶叶", "goods_img_url": PICTURE, "goods_desc": "一盒"}]

    assert trace_fields(WithGoods(), parcel)["goods_info"]["detail_list"] == [
        {"goods_name": "茶叶", "goods_img_url": PICTURE, "goods_desc": "一盒"}
    ]
    assert trace_fields(object(), parcel) == {}  # the checks name what is missing


# The calls of a payment's line go from calling threads, whose connections see committed rows.
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("both_paths")
def test_a_shipped_order_uploads_then_registers_its_parcel_and_keeps_the_token(
    sandbox, tracking_settings, caplog
):
    caplog.set_level(logging.DEBUG, logger="django_wxlogistics")
    tracked: list[dict[str, Any]] = []

    def on_tracked(sender, **kwargs):
        tracked.append(kwargs)

    waybill_tracked.connect(on_tracked)
    try:
        order = _paid(sandbox)
        tid = order.wechat_transaction_id
        with transaction.atomic():
            send(order, "paid", "shipped")
        upload, trace = ShippingInfo.objects.order_by("pk")
        assert (upload.call, trace.call) == (ShippingCall.UPLOAD, ShippingCall.TRACE_WAYBILL)
        assert trace.payment_id == upload.payment_id and trace.order_id == "SO-T1"
        assert trace.state == EventState.PENDING and trace.waybill_token == ""
        assert trace.request == {
            "openid": order.payer_openid,
            "receiver_phone": PHONE,
            "waybill_id": "SF1400000000001",
            "goods_info": {"detail_list": [{"goods_name": "微信气泡狗集线器*1", "goods_img_url": PICTURE}]},
            "trans_id": tid,
            "delivery_id": "SF",
            "order_detail_path": "pages/orders/detail?number=SO-T1",
        }
        assert services.waybill_tokens(order) == []  # not at WeChat yet

        # One nudge for the payment's line: the upload, then the registration behind it.
        assert deliver_many([upload.pk]) == {upload.pk: "sent", trace.pk: "sent"}
    finally:
        waybill_tracked.disconnect(on_tracked)

    calls = [(c["api"], (c["reply"] or {}).get("errcode")) for c in sandbox.payment_calls(tid)]
    assert calls == [("upload_shipping_info", 0), ("trace_waybill", 0)]
    (call,) = sandbox.payment_calls(tid, api="trace_waybill")
    assert call["body"]["receiver_phone"] == PHONE  # WeChat got it whole
    token = call["reply"]["waybill_token"]

    trace.refresh_from_db()
    assert trace.state == EventState.SENT and trace.waybill_token == token
    assert trace.request["receiver_phone"] == "189****1234"  # kept masked once WeChat has it
    (parcel,) = services.waybill_tokens(order)
    assert (parcel.waybill_id, parcel.delivery_id, parcel.waybill_token) == ("SF1400000000001", "SF", token)
    assert parcel.tracked_at == trace.sent_at
    assert token not in repr(parcel)
    assert services.waybill_tokens("SO-T1") == [parcel]
    (signal,) = tracked
    assert signal["waybill_token"] == token and signal["waybill_id"] == "SF1400000000001"
    assert signal["shipping_info"].pk == trace.pk and signal["payment"].pk == upload.payment_id

    # The token is the one WeChat's tracking component knows.
    where = get_client().query_trace(waybill_token=token)
    assert (where.waybill_id, where.delivery_id) == ("SF1400000000001", "SF")
    assert sandbox.tracked_waybill("SF1400000000001")["tokens"] == 1
    _no_phone_in(caplog)


def test_tracking_is_off_by_default(sandbox, settings):
    settings.WXLOGISTICS = {**settings.WXLOGISTICS, "SHIPPING_ACTIONS": ACTIONS, "ORDER_ID_ATTR": "number"}
    order = _paid(sandbox)
    send(order, "paid", "shipped")
    assert list(ShippingInfo.objects.values_list("call", flat=True)) == [ShippingCall.UPLOAD]


def test_only_express_parcels_with_a_tracking_number_are_registered_once(sandbox, tracking_settings):
    order = _paid(sandbox)
    send(order, "paid", "shipped")
    send(order, "shipped", "paid")
    # The one change, keeping the parcel: it is registered already, not again.
    upload = ShippingInfo.objects.get(call=ShippingCall.UPLOAD)
    reupload = services.record_shipping_info(order, reupload=True, **{**upload.request, "upload_time": None})
    assert services.track_parcels(order, reupload) == []
    assert ShippingInfo.objects.filter(call=ShippingCall.TRACE_WAYBILL).count() == 1

    virtual = _paid(sandbox, "SO-T2")
    info = services.record_shipping_info(
        virtual,
        **upload_fields(
            {"transaction_id": virtual.wechat_transaction_id, "openid": virtual.payer_openid},
            logistics_type=3,
            shipping_list=[{"item_desc": "会员卡一年"}],
        ),
    )
    assert services.track_parcels(virtual, info) == []


def test_a_parcel_the_order_cannot_describe_is_logged_and_its_upload_goes_on(
    sandbox, tracking_settings, caplog
):
    order = _paid(sandbox, goods_img_url="")  # no picture of the goods: WeChat needs one
    with transaction.atomic():
        send(order, "paid", "shipped")
    assert list(ShippingInfo.objects.values_list("call", flat=True)) == [ShippingCall.UPLOAD]
    (error,) = [r for r in caplog.records if r.levelno >= logging.ERROR]
    text = error.getMessage()
    assert "waybill tracking of order SO-T1 was NOT recorded" in text
    assert "tracking[SF1400000000001].goods_info" in text
    _no_phone_in(caplog)


# The calls of a payment's line go from calling threads, whose connections see committed rows.
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("both_paths")
def test_a_refused_registration_fails_without_holding_back_the_receipt(sandbox, tracking_settings, caplog):
    sandbox.configure_merchant(confirm_on_reminder=True)
    order = _paid(sandbox)
    send(order, "paid", "shipped")
    send(order, "shipped", "delivered")
    upload, trace, confirm = ShippingInfo.objects.order_by("pk")
    assert [upload.call, trace.call, confirm.call] == [
        ShippingCall.UPLOAD,
        ShippingCall.TRACE_WAYBILL,
        ShippingCall.CONFIRM_RECEIPT,
    ]
    # WeChat's words may echo the request: the client keeps the phone out of them.
    errmsg = f"openid mismatch hint: [receiver_phone {PHONE}]"
    sandbox.set_faults(error_rate=1.0, apis=["trace_waybill"], errcode=9300534, errmsg=errmsg)
    outcomes = deliver_many([upload.pk])
    assert outcomes[upload.pk] == "sent" and outcomes[trace.pk] == "failed"
    trace.refresh_from_db()
    assert (trace.state, trace.last_errcode, trace.waybill_token) == (EventState.FAILED, 9300534, "")
    assert "openid mismatch" in trace.last_errmsg and PHONE not in trace.last_errmsg
    assert trace.request["receiver_phone"] == PHONE  # kept whole for a retry
    # The failed registration does not hold the payment's line: the receipt goes on.
    sandbox.clear_faults()
    deliver_many([confirm.pk])
    confirm.refresh_from_db()
    assert confirm.state == EventState.SENT
    assert sandbox.payment(order.wechat_transaction_id)["order_state"] == CONFIRMED
    assert services.waybill_tokens(order) == []
    # A retry registers it.
    assert services.retry_failed_shipping_info(ShippingInfo.objects.filter(pk=trace.pk)) == 1
    deliver_many([trace.pk])
    (parcel,) = services.waybill_tokens(order)
    assert parcel.waybill_id == "SF1400000000001"
    _no_phone_in(caplog)


def test_record_trace_waybill_follows_an_upload_only(sandbox, payment):
    upload = services.record_shipping_info("SO-T3", **upload_fields(payment))
    trace = services.record_trace_waybill(
        upload,
        receiver_phone=PHONE,
        waybill_id="ZT1234567890",
        delivery_id="ZTO",
        goods_info={"detail_list": [{"goods_name": "茶叶", "goods_img_url": PICTURE}]},
    )
    assert trace.request["openid"] == payment["openid"]
    assert trace.request["trans_id"] == payment["transaction_id"]
    with pytest.raises(ValidationError) as excinfo:
        services.record_trace_waybill(trace, receiver_phone=PHONE)
    assert excinfo.value.error_dict["upload"][0].code == "not_an_upload"
    with pytest.raises(ValidationError) as excinfo:
        services.record_trace_waybill(upload, waybill_no="ZT1")
    assert set(excinfo.value.error_dict) == {"waybill_no"}
    with pytest.raises(ValidationError) as excinfo:
        services.record_trace_waybill(upload, waybill_id="ZT1", goods_info={"detail_list": []})
    assert set(excinfo.value.error_dict) >= {"receiver_phone", "goods_info.detail_list"}
    assert ShippingInfo.objects.filter(call=ShippingCall.TRACE_WAYBILL).count() == 1


def _ids(wxlogistics: dict[str, Any]) -> list[str]:
    base = {"APPID": "wx0123456789abcdef", "APPSECRET": "s3cret"}
    with override_settings(WXLOGISTICS={**base, **wxlogistics}):
        return [m.id for m in check_settings() if m.id and m.id[-3:] in ("007", "091", "092")]


def test_the_tracking_settings_are_checked():
    assert _ids({"SHIPPING_ACTIONS": ACTIONS, "TRACK_WAYBILLS": True}) == []
    assert _ids({"SHIPPING_ACTIONS": ACTIONS, "TRACK_WAYBILLS": "yes"}) == ["wxlogistics.E007"]
    assert _ids({"TRACK_WAYBILLS": True}) == ["wxlogistics.W091"]
    assert _ids({"SHIPPING_ACTIONS": {"delivered": "confirm_receipt"}, "TRACK_WAYBILLS": True}) == [
        "wxlogistics.W091"
    ]
    assert _ids({"TRACKING_ADAPTER": "shop.nowhere.adapter"}) == ["wxlogistics.E092"]
    assert _ids({"TRACKING_ADAPTER": "django_wxlogistics.shipping_orders.trace_fields"}) == []

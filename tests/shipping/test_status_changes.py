"""The shop's order-status signals drive shipping information: ``SHIPPING_ACTIONS``, the adapter
that reads the order, the system checks of both; and a real worker taking a shipped order to
WeChat's "shipped"."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import transaction
from django.test import override_settings

from django_wxlogistics.checks import check_settings
from django_wxlogistics.enums import EventState, ShippingCall
from django_wxlogistics.models import ShippingInfo, TraceEvent
from django_wxlogistics.shipping_orders import shipping_fields
from django_wxlogistics.signals import order_status_changed
from tests.shipping.helpers import deliver_many

pytestmark = pytest.mark.django_db

SHIPPED, CONFIRMED = 2, 3
ACTIONS = {"shipped": "upload", "delivered": "confirm_receipt"}


@dataclass
class PaidOrder:
    """A shop's order as the default adapter reads it (any object with these attributes)."""

    number: str
    wechat_transaction_id: str = ""
    payer_openid: str = ""
    tracking_number: str = "SF1400000000001"
    carrier_code: str = "SF"
    item_desc: str = "微信气泡狗集线器*1"
    receiver_phone: str = "18912341234"


@pytest.fixture
def shipping_settings(sandbox, settings):
    settings.WXLOGISTICS = {**settings.WXLOGISTICS, "SHIPPING_ACTIONS": ACTIONS, "ORDER_ID_ATTR": "number"}


def _paid(sandbox, number: str = "SO-1", **attributes: Any) -> PaidOrder:
    payment = sandbox.create_payment()
    return PaidOrder(
        number, wechat_transaction_id=payment["transaction_id"], payer_openid=payment["openid"], **attributes
    )


def send(order: Any, old_status: str, new_status: str) -> None:
    order_status_changed.send(sender=PaidOrder, order=order, old_status=old_status, new_status=new_status)


def test_the_default_adapter_reads_the_order():
    order = PaidOrder("SO-1", wechat_transaction_id="4200000001", payer_openid="oPayer")
    assert shipping_fields(order) == {
        "order_key": {"order_number_type": 2, "transaction_id": "4200000001"},
        "logistics_type": 1,
        "delivery_mode": 1,
        "shipping_list": [
            {
                "tracking_no": "SF1400000000001",
                "express_company": "SF",
                "item_desc": "微信气泡狗集线器*1",
                "contact": {"receiver_contact": "189****1234"},  # masked, as WeChat takes it
            }
        ],
        "payer": {"openid": "oPayer"},
    }


def test_the_default_adapter_names_a_payment_by_merchant_number_and_calls_methods():
    class Order:
        number = "SO-2"
        wechat_mchid = "1900000109"
        wechat_out_trade_no = "SO2"
        payer_openid = "oPayer"

        def item_desc(self) -> str:
            return "茶叶*1"

    fields = shipping_fields(Order())
    assert fields is not None
    assert fields["order_key"] == {"order_number_type": 1, "mchid": "1900000109", "out_trade_no": "SO2"}
    assert fields["shipping_list"] == [{"item_desc": "茶叶*1"}]


def test_an_order_not_paid_with_wechat_pay_has_nothing_to_upload():
    assert shipping_fields(PaidOrder("SO-3")) is None


def test_shipped_uploads_and_delivered_confirms_receipt(sandbox, shipping_settings, caplog):
    sandbox.configure_merchant(confirm_on_reminder=True)
    order = _paid(sandbox)
    with transaction.atomic():
        send(order, "paid", "shipped")
    (upload,) = ShippingInfo.objects.all()
    assert (upload.call, upload.state, upload.order_id) == (ShippingCall.UPLOAD, EventState.PENDING, "SO-1")
    assert upload.request["shipping_list"][0]["contact"] == {"receiver_contact": "189****1234"}
    send(order, "shipped", "delivered")
    confirm = ShippingInfo.objects.get(call=ShippingCall.CONFIRM_RECEIPT)
    assert confirm.payment_id == upload.payment_id
    assert deliver_many([upload.pk]) == {upload.pk: "sent", confirm.pk: "sent"}
    assert sandbox.payment(order.wechat_transaction_id)["order_state"] == CONFIRMED
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_statuses_not_listed_and_orders_without_a_payment_record_nothing(sandbox, shipping_settings, caplog):
    order = PaidOrder("SO-4")  # paid otherwise: no WeChat Pay attributes
    send(order, "paid", "shipped")
    send(order, "shipped", "delivered")
    send(_paid(sandbox, "SO-5"), "paid", "out_for_delivery")
    assert not ShippingInfo.objects.exists()
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_an_upload_wechat_would_refuse_is_logged_with_its_reasons_and_the_shop_goes_on(
    sandbox, shipping_settings, caplog
):
    order = _paid(sandbox, tracking_number="", receiver_phone="")
    with transaction.atomic():
        send(order, "paid", "shipped")  # SF without a tracking number or a contact
        assert not ShippingInfo.objects.exists()
    (error,) = [r for r in caplog.records if r.levelno >= logging.ERROR]
    text = error.getMessage()
    assert "shipping information of order SO-1" in text and "NOT recorded" in text
    assert "contact" in text


def test_shipped_twice_does_not_spend_the_one_change(sandbox, shipping_settings, caplog):
    order = _paid(sandbox)
    send(order, "paid", "shipped")
    send(order, "shipped", "paid")
    send(order, "paid", "shipped")
    assert ShippingInfo.objects.count() == 1
    (error,) = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "reupload=True" in error.getMessage()


def test_trace_events_and_shipping_information_come_from_one_status_change(sandbox, settings, waybill):
    settings.WXLOGISTICS = {
        **settings.WXLOGISTICS,
        "SHIPPING_ACTIONS": ACTIONS,
        "STATUS_ACTIONS": {"shipped": 100001},
        "ORDER_ID_ATTR": "number",
    }
    order = _paid(sandbox, waybill.order_id)
    send(order, "paid", "shipped")
    assert TraceEvent.objects.filter(waybill=waybill).count() == 1
    assert ShippingInfo.objects.filter(order_id=waybill.order_id).count() == 1


def custom_adapter(order: Any) -> dict[str, Any]:
    return {
        "order_key": {"order_number_type": 2, "transaction_id": order.payment},
        "logistics_type": 3,
        "delivery_mode": 1,
        "shipping_list": [{"item_desc": "会员卡一年"}],
        "payer": {"openid": order.openid},
    }


def test_an_adapter_of_the_shops_own(sandbox, shipping_settings, settings):
    settings.WXLOGISTICS = {
        **settings.WXLOGISTICS,
        "SHIPPING_ADAPTER": "tests.shipping.test_status_changes.custom_adapter",
    }
    payment = sandbox.create_payment()

    @dataclass
    class Membership:
        number: str
        payment: str
        openid: str

    send(Membership("M-1", payment["transaction_id"], payment["openid"]), "paid", "shipped")
    (info,) = ShippingInfo.objects.all()
    assert info.request["logistics_type"] == 3
    assert deliver_many([info.pk]) == {info.pk: "sent"}
    assert sandbox.payment(payment["transaction_id"])["order_state"] == SHIPPED


def ids(wxlogistics: dict[str, Any]) -> list[str]:
    base = {"APPID": "wx0123456789abcdef", "APPSECRET": "s3cret"}
    with override_settings(WXLOGISTICS={**base, **wxlogistics}):
        return [m.id for m in check_settings() if m.id and "09" in m.id]


def test_e090_shipping_actions_must_map_statuses_to_shipping_calls():
    assert ids({"SHIPPING_ACTIONS": ACTIONS}) == []
    assert ids({"SHIPPING_ACTIONS": [("shipped", "upload")]}) == ["wxlogistics.E090"]
    assert ids({"SHIPPING_ACTIONS": {"shipped": "upload", "delivered": "confirm"}}) == ["wxlogistics.E090"]


def test_e091_the_adapter_must_be_a_function_that_imports():
    assert ids({"SHIPPING_ADAPTER": "tests.shipping.test_status_changes.custom_adapter"}) == []
    assert ids({"SHIPPING_ADAPTER": "shop.nowhere.adapter"}) == ["wxlogistics.E091"]
    assert ids({"SHIPPING_ADAPTER": 42}) == ["wxlogistics.E091"]


def test_w090_receipt_confirmed_but_never_uploaded():
    (message,) = [
        m
        for m in _messages({"SHIPPING_ACTIONS": {"delivered": "confirm_receipt"}})
        if m.id == "wxlogistics.W090"
    ]
    assert '"upload"' in message.hint


def _messages(wxlogistics: dict[str, Any]) -> list[Any]:
    base = {"APPID": "wx0123456789abcdef", "APPSECRET": "s3cret"}
    with override_settings(WXLOGISTICS={**base, **wxlogistics}):
        return list(check_settings())


def test_reading_a_broken_setting_names_it():
    from django_wxlogistics.conf import wx_settings
    from django_wxlogistics.exceptions import ConfigurationError

    with override_settings(WXLOGISTICS={"SHIPPING_ACTIONS": {"shipped": "ship"}}):
        with pytest.raises(ConfigurationError) as excinfo:
            wx_settings.SHIPPING_ACTIONS  # noqa: B018
    assert excinfo.value.setting == "SHIPPING_ACTIONS"

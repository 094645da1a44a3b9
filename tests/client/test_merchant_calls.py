"""The merchant's calls over real HTTP against the sandbox: bodies, answers, WeChat's rules as errors."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from typing import Any

import pytest

from django_wxlogistics import merchant_calls
from django_wxlogistics.client import WeChatLogisticsClient, get_client
from django_wxlogistics.exceptions import (
    AlreadyShipped,
    InvalidRequest,
    InvalidRequestData,
    InvalidShippingData,
    InvalidTraceToken,
    NotShippedYet,
    PayerMismatch,
    PaymentNotShippable,
    PaymentNotYetKnown,
    PermanentError,
    RateLimited,
    ReceiptAlreadyNotified,
    ReceiptOnlyForExpress,
    ReceiptTimeInvalid,
    ReshipChanceUsed,
    ShippingSystemError,
    ShippingUnchanged,
    TrackedWaybillNotFound,
    TrackingOpenidMismatch,
    TransientError,
    WaybillChangesUsed,
    WeChatError,
)
from django_wxlogistics.merchant_answers import Carrier, OrderState, WaybillStatus

pytestmark = pytest.mark.django_db

CST = dt_timezone(timedelta(hours=8))
GOODS = {"detail_list": [{"goods_name": "微信红包抱枕", "goods_img_url": "https://example.com/pillow.png"}]}


def shipping(payment: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    """upload_shipping_info's keywords for a payment: one SF parcel by transaction_id."""
    fields: dict[str, Any] = {
        "order_key": {"order_number_type": 2, "transaction_id": payment["transaction_id"]},
        "logistics_type": 1,
        "delivery_mode": 1,
        "shipping_list": [
            {
                "tracking_no": "SF1234567890",
                "express_company": "SF",
                "item_desc": "微信红包抱枕*1个",
                "contact": {"receiver_contact": "189****1234"},
            }
        ],
        "payer": {"openid": payment["openid"]},
        "upload_time": datetime(2024, 5, 1, 8, 30, tzinfo=CST),
    }
    return {**fields, **overrides}


def later(minutes: int) -> datetime:
    return datetime(2024, 5, 1, 8, 30, tzinfo=CST) + timedelta(minutes=minutes)


# -- shipping information -------------------------------------------------------------------------


def test_upload_shipping_info_sends_the_documented_body(client: WeChatLogisticsClient, sandbox: Any) -> None:
    payment = sandbox.create_payment()
    answer = client.upload_shipping_info(**shipping(payment))

    assert answer["errcode"] == 0
    [call] = sandbox.payment_calls(payment["transaction_id"], api="upload_shipping_info")
    assert call["body"] == {
        "order_key": {"order_number_type": 2, "transaction_id": payment["transaction_id"]},
        "logistics_type": 1,
        "delivery_mode": 1,
        "shipping_list": [
            {
                "tracking_no": "SF1234567890",
                "express_company": "SF",
                "item_desc": "微信红包抱枕*1个",
                "contact": {"receiver_contact": "189****1234"},
            }
        ],
        "upload_time": "2024-05-01T08:30:00.000+08:00",
        "payer": {"openid": payment["openid"]},
    }
    assert sandbox.payment(payment["transaction_id"])["order_state"] == OrderState.SHIPPED


def test_upload_by_merchant_number(client: WeChatLogisticsClient, sandbox: Any) -> None:
    payment = sandbox.create_payment(mchid="1900000109", out_trade_no="SO2024050101")
    key = {"order_number_type": 1, "mchid": "1900000109", "out_trade_no": "SO2024050101"}
    client.upload_shipping_info(**shipping(payment, order_key=key))
    assert sandbox.payment(payment["transaction_id"])["order_state"] == OrderState.SHIPPED


def test_bad_fields_are_refused_before_any_call(client: WeChatLogisticsClient, sandbox: Any) -> None:
    payment = sandbox.create_payment()
    parcel = {"tracking_no": "SF1", "express_company": "SF", "item_desc": "抱枕",
              "contact": {"receiver_contact": "18912341234"}}  # fmt: skip
    with pytest.raises(InvalidRequestData) as info:
        client.upload_shipping_info(
            **shipping(payment, shipping_list=[parcel], upload_time=datetime(2024, 5, 1, 8, 30))
        )
    error = info.value
    assert set(error.fields) == {"shipping_list[0].contact.receiver_contact", "upload_time"}
    assert "189****1234" in error.fields["shipping_list[0].contact.receiver_contact"][0]
    assert error.api == "upload_shipping_info" and isinstance(error, ValueError)
    assert "Nothing was sent to WeChat" in str(error) and "upload_time:" in str(error)
    with pytest.raises(InvalidRequestData) as info:
        client.notify_confirm_receive(transaction_id=payment["transaction_id"], received_time=1714523400000)
    assert "milliseconds" in info.value.fields["received_time"][0]
    assert sandbox.payment_calls(payment["transaction_id"]) == []


def test_a_payment_wechat_does_not_know_yet_is_transient(client: WeChatLogisticsClient, sandbox: Any) -> None:
    sandbox.stop_clock()
    payment = sandbox.create_payment(unknown_for=10)
    with pytest.raises(PaymentNotYetKnown) as info:
        client.upload_shipping_info(**shipping(payment))
    error = info.value
    assert error.errcode == 10060001 and error.retryable and isinstance(error, TransientError)
    assert error.early_retries == (10.0, 60.0)
    assert "Retry in a few seconds" in str(error)

    sandbox.advance_clock(10)
    client.upload_shipping_info(**shipping(payment))
    assert sandbox.payment(payment["transaction_id"])["order_state"] == OrderState.SHIPPED


def test_one_reship_then_no_more(client: WeChatLogisticsClient, sandbox: Any) -> None:
    payment = sandbox.create_payment()
    client.upload_shipping_info(**shipping(payment))
    with pytest.raises(ShippingUnchanged) as unchanged:
        client.upload_shipping_info(**shipping(payment, upload_time=later(1)))
    assert unchanged.value.errcode == 10060023 and not unchanged.value.retryable

    def parcel(tracking_no: str) -> list[dict[str, Any]]:
        return [{"tracking_no": tracking_no, "express_company": "ZTO", "item_desc": "微信红包抱枕*1个"}]

    client.upload_shipping_info(**shipping(payment, shipping_list=parcel("ZTO1"), upload_time=later(2)))
    assert sandbox.payment(payment["transaction_id"])["reshipped"] is True
    with pytest.raises(ReshipChanceUsed) as info:
        client.upload_shipping_info(**shipping(payment, shipping_list=parcel("ZTO2"), upload_time=later(3)))
    assert info.value.errcode == 10060003
    assert "one chance to re-ship is used" in str(info.value)


def test_a_refunded_payment_cannot_be_shipped(client: WeChatLogisticsClient, sandbox: Any) -> None:
    payment = sandbox.create_payment()
    sandbox.refund_payment(payment["transaction_id"])
    with pytest.raises(PaymentNotShippable) as info:
        client.upload_shipping_info(**shipping(payment))
    assert info.value.errcode == 10060004 and "order_state (5 is refunded)" in str(info.value)


def test_the_payer_must_be_the_one_who_paid(client: WeChatLogisticsClient, sandbox: Any) -> None:
    payment = sandbox.create_payment()
    with pytest.raises(PayerMismatch) as info:
        client.upload_shipping_info(**shipping(payment, payer={"openid": "oSomeoneElse"}))
    assert info.value.errcode == 10060031


def test_combined_shipping(client: WeChatLogisticsClient, sandbox: Any) -> None:
    combined = sandbox.create_payment(sub_payments=[{}, {}])
    subs = [sandbox.payment(tid) for tid in combined["sub_payments"]]
    parcel = {"tracking_no": "YT1", "express_company": "YTO", "item_desc": "茶叶*1"}
    client.upload_combined_shipping_info(
        order_key={"order_number_type": 2, "transaction_id": combined["transaction_id"]},
        sub_orders=[
            {
                "order_key": {"order_number_type": 2, "transaction_id": sub["transaction_id"]},
                "logistics_type": 1,
                "delivery_mode": 1,
                "shipping_list": [parcel],
            }
            for sub in subs
        ],
        payer={"openid": combined["openid"]},
    )
    assert [sandbox.payment(s["transaction_id"])["order_state"] for s in subs] == [2, 2]
    assert sandbox.payment(combined["transaction_id"])["order_state"] == 2


# -- receipt --------------------------------------------------------------------------------------


def test_notify_confirm_receive_once_in_seconds(client: WeChatLogisticsClient, sandbox: Any) -> None:
    payment = sandbox.create_payment()
    tid = payment["transaction_id"]
    with pytest.raises(NotShippedYet):
        client.notify_confirm_receive(transaction_id=tid)
    client.upload_shipping_info(**shipping(payment))
    shipped = sandbox.payment(tid)["shipped_time"]
    with pytest.raises(ReceiptTimeInvalid) as early:
        client.notify_confirm_receive(transaction_id=tid, received_time=shipped - 3600)
    assert early.value.errcode == 10060029 and "not milliseconds" in str(early.value)

    received = datetime.fromtimestamp(shipped, tz=CST)
    assert client.notify_confirm_receive(transaction_id=tid, received_time=received)["errcode"] == 0
    [*_, call] = sandbox.payment_calls(tid, api="notify_confirm_receive")
    assert call["body"] == {"transaction_id": tid, "received_time": shipped}
    with pytest.raises(ReceiptAlreadyNotified) as again:
        client.notify_confirm_receive(merchant_id=payment["mchid"], merchant_trade_no=payment["out_trade_no"])
    assert again.value.errcode == 10060030


def test_receipt_is_for_express_only(client: WeChatLogisticsClient, sandbox: Any) -> None:
    payment = sandbox.create_payment()
    client.upload_shipping_info(
        **shipping(payment, logistics_type=3, shipping_list=[{"item_desc": "话费充值"}])
    )
    with pytest.raises(ReceiptOnlyForExpress) as info:
        client.notify_confirm_receive(transaction_id=payment["transaction_id"])
    assert info.value.errcode == 10060032


# -- what WeChat sees ------------------------------------------------------------------------------


def test_get_order_keeps_states_wechat_has_not_documented(
    client: WeChatLogisticsClient, sandbox: Any
) -> None:
    payment = sandbox.create_payment(amount=2990, description="茶叶*2")
    client.upload_shipping_info(**shipping(payment))
    order = client.get_order(transaction_id=payment["transaction_id"])
    assert (order.transaction_id, order.paid_amount, order.openid) == (
        payment["transaction_id"],
        2990,
        payment["openid"],
    )
    assert order.order_state == OrderState.SHIPPED and isinstance(order.order_state, OrderState)
    assert order.shipping["shipping_list"][0]["tracking_no"] == "SF1234567890"

    for state in (6, 9):
        sandbox.set_payment_state(payment["transaction_id"], state)
        order = client.get_order(merchant_id=payment["mchid"], merchant_trade_no=payment["out_trade_no"])
        assert order.order_state == state
    assert not order.order_state.known and "9" in order.order_state.label


def test_get_order_list_pages(client: WeChatLogisticsClient, sandbox: Any) -> None:
    first, second = sandbox.create_payment(), sandbox.create_payment()
    page = client.get_order_list(page_size=1)
    assert [o.transaction_id for o in page.orders] == [first["transaction_id"]] and page.has_more
    page = client.get_order_list(page_size=1, last_index=page.last_index)
    assert [o.transaction_id for o in page.orders] == [second["transaction_id"]] and not page.has_more
    client.upload_shipping_info(**shipping(second))
    shipped = client.get_order_list(order_state=OrderState.SHIPPED)
    assert [o.transaction_id for o in shipped.orders] == [second["transaction_id"]]


@pytest.mark.wechat_sandbox(merchant={"trade_managed": False, "confirmation_completed": True})
def test_the_account(client: WeChatLogisticsClient, sandbox: Any) -> None:
    assert client.is_trade_managed() is False
    assert client.is_trade_management_confirmation_completed() is True
    client.set_msg_jump_path(path="pages/orders/detail")
    assert sandbox.merchant_config()["msg_jump_path"] == "pages/orders/detail"
    [call] = sandbox.calls(api="is_trade_managed")
    assert call["body"] == {"appid": "wxclienttest00001"}


def test_the_account_needs_an_appid(client: WeChatLogisticsClient, sandbox: Any, settings: Any) -> None:
    settings.WXLOGISTICS = {**settings.WXLOGISTICS, "APPID": None, "ACCESS_TOKEN": "cloud"}
    with pytest.raises(InvalidRequestData) as info:
        get_client().is_trade_managed()
    assert list(info.value.fields) == ["appid"]
    assert sandbox.calls(api="is_trade_managed") == []


# -- the tracking component -------------------------------------------------------------------------


def test_trace_waybill_query_trace_and_update_goods(
    client: WeChatLogisticsClient, sandbox: Any, caplog: pytest.LogCaptureFixture
) -> None:
    payment = sandbox.create_payment()
    token = client.trace_waybill(
        openid=payment["openid"],
        receiver_phone="18912341234",
        waybill_id="SF1234567890",
        goods_info=GOODS,
        trans_id=payment["transaction_id"],
        delivery_id="SF",
        order_detail_path="pages/orders/detail?id=1",
    )
    assert isinstance(token, str) and token
    sandbox.set_waybill_status("SF1234567890", 4)

    trace = client.query_trace(waybill_token=token)
    assert (trace.waybill_id, trace.status, trace.delivery_id, trace.delivery_name) == (
        "SF1234567890",
        4,
        "SF",
        "顺丰速运",
    )
    assert isinstance(trace.status, WaybillStatus) and trace.status.label == "Signed for"
    assert trace.goods == GOODS["detail_list"]

    teapot = {"detail_list": [{"goods_name": "茶壶", "goods_img_url": "https://example.com/teapot.png"}]}
    client.update_waybill_goods(waybill_token=token, goods_info=teapot)
    assert client.query_trace(waybill_token=token).goods == teapot["detail_list"]

    with caplog.at_level(logging.DEBUG), pytest.raises(InvalidTraceToken) as info:
        client.query_trace(waybill_token=token + "x")
    assert info.value.errcode == 9300507 and "trace_waybill returned" in str(info.value)
    assert token not in str(info.value) and token not in caplog.text


def test_get_delivery_list_is_kept_for_a_while(
    client: WeChatLogisticsClient, sandbox: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [1000.0]
    monkeypatch.setattr(merchant_calls, "clock", lambda: now[0])
    carriers = client.get_delivery_list()
    assert Carrier("SF", "顺丰速运") in carriers and Carrier("ZTO", "中通快递") in carriers
    sandbox.add_carrier("XYZ", "某某快递")

    now[0] += merchant_calls.CARRIER_LIST_SECONDS - 1
    assert client.get_delivery_list() == carriers
    assert len(sandbox.calls(api="get_delivery_list")) == 1

    now[0] += 1
    assert Carrier("XYZ", "某某快递") in client.get_delivery_list()
    client.get_delivery_list(refresh=True)
    assert len(sandbox.calls(api="get_delivery_list")) == 3


# -- every merchant errcode, from a scripted WeChat -------------------------------------------------

MERCHANT_ERRCODES: list[tuple[int, type[WeChatError]]] = [
    (10060001, PaymentNotYetKnown),
    (10060012, ShippingSystemError),
    (10060019, ShippingSystemError),
    (44990, RateLimited),
    (9300513, RateLimited),
    (10060002, AlreadyShipped),
    (10060003, ReshipChanceUsed),
    (10060004, PaymentNotShippable),
    (10060023, ShippingUnchanged),
    (10060028, NotShippedYet),
    (10060029, ReceiptTimeInvalid),
    (10060030, ReceiptAlreadyNotified),
    (10060031, PayerMismatch),
    (10060032, ReceiptOnlyForExpress),
    *((code, InvalidShippingData) for code in (10060005, 10060006, 10060007, 10060008, 10060009, 10060011)),
    *((code, InvalidShippingData) for code in (10060014, 10060020, 10060024, 10060025, 10060026)),
    *((code, InvalidShippingData) for code in (268485194, 268485195, 268485196, 268485197, 268485216)),
    *((code, InvalidShippingData) for code in (268485224, 268485226, 268485227, 268485228)),
    (47001, InvalidRequest),
    (9300534, TrackingOpenidMismatch),
    (9300559, TrackedWaybillNotFound),
    (9300560, WaybillChangesUsed),
    (61004, PermanentError),
]


@pytest.mark.parametrize(("errcode", "cls"), MERCHANT_ERRCODES, ids=[str(c) for c, _ in MERCHANT_ERRCODES])
def test_each_merchant_errcode_raises_its_class(scripted: Any, errcode: int, cls: type[WeChatError]) -> None:
    scripted.reply((200, {"errcode": errcode, "errmsg": "微信的话"}))
    with pytest.raises(WeChatError) as info:
        get_client().get_order(transaction_id="4200001234")
    error = info.value
    assert type(error) is cls and error.errcode == errcode and error.api == "get_order"
    assert error.retryable is issubclass(cls, TransientError)
    assert error.summary in str(error) and "微信的话" in str(error)
    if cls not in (InvalidRequest, PermanentError):
        assert error.advice and error.advice in str(error)
    calls = [r["path"] for r in scripted.requests if not r["path"].endswith("token")]
    assert calls == ["/wxa/sec/order/get_order"]  # the client itself never repeats them

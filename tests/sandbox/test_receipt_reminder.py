"""notify_confirm_receive over real HTTP: once per payment, express only, a receipt time in seconds
between the shipping and now; and the states a payment goes through after it."""

from __future__ import annotations

import pytest

from django_wxlogistics.sandbox import SandboxControlError

from .conftest import WeChatCaller
from .shipping_helpers import GET_ORDER, NOTIFY, UPLOAD, package, upload_body


@pytest.fixture
def shipped(wechat: WeChatCaller, wechat_sandbox):
    """A payment shipped by express; the sandbox's clock stopped, so that times are exact."""
    wechat_sandbox.stop_clock()
    payment = wechat_sandbox.create_payment()
    assert wechat.post(UPLOAD, upload_body(payment)).json()["errcode"] == 0
    return wechat_sandbox.payment(payment["transaction_id"])


def remind(wechat: WeChatCaller, payment, received_time, **keys) -> dict:
    ref = keys or {"transaction_id": payment["transaction_id"]}
    return wechat.post(NOTIFY, {**ref, "received_time": received_time}).json()


def test_the_reminder_is_recorded_with_its_time(wechat: WeChatCaller, wechat_sandbox, shipped):
    received = shipped["shipped_time"]
    assert remind(wechat, shipped, received) == {"errcode": 0, "errmsg": "ok"}
    recorded = wechat_sandbox.payment(shipped["transaction_id"])
    assert recorded["received_time"] == received and recorded["reminded_at"] is not None
    assert recorded["order_state"] == 2  # a reminder; the payer confirms


def test_the_reminder_by_merchant_number(wechat: WeChatCaller, shipped):
    keys = {"merchant_id": shipped["mchid"], "merchant_trade_no": shipped["out_trade_no"]}
    assert remind(wechat, shipped, shipped["shipped_time"], **keys)["errcode"] == 0


def test_only_once(wechat: WeChatCaller, shipped):
    assert remind(wechat, shipped, shipped["shipped_time"])["errcode"] == 0
    reply = remind(wechat, shipped, shipped["shipped_time"] + 1)
    assert reply["errcode"] == 10060030
    assert reply["errmsg"].startswith("支付单已使用提醒收货机会")


def test_milliseconds_are_refused_with_a_message_saying_so(wechat: WeChatCaller, wechat_sandbox, shipped):
    reply = remind(wechat, shipped, shipped["shipped_time"] * 1000)
    assert reply["errcode"] == 10060029
    assert reply["errmsg"].startswith("签收时间非法") and "milliseconds" in reply["errmsg"]
    assert wechat_sandbox.payment(shipped["transaction_id"])["reminded_at"] is None  # the chance is kept


def test_a_time_before_the_shipping_is_refused(wechat: WeChatCaller, shipped):
    reply = remind(wechat, shipped, shipped["shipped_time"] - 1)
    assert reply["errcode"] == 10060029 and "before the parcel shipped" in reply["errmsg"]
    assert remind(wechat, shipped, 0)["errcode"] == 10060029


def test_a_time_in_the_future_is_refused(wechat: WeChatCaller, wechat_sandbox, shipped):
    hour_later = shipped["shipped_time"] + 3600
    reply = remind(wechat, shipped, hour_later)
    assert reply["errcode"] == 10060029 and "in the future" in reply["errmsg"]
    wechat_sandbox.advance_clock(3600)
    assert remind(wechat, shipped, hour_later)["errcode"] == 0


def test_a_minute_of_clock_skew_is_allowed(wechat: WeChatCaller, shipped):
    assert remind(wechat, shipped, shipped["shipped_time"] + 60)["errcode"] == 0


@pytest.mark.parametrize("received_time", ["1700000000", 1700000000.5, True, None])
def test_received_time_must_be_a_whole_number(wechat: WeChatCaller, shipped, received_time):
    assert remind(wechat, shipped, received_time)["errcode"] == 47001


def test_a_payment_must_be_named(wechat: WeChatCaller):
    reply = wechat.post(NOTIFY, {"merchant_id": "1900000109", "received_time": 1700000000}).json()
    assert reply["errcode"] == 47001


def test_an_unknown_payment_gets_10060001(wechat: WeChatCaller, wechat_sandbox):
    paid = wechat_sandbox.create_payment(unknown_for=60)
    assert remind(wechat, paid, 1700000000)["errcode"] == 10060001
    assert (
        remind(wechat, {"transaction_id": "4200000000000000000000000000"}, 1700000000)["errcode"] == 10060001
    )


@pytest.mark.parametrize("action", ["none", "refund"])
def test_a_payment_not_shipped_gets_10060028(wechat: WeChatCaller, wechat_sandbox, action):
    paid = wechat_sandbox.create_payment()
    if action == "refund":
        wechat_sandbox.refund_payment(paid["transaction_id"])
    reply = remind(wechat, paid, paid["pay_time"])
    assert reply["errcode"] == 10060028
    assert reply["errmsg"].startswith("支付单不是已发货状态")


@pytest.mark.parametrize("logistics_type", [2, 3, 4])
def test_only_express_can_be_reminded(wechat: WeChatCaller, wechat_sandbox, logistics_type):
    paid = wechat_sandbox.create_payment()
    body = upload_body(paid, logistics_type=logistics_type, shipping_list=[{"item_desc": "会员卡 1 年"}])
    assert wechat.post(UPLOAD, body).json()["errcode"] == 0
    reply = remind(wechat, paid, wechat_sandbox.payment(paid["transaction_id"])["shipped_time"])
    assert reply["errcode"] == 10060032


def test_the_payer_confirms_then_wechat_settles(wechat: WeChatCaller, wechat_sandbox, shipped):
    tid = shipped["transaction_id"]
    with pytest.raises(SandboxControlError, match="not confirmed"):
        wechat_sandbox.settle_payment(tid)
    assert wechat_sandbox.payer_confirm_receipt(tid)["order_state"] == 3
    assert wechat.post(GET_ORDER, {"transaction_id": tid}).json()["order"]["order_state"] == 3
    assert remind(wechat, shipped, shipped["shipped_time"])["errcode"] == 10060028
    settled = wechat_sandbox.settle_payment(tid)
    assert settled["order_state"] == 4 and settled["settlement_time"] is not None
    with pytest.raises(SandboxControlError, match="not shipped"):
        wechat_sandbox.payer_confirm_receipt(wechat_sandbox.create_payment()["transaction_id"])


def test_the_payer_may_confirm_when_reminded(wechat: WeChatCaller, wechat_sandbox, shipped):
    assert wechat_sandbox.configure_merchant(confirm_on_reminder=True)["confirm_on_reminder"] is True
    assert remind(wechat, shipped, shipped["shipped_time"])["errcode"] == 0
    assert wechat_sandbox.payment(shipped["transaction_id"])["order_state"] == 3


@pytest.mark.parametrize("state", [6, 7, 42])
def test_get_order_answers_any_state_as_it_is(wechat: WeChatCaller, wechat_sandbox, shipped, state):
    wechat_sandbox.set_payment_state(shipped["transaction_id"], state)
    order = wechat.post(GET_ORDER, {"transaction_id": shipped["transaction_id"]}).json()["order"]
    assert order["order_state"] == state


def test_a_reship_after_the_reminder_is_still_allowed(wechat: WeChatCaller, shipped):
    assert remind(wechat, shipped, shipped["shipped_time"])["errcode"] == 0
    again = upload_body(
        shipped, shipping_list=[package(tracking_no="ZT2")], upload_time="2026-01-01T11:00:00+08:00"
    )
    assert wechat.post(UPLOAD, again).json()["errcode"] == 0

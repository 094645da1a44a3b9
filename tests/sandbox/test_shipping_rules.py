"""WeChat's rules for shipping information over real HTTP: the payer, the one re-ship, refunds,
payments not known yet, the order's state as get_order shows it, combined payments."""

from __future__ import annotations

import threading

import pytest

from django_wxlogistics.sandbox import SandboxControlError

from .conftest import WeChatCaller
from .shipping_helpers import GET_ORDER, UPLOAD, UPLOAD_COMBINED, package, upload_body, upload_time


@pytest.fixture
def payment(wechat_sandbox):
    return wechat_sandbox.create_payment(amount=2990, description="茶叶*2")


def errcode(wechat: WeChatCaller, body) -> int:
    return wechat.post(UPLOAD, body).json()["errcode"]


def test_an_upload_ships_the_payment_as_get_order_shows(wechat: WeChatCaller, wechat_sandbox, payment):
    assert wechat.post(UPLOAD, upload_body(payment)).json() == {"errcode": 0, "errmsg": "ok"}
    order = wechat.post(GET_ORDER, {"transaction_id": payment["transaction_id"]}).json()
    assert order["errcode"] == 0
    assert order["order"] == {
        "transaction_id": payment["transaction_id"],
        "merchant_id": payment["mchid"],
        "sub_merchant_id": "",
        "merchant_trade_no": payment["out_trade_no"],
        "description": "茶叶*2",
        "paid_amount": 2990,
        "openid": payment["openid"],
        "trade_create_time": payment["pay_time"],
        "pay_time": payment["pay_time"],
        "order_state": 2,
        "in_complaint": False,
        "shipping": {
            "delivery_mode": 1,
            "logistics_type": 1,
            "finish_shipping": True,
            "goods_desc": "",
            "finish_shipping_count": 1,
            "shipping_list": [
                {
                    "tracking_no": "ZT1234567890",
                    "express_company": "ZTO",
                    "goods_desc": "微信气泡狗集线器*1",
                    "upload_time": 1767232800,  # 2026-01-01T10:00:00+08:00, in seconds
                }
            ],
        },
    }
    recorded = wechat_sandbox.payment(payment["transaction_id"])
    assert (recorded["order_state"], recorded["uploads"], recorded["reshipped"]) == (2, 1, False)


def test_get_order_of_a_payment_not_shipped_has_an_empty_shipping(wechat: WeChatCaller, payment):
    order = wechat.post(GET_ORDER, {"transaction_id": payment["transaction_id"]}).json()["order"]
    assert (order["order_state"], order["shipping"]) == (1, {})


def test_the_order_key_by_merchant_number(wechat: WeChatCaller, wechat_sandbox, payment):
    key = {"order_number_type": 1, "mchid": payment["mchid"], "out_trade_no": payment["out_trade_no"]}
    assert errcode(wechat, upload_body(payment, order_key={**key, "mchid": "1900000999"})) == 10060001
    assert errcode(wechat, upload_body(payment, order_key=key)) == 0
    by_merchant = {"merchant_id": payment["mchid"], "merchant_trade_no": payment["out_trade_no"]}
    assert wechat.post(GET_ORDER, by_merchant).json()["order"]["order_state"] == 2


def test_a_sub_merchants_payment_is_named_by_the_sub_merchant(wechat: WeChatCaller, wechat_sandbox):
    paid = wechat_sandbox.create_payment(mchid="1900000100", sub_mchid="1900000200")
    key = {"order_number_type": 1, "out_trade_no": paid["out_trade_no"]}
    assert errcode(wechat, upload_body(paid, order_key={**key, "mchid": "1900000100"})) == 10060001
    assert errcode(wechat, upload_body(paid, order_key={**key, "mchid": "1900000200"})) == 0
    ref = {
        "merchant_id": "1900000100",
        "sub_merchant_id": "1900000200",
        "merchant_trade_no": paid["out_trade_no"],
    }
    assert wechat.post(GET_ORDER, ref).json()["order"]["sub_merchant_id"] == "1900000200"


def test_another_payers_openid_gets_10060031(wechat: WeChatCaller, wechat_sandbox, payment):
    reply = wechat.post(UPLOAD, upload_body(payment, payer={"openid": "oSomeoneElse"})).json()
    assert reply["errcode"] == 10060031
    assert reply["errmsg"].startswith("该笔支付单不属于 openid 所指定的用户")
    assert wechat_sandbox.payment(payment["transaction_id"])["order_state"] == 1


def test_the_same_upload_again_changes_nothing_and_keeps_the_reship(
    wechat: WeChatCaller, wechat_sandbox, payment
):
    body = upload_body(payment)
    assert errcode(wechat, body) == 0
    # A reply lost on the way and the same body sent again: WeChat has it already.
    reply = wechat.post(UPLOAD, body).json()
    assert reply["errcode"] == 10060023
    assert reply["errmsg"].startswith("发货信息未更新")
    assert errcode(wechat, upload_body(payment, upload_time=upload_time(60))) == 10060023
    recorded = wechat_sandbox.payment(payment["transaction_id"])
    assert (recorded["uploads"], recorded["reshipped"]) == (1, False)
    changed = upload_body(payment, shipping_list=[package(tracking_no="ZT999")], upload_time=upload_time(60))
    assert errcode(wechat, changed) == 0


def test_one_reship_then_10060003(wechat: WeChatCaller, wechat_sandbox, payment):
    assert errcode(wechat, upload_body(payment)) == 0
    second = upload_body(payment, shipping_list=[package(tracking_no="ZT2")], upload_time=upload_time(60))
    assert errcode(wechat, second) == 0
    recorded = wechat_sandbox.payment(payment["transaction_id"])
    assert (recorded["reshipped"], recorded["finish_shipping_count"]) == (True, 2)
    third = upload_body(payment, shipping_list=[package(tracking_no="ZT3")], upload_time=upload_time(120))
    reply = wechat.post(UPLOAD, third).json()
    assert reply["errcode"] == 10060003
    assert reply["errmsg"].startswith("支付单已使用重新发货机会")
    assert (
        wechat_sandbox.payment(payment["transaction_id"])["shipping"]["shipping_list"][0]["tracking_no"]
        == "ZT2"
    )


def test_an_older_upload_time_does_not_change_what_is_recorded(wechat: WeChatCaller, wechat_sandbox, payment):
    assert errcode(wechat, upload_body(payment, upload_time=upload_time(60))) == 0
    older = upload_body(payment, shipping_list=[package(tracking_no="ZT2")], upload_time=upload_time(0))
    reply = wechat.post(UPLOAD, older).json()
    assert reply["errcode"] == 10060023 and "upload_time must be later" in reply["errmsg"]
    assert wechat_sandbox.payment(payment["transaction_id"])["reshipped"] is False


def test_split_delivery_in_steps_is_no_reship_until_finished(wechat: WeChatCaller, wechat_sandbox, payment):
    first = upload_body(payment, delivery_mode=2, is_all_delivered=False, shipping_list=[package()])
    assert errcode(wechat, first) == 0
    assert wechat_sandbox.payment(payment["transaction_id"])["order_state"] == 1
    both = [package(), package(tracking_no="ZT2")]
    done = upload_body(
        payment, delivery_mode=2, is_all_delivered=True, shipping_list=both, upload_time=upload_time(60)
    )
    assert errcode(wechat, done) == 0
    recorded = wechat_sandbox.payment(payment["transaction_id"])
    assert (recorded["order_state"], recorded["reshipped"], recorded["finish_shipping_count"]) == (
        2,
        False,
        1,
    )


def test_changing_the_delivery_mode_spends_the_reship(wechat: WeChatCaller, wechat_sandbox, payment):
    first = upload_body(payment, delivery_mode=2, is_all_delivered=False)
    assert errcode(wechat, first) == 0
    assert errcode(wechat, upload_body(payment, upload_time=upload_time(60))) == 0
    assert wechat_sandbox.payment(payment["transaction_id"])["reshipped"] is True
    later = upload_body(payment, shipping_list=[package(tracking_no="ZT3")], upload_time=upload_time(120))
    assert errcode(wechat, later) == 10060003


@pytest.mark.parametrize("state", [3, 4, 5, 6])
def test_a_payment_past_shipping_gets_10060004(wechat: WeChatCaller, wechat_sandbox, payment, state):
    wechat_sandbox.set_payment_state(payment["transaction_id"], state)
    reply = wechat.post(UPLOAD, upload_body(payment)).json()
    assert reply["errcode"] == 10060004
    assert reply["errmsg"].startswith("支付单处于不可发货的状态")


def test_a_refund_stops_shipping(wechat: WeChatCaller, wechat_sandbox, payment):
    refunded = wechat_sandbox.refund_payment(payment["transaction_id"])
    assert refunded["order_state"] == 5 and refunded["refunded_at"] is not None
    reply = wechat.post(UPLOAD, upload_body(payment)).json()
    assert reply["errcode"] == 10060004 and "refunded" in reply["errmsg"]


def test_a_payment_stays_unknown_until_the_clock_passes(wechat: WeChatCaller, wechat_sandbox):
    wechat_sandbox.stop_clock()
    paid = wechat_sandbox.create_payment(unknown_for=10)
    assert paid["known"] is False and paid["known_in"] == 10
    assert errcode(wechat, upload_body(paid)) == 10060001
    assert wechat.post(GET_ORDER, {"transaction_id": paid["transaction_id"]}).json()["errcode"] == 10060001
    wechat_sandbox.advance_clock(9)
    assert errcode(wechat, upload_body(paid)) == 10060001
    wechat_sandbox.advance_clock(1)
    assert errcode(wechat, upload_body(paid)) == 0
    assert wechat_sandbox.payment(paid["transaction_id"])["known"] is True


def test_a_known_payment_can_be_made_unknown_again(wechat: WeChatCaller, wechat_sandbox, payment):
    wechat_sandbox.stop_clock()
    assert wechat_sandbox.set_payment_unknown(payment["transaction_id"], 30)["known"] is False
    assert errcode(wechat, upload_body(payment)) == 10060001
    wechat_sandbox.advance_clock(30)
    assert errcode(wechat, upload_body(payment)) == 0


def test_concurrent_uploads_record_one_and_spend_no_reship(wechat_sandbox, payment):
    body = upload_body(payment)
    answers: list[int] = []

    def upload() -> None:
        caller = WeChatCaller(wechat_sandbox.url)
        answers.append(caller.post(UPLOAD, body).json()["errcode"])
        caller.session.close()

    threads = [threading.Thread(target=upload) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [0] + [10060023] * 7
    recorded = wechat_sandbox.payment(payment["transaction_id"])
    assert (recorded["uploads"], recorded["reshipped"]) == (1, False)


def test_a_combined_payment_ships_all_its_sub_orders_or_none(wechat: WeChatCaller, wechat_sandbox):
    parent = wechat_sandbox.create_payment(sub_payments=[{"amount": 100}, {"amount": 200}])
    first, second = parent["sub_payments"]
    stranger = wechat_sandbox.create_payment()

    def sub(tid: str, **fields):
        return {
            "order_key": {"order_number_type": 2, "transaction_id": tid},
            "logistics_type": 1,
            "delivery_mode": 1,
            "shipping_list": [package(tracking_no=f"ZT{tid[-4:]}")],
            **fields,
        }

    body = {
        "order_key": {"order_number_type": 2, "transaction_id": parent["transaction_id"]},
        "sub_orders": [sub(first), sub(stranger["transaction_id"])],
        "upload_time": upload_time(),
        "payer": {"openid": parent["openid"]},
    }
    reply = wechat.post(UPLOAD_COMBINED, body).json()
    assert reply["errcode"] == 10060001 and "sub_orders[1]" in reply["errmsg"]
    assert wechat_sandbox.payment(first)["order_state"] == 1  # nothing recorded
    body["sub_orders"] = [sub(first), sub(second)]
    assert wechat.post(UPLOAD_COMBINED, {**body, "payer": {"openid": "oOther"}}).json()["errcode"] == 10060031
    assert wechat.post(UPLOAD_COMBINED, body).json() == {"errcode": 0, "errmsg": "ok"}
    assert [wechat_sandbox.payment(t)["order_state"] for t in (first, second)] == [2, 2]
    assert wechat_sandbox.payment(parent["transaction_id"])["order_state"] == 2
    assert wechat_sandbox.payment(first)["openid"] == parent["openid"]


def test_payments_are_unique_by_either_key(wechat_sandbox, payment):
    with pytest.raises(SandboxControlError, match="409"):
        wechat_sandbox.create_payment(payment["transaction_id"])
    with pytest.raises(SandboxControlError, match="out_trade_no"):
        wechat_sandbox.create_payment(mchid=payment["mchid"], out_trade_no=payment["out_trade_no"])

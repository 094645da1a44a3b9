"""get_order_list's filters and pages, set_msg_jump_path and the account's two questions
(is_trade_managed, is_trade_management_confirmation_completed), over real HTTP."""

from __future__ import annotations

import pytest

from django_wxlogistics.sandbox import SandboxServer

from .conftest import WeChatCaller
from .shipping_helpers import GET_ORDER_LIST, IS_CONFIRMED, IS_TRADE_MANAGED, JUMP_PATH, UPLOAD, upload_body


def listed(wechat: WeChatCaller, **body) -> dict:
    reply = wechat.post(GET_ORDER_LIST, body).json()
    assert reply["errcode"] == 0, reply
    return reply


def ids(reply: dict) -> list[str]:
    return [o["transaction_id"] for o in reply["order_list"]]


def test_every_known_payment_in_the_order_paid(wechat: WeChatCaller, wechat_sandbox):
    made = [wechat_sandbox.create_payment()["transaction_id"] for _ in range(3)]
    wechat_sandbox.create_payment(unknown_for=60)  # not in WeChat's records yet
    reply = listed(wechat)
    assert ids(reply) == made and reply["has_more"] is False
    assert set(reply["order_list"][0]) >= {"merchant_trade_no", "paid_amount", "order_state", "shipping"}


def test_an_empty_body_lists_too(wechat: WeChatCaller, wechat_sandbox):
    tid = wechat_sandbox.create_payment()["transaction_id"]
    assert ids(wechat.post(GET_ORDER_LIST, b"").json()) == [tid]


def test_pages_follow_last_index(wechat: WeChatCaller, wechat_sandbox):
    made = [wechat_sandbox.create_payment()["transaction_id"] for _ in range(5)]
    first = listed(wechat, page_size=2)
    assert ids(first) == made[:2] and first["has_more"] is True
    second = listed(wechat, page_size=2, last_index=first["last_index"])
    assert ids(second) == made[2:4] and second["has_more"] is True
    third = listed(wechat, page_size=2, last_index=second["last_index"])
    assert ids(third) == made[4:] and third["has_more"] is False


@pytest.mark.parametrize("last_index", ["nonsense", "00000000000000zz", "1"])
def test_a_last_index_not_given_back_gets_10060011(wechat: WeChatCaller, last_index):
    reply = wechat.post(GET_ORDER_LIST, {"last_index": last_index}).json()
    assert reply["errcode"] == 10060011 and reply["errmsg"].startswith("last_index不合法")


def test_filters(wechat: WeChatCaller, wechat_sandbox):
    early = wechat_sandbox.create_payment(pay_time=1700000000, openid="oAlice")
    late = wechat_sandbox.create_payment(pay_time=1800000000, openid="oBob")
    shipped = wechat_sandbox.create_payment(pay_time=1750000000, openid="oAlice")
    assert wechat.post(UPLOAD, upload_body(shipped)).json()["errcode"] == 0
    assert ids(listed(wechat, openid="oAlice")) == [early["transaction_id"], shipped["transaction_id"]]
    assert ids(listed(wechat, order_state=2)) == [shipped["transaction_id"]]
    assert ids(listed(wechat, order_state=1, openid="oAlice")) == [early["transaction_id"]]
    span = {"begin_time": 1750000000, "end_time": 1800000000}
    assert ids(listed(wechat, pay_time_range=span)) == [shipped["transaction_id"], late["transaction_id"]]
    assert ids(listed(wechat, pay_time_range={"end_time": 1700000000})) == [early["transaction_id"]]


@pytest.mark.parametrize(
    "body",
    [
        {"page_size": 0},
        {"page_size": "10"},
        {"order_state": "1"},
        {"openid": 42},
        {"pay_time_range": 1700000000},
        {"pay_time_range": {"begin_time": "1700000000"}},
        [],
    ],
)
def test_mistyped_filters_get_47001(wechat: WeChatCaller, body):
    assert wechat.post(GET_ORDER_LIST, body).json()["errcode"] == 47001


def test_the_message_jump_path_is_kept(wechat: WeChatCaller, wechat_sandbox):
    assert wechat.post(JUMP_PATH, {"path": "pages/order/detail"}).json() == {"errcode": 0, "errmsg": "ok"}
    assert wechat_sandbox.merchant_config()["msg_jump_path"] == "pages/order/detail"
    assert wechat.post(JUMP_PATH, {}).json()["errcode"] == 47001
    assert wechat.post(JUMP_PATH, {"path": 1}).json()["errcode"] == 47001


@pytest.mark.parametrize(
    ("path", "field"), [(IS_TRADE_MANAGED, "is_trade_managed"), (IS_CONFIRMED, "completed")]
)
def test_the_accounts_switches(wechat: WeChatCaller, wechat_sandbox, path, field):
    assert wechat.post(path, {"appid": "wxshop"}).json() == {"errcode": 0, "errmsg": "ok", field: True}
    option = "trade_managed" if field == "is_trade_managed" else "confirmation_completed"
    wechat_sandbox.configure_merchant(**{option: False})
    assert wechat.post(path, {"appid": "wxshop"}).json()[field] is False
    for body in ({}, {"appid": ""}, b""):
        reply = wechat.post(path, body).json()
        assert reply["errcode"] == 40097 and reply["errmsg"].startswith("invalid args")


def test_an_account_asks_about_itself_only():
    with SandboxServer(port=0, appid="wxshop", secret="s3cret") as server:
        caller = WeChatCaller(server.url)
        token = caller.stable_token(appid="wxshop", secret="s3cret")["access_token"]
        assert caller.post(IS_TRADE_MANAGED, {"appid": "wxshop"}, access_token=token).json()["errcode"] == 0
        reply = caller.post(IS_TRADE_MANAGED, {"appid": "wxother"}, access_token=token).json()
        assert reply["errcode"] == 40013
        caller.session.close()

"""WeChat's shipping-information pushes (trade_manage_*) from the sandbox to a shop's message URL over
real HTTP: when shipping completes, when receipt is confirmed, 48 hours unshipped by the sandbox's
clock, and on control calls; signed and encrypted as WeChat does, retried a bounded number of times
until the shop answers success, never holding up the sandbox's answers."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import requests

from django_wxlogistics.sandbox import SandboxControl, SandboxControlError, SandboxServer

from .conftest import WeChatCaller
from .shipping_helpers import NOTIFY, UPLOAD, upload_body, upload_time
from .shop_receiver import AES_KEY, APPID, TOKEN, ShopReceiver

SETTLEMENT = "trade_manage_order_settlement"
REMIND_SHIPPING = "trade_manage_remind_shipping"
REMIND_ACCESS_API = "trade_manage_remind_access_api"
HOURS = 3600
WEEK = 7 * 24 * HOURS
MODES = [("json", "safe"), ("xml", "safe"), ("json", "plain"), ("xml", "plain")]


class MessageURL(ShopReceiver):
    """A mini program's message URL: each push verified (and decrypted) as ShopReceiver does, then
    answered with each of ``replies`` in turn, and ``success`` after them."""

    def __init__(self, replies: list[bytes] | None = None, **options: Any) -> None:
        self.replies = list(replies or [])
        super().__init__(reply_body=self._next_reply, **options)

    def answer(self, fields: dict[str, Any]) -> dict[str, Any]:
        return {}

    def _next_reply(self, fields: dict[str, Any], reply: bytes) -> bytes:
        return self.replies.pop(0) if self.replies else b"success"


def configure(wechat_sandbox, url: str, fmt: str = "json", mode: str = "safe") -> None:
    wechat_sandbox.configure_push(url=url, token=TOKEN, aes_key=AES_KEY, appid=APPID, format=fmt, mode=mode)


@pytest.fixture
def shop(wechat_sandbox):
    receiver = MessageURL()
    configure(wechat_sandbox, receiver.url)
    wechat_sandbox.stop_clock()  # times in the pushes are exact
    yield receiver
    receiver.stop()


def ship(wechat: WeChatCaller, wechat_sandbox, **payment_fields: Any) -> dict[str, Any]:
    payment = wechat_sandbox.create_payment(**payment_fields)
    assert wechat.post(UPLOAD, upload_body(payment)).json() == {"errcode": 0, "errmsg": "ok"}
    return wechat_sandbox.payment(payment["transaction_id"])


@pytest.mark.parametrize(("fmt", "mode"), MODES)
def test_completed_shipping_pushes_the_settlement_with_its_estimate(
    wechat: WeChatCaller, wechat_sandbox, shop, fmt, mode
):
    wechat_sandbox.configure_push(format=fmt, mode=mode)
    shipped = ship(wechat, wechat_sandbox, sub_mchid="1900000110", out_trade_no="SO-TM-1")

    [pushed] = wechat_sandbox.wait_for_trade_pushes()
    [received] = shop.received
    assert received.verdict == "ok" and received.format == fmt
    if mode == "safe":
        assert received.query["encrypt_type"] == "aes" and "msg_signature" in received.query
        assert set(received.envelope) == {"ToUserName", "Encrypt"}
    else:
        assert "encrypt_type" not in received.query and received.envelope["Event"] == SETTLEMENT
    event = received.fields
    assert event["MsgType"] == "event" and event["Event"] == SETTLEMENT
    assert event["ToUserName"].startswith("gh_") and event["FromUserName"]
    text = (lambda v: str(v)) if fmt == "xml" else (lambda v: v)  # XML carries numbers as text
    assert event["transaction_id"] == shipped["transaction_id"]
    assert event["merchant_id"] == shipped["mchid"] and event["sub_merchant_id"] == "1900000110"
    assert event["merchant_trade_no"] == "SO-TM-1"
    assert event["pay_time"] == text(shipped["pay_time"])
    assert event["shipped_time"] == text(shipped["shipped_time"])
    assert event["estimated_settlement_time"] == text(shipped["shipped_time"] + WEEK)
    assert "settlement_time" not in event and "confirm_receive_time" not in event
    assert (pushed["state"], pushed["ok"], pushed["attempts"]) == ("delivered", True, 1)
    assert pushed["error"] is None
    assert pushed["event"] == SETTLEMENT and pushed["transaction_id"] == shipped["transaction_id"]
    assert pushed["tries"][0]["status"] == 200 and pushed["tries"][0]["reply"] == "success"


def test_a_split_shipping_pushes_only_when_all_is_delivered(wechat: WeChatCaller, wechat_sandbox, shop):
    payment = wechat_sandbox.create_payment()
    first = upload_body(payment, delivery_mode=2, is_all_delivered=False)
    assert wechat.post(UPLOAD, first).json()["errcode"] == 0
    assert wechat_sandbox.wait_for_trade_pushes() == []
    wechat_sandbox.advance_clock(60)
    rest = upload_body(payment, delivery_mode=2, is_all_delivered=True, upload_time=upload_time(60))
    assert wechat.post(UPLOAD, rest).json()["errcode"] == 0
    [pushed] = wechat_sandbox.wait_for_trade_pushes()
    shipped = wechat_sandbox.payment(payment["transaction_id"])
    assert pushed["fields"]["shipped_time"] == shipped["shipped_time"] and shipped["order_state"] == 2


def test_the_payers_confirmation_pushes_the_settled_form(wechat: WeChatCaller, wechat_sandbox, shop):
    shipped = ship(wechat, wechat_sandbox)
    wechat_sandbox.advance_clock(2 * 24 * HOURS)
    confirmed = wechat_sandbox.payer_confirm_receipt(shipped["transaction_id"])

    first, settled = wechat_sandbox.wait_for_trade_pushes()
    assert first["fields"]["estimated_settlement_time"] == shipped["shipped_time"] + WEEK
    fields = settled["fields"]
    assert settled["state"] == "delivered" and fields["Event"] == SETTLEMENT
    assert fields["shipped_time"] == shipped["shipped_time"]
    assert fields["confirm_receive_method"] == 2  # by the payer
    assert fields["confirm_receive_time"] == confirmed["confirm_receive_time"]
    assert confirmed["confirm_receive_time"] == shipped["shipped_time"] + 2 * 24 * HOURS
    assert fields["settlement_time"] == confirmed["confirm_receive_time"]
    assert "estimated_settlement_time" not in fields
    assert shop.events(SETTLEMENT)[1]["settlement_time"] == fields["settlement_time"]


@pytest.mark.wechat_sandbox(merchant={"confirm_on_reminder": True})
def test_a_receipt_reminder_the_payer_confirms_pushes_the_settled_form(
    wechat: WeChatCaller, wechat_sandbox, shop
):
    shipped = ship(wechat, wechat_sandbox)
    body = {"transaction_id": shipped["transaction_id"], "received_time": shipped["shipped_time"]}
    assert wechat.post(NOTIFY, body).json()["errcode"] == 0
    pushes = wechat_sandbox.wait_for_trade_pushes()
    assert [p["fields"].get("settlement_time") is not None for p in pushes] == [False, True]
    assert (
        pushes[1]["fields"]["confirm_receive_time"]
        == wechat_sandbox.payment(shipped["transaction_id"])["confirm_receive_time"]
    )


def test_a_reminder_alone_pushes_nothing_more(wechat: WeChatCaller, wechat_sandbox, shop):
    shipped = ship(wechat, wechat_sandbox)
    body = {"transaction_id": shipped["transaction_id"], "received_time": shipped["shipped_time"]}
    assert wechat.post(NOTIFY, body).json()["errcode"] == 0
    assert len(wechat_sandbox.wait_for_trade_pushes()) == 1  # the payer has not confirmed


def test_a_payment_48_hours_unshipped_is_reminded_of_once_when_the_clock_moves(
    wechat: WeChatCaller, wechat_sandbox, shop
):
    waiting = wechat_sandbox.create_payment(out_trade_no="SO-LATE-1")
    shipped = ship(wechat, wechat_sandbox)
    refunded = wechat_sandbox.create_payment()
    wechat_sandbox.refund_payment(refunded["transaction_id"])
    wechat_sandbox.wait_for_trade_pushes()

    wechat_sandbox.advance_clock(48 * HOURS - 1)
    assert wechat_sandbox.wait_for_trade_pushes(timeout=5) == wechat_sandbox.trade_pushes(event=SETTLEMENT)
    assert wechat_sandbox.trade_pushes(event=REMIND_SHIPPING) == []

    wechat_sandbox.advance_clock(1)
    wechat_sandbox.wait_for_trade_pushes()
    [reminder] = wechat_sandbox.trade_pushes(event=REMIND_SHIPPING)
    assert reminder["state"] == "delivered" and reminder["transaction_id"] == waiting["transaction_id"]
    fields = reminder["fields"]
    assert fields["merchant_trade_no"] == "SO-LATE-1" and fields["pay_time"] == waiting["pay_time"]
    assert fields["merchant_id"] == waiting["mchid"] and fields["msg"]
    assert fields["CreateTime"] == waiting["pay_time"] + 48 * HOURS  # the sandbox's clock
    [received] = shop.events(REMIND_SHIPPING)
    assert received["transaction_id"] == waiting["transaction_id"]
    reminded = {p["transaction_id"] for p in wechat_sandbox.trade_pushes(event=REMIND_SHIPPING)}
    assert shipped["transaction_id"] not in reminded

    wechat_sandbox.advance_clock(48 * HOURS)  # once per payment
    assert wechat_sandbox.push_shipping_reminder() == []
    assert len(wechat_sandbox.wait_for_trade_pushes()) == 2


def test_a_payment_paid_long_ago_is_reminded_of_on_a_control_call(wechat_sandbox, shop):
    now = int(wechat_sandbox.payment(wechat_sandbox.create_payment()["transaction_id"])["pay_time"])
    old = wechat_sandbox.create_payment(pay_time=now - 49 * HOURS)
    [queued] = wechat_sandbox.push_shipping_reminder()
    assert queued["transaction_id"] == old["transaction_id"] and queued["state"] == "queued"
    assert wechat_sandbox.wait_for_trade_pushes()[-1]["state"] == "delivered"


def test_control_calls_push_each_event(wechat: WeChatCaller, wechat_sandbox, shop):
    payment = wechat_sandbox.create_payment()
    [reminder] = wechat_sandbox.push_shipping_reminder(payment["transaction_id"])
    access = wechat_sandbox.push_api_access_reminder("请接入发货信息录入接口")
    default_access = wechat_sandbox.push_api_access_reminder()
    with pytest.raises(SandboxControlError, match=r"409 .*no complete shipping"):
        wechat_sandbox.push_order_settlement(payment["transaction_id"])
    assert wechat.post(UPLOAD, upload_body(payment)).json()["errcode"] == 0
    again = wechat_sandbox.push_order_settlement(payment["transaction_id"])
    with pytest.raises(SandboxControlError, match=r"409 .*not awaiting shipment"):
        wechat_sandbox.push_shipping_reminder(payment["transaction_id"])
    with pytest.raises(SandboxControlError, match="404"):
        wechat_sandbox.push_shipping_reminder("4200000000nope")

    pushes = wechat_sandbox.wait_for_trade_pushes()
    assert [p["event"] for p in pushes] == [
        REMIND_SHIPPING,
        REMIND_ACCESS_API,
        REMIND_ACCESS_API,
        SETTLEMENT,
        SETTLEMENT,
    ]
    assert all(p["state"] == "delivered" for p in pushes)
    assert [p["id"] for p in pushes[:3]] == [reminder["id"], access["id"], default_access["id"]]
    assert pushes[4]["id"] == again["id"]
    assert shop.events(REMIND_ACCESS_API)[0]["msg"] == "请接入发货信息录入接口"
    assert shop.events(REMIND_ACCESS_API)[1]["msg"]  # WeChat's own words
    assert "transaction_id" not in shop.events(REMIND_ACCESS_API)[0]
    settlements = wechat_sandbox.trade_pushes(transaction_id=payment["transaction_id"], event=SETTLEMENT)
    assert settlements == pushes[3:]


def test_the_control_api_checks_its_bodies(wechat_sandbox, shop):
    url = f"{wechat_sandbox.url}/__sandbox__/trade_pushes"
    for endpoint, body, words in [
        ("remind_shipping", {"transaction_id": 7}, "transaction_id"),
        ("remind_shipping", {"waybill_id": "x"}, "unknown field"),
        ("order_settlement", {}, "transaction_id"),
        ("remind_access_api", {"msg": ""}, "msg must be"),
        ("wait", {"timeout": 600}, "timeout must be"),
    ]:
        reply = requests.post(f"{url}/{endpoint}", json=body, timeout=5)
        assert reply.status_code == 400 and words in reply.json()["error"], (endpoint, reply.text)


def test_without_a_push_url_nothing_is_pushed(wechat: WeChatCaller, wechat_sandbox):
    wechat_sandbox.configure_push(token=TOKEN, aes_key=AES_KEY, appid=APPID)  # no url
    payment = ship(wechat, wechat_sandbox)
    wechat_sandbox.advance_clock(49 * HOURS)
    assert wechat_sandbox.wait_for_trade_pushes() == []
    for push in (
        lambda: wechat_sandbox.push_api_access_reminder(),
        lambda: wechat_sandbox.push_order_settlement(payment["transaction_id"]),
        lambda: wechat_sandbox.push_shipping_reminder(),
    ):
        with pytest.raises(SandboxControlError, match="400 configure the push first"):
            push()


def test_a_push_is_retried_until_the_shop_answers_success(wechat_sandbox, shop):
    shop.replies = [b"fail", b""]
    wechat_sandbox.push_api_access_reminder()
    [pushed] = wechat_sandbox.wait_for_trade_pushes()
    assert (pushed["state"], pushed["attempts"]) == ("delivered", 3)
    assert [t["ok"] for t in pushed["tries"]] == [False, False, True]
    assert "not 'success'" in pushed["tries"][0]["error"]
    assert len(shop.events(REMIND_ACCESS_API)) == 3


def test_retries_are_bounded(wechat_sandbox, shop):
    shop.replies = [b"fail"] * 10
    wechat_sandbox.push_api_access_reminder()
    [pushed] = wechat_sandbox.wait_for_trade_pushes()
    assert (pushed["state"], pushed["ok"], pushed["attempts"]) == ("failed", False, 4)
    assert "not 'success'" in pushed["error"]
    assert len(shop.received) == 4


def test_a_shop_that_does_not_answer_fails_after_the_retries(wechat_sandbox, shop):
    shop.stop()  # nothing listens on its port any more
    wechat_sandbox.push_api_access_reminder()
    [pushed] = wechat_sandbox.wait_for_trade_pushes()
    assert (pushed["state"], pushed["attempts"]) == ("failed", 4)
    assert pushed["error"].startswith("no reply from the shop") and TOKEN not in str(pushed)


def test_a_push_signed_with_another_token_is_refused_and_retried(wechat_sandbox, shop):
    wechat_sandbox.configure_push(token="not-the-shops-token")
    wechat_sandbox.push_api_access_reminder()
    [pushed] = wechat_sandbox.wait_for_trade_pushes()
    assert (pushed["state"], pushed["attempts"]) == ("failed", 4)
    assert pushed["error"] == "the shop answered HTTP 403"
    assert [r.verdict for r in shop.received] == ["SignatureMismatch"] * 4


def test_the_sandbox_answers_while_a_push_waits_for_the_shop(wechat: WeChatCaller, wechat_sandbox, shop):
    answering = threading.Event()
    shop.before_reply = lambda fields: answering.wait(10)
    try:
        shipped = ship(wechat, wechat_sandbox)  # its upload is answered; the push is on its way
        assert shipped["order_state"] == 2
        [pending] = wechat_sandbox.trade_pushes()
        assert pending["state"] == "queued"
        with pytest.raises(TimeoutError, match="still pending"):
            wechat_sandbox.wait_for_trade_pushes(timeout=0.2)
    finally:
        answering.set()
    assert wechat_sandbox.wait_for_trade_pushes()[0]["state"] == "delivered"


def test_a_reset_forgets_the_pushes(wechat: WeChatCaller, wechat_sandbox, shop):
    ship(wechat, wechat_sandbox)
    wechat_sandbox.wait_for_trade_pushes()
    wechat_sandbox.reset()
    assert wechat_sandbox.trade_pushes() == []
    assert wechat_sandbox.stats()["trade_pushes"] == 0


def test_the_page_shows_the_pushes_and_pushes_from_its_buttons(wechat: WeChatCaller, wechat_sandbox, shop):
    payment = wechat_sandbox.create_payment()
    index = f"{wechat_sandbox.url}/__sandbox__/"
    english = requests.get(index, params={"lang": "en"}, timeout=5).text
    assert "Shipping-information pushes (trade_manage_*)" in english and "No pushes yet" in english
    assert f"/page/trade_pushes/remind_shipping/{payment['transaction_id']}" in english

    page = f"{wechat_sandbox.url}/__sandbox__/page/trade_pushes"
    for path in (f"remind_shipping/{payment['transaction_id']}", "remind_access_api"):
        reply = requests.post(f"{page}/{path}", data={"lang": "en"}, allow_redirects=False, timeout=5)
        assert reply.status_code == 303 and reply.headers["Location"] == "/__sandbox__/?lang=en"
    refused = requests.post(
        f"{page}/remind_access_api",
        data={"lang": "en"},
        headers={"Origin": "https://evil.example"},
        timeout=5,
    )
    assert refused.status_code == 403
    wechat_sandbox.wait_for_trade_pushes()

    english = requests.get(index, params={"lang": "en"}, timeout=5).text
    assert "Shipping reminder" in english and "API access reminder" in english
    assert "The shop answered success" in english and payment["transaction_id"] in english
    chinese = requests.get(index, params={"lang": "zh"}, timeout=5).text
    assert "发货信息管理的消息推送" in chinese and "未发货提醒" in chinese and "商店已答复 success" in chinese

    shipped = requests.post(
        f"{page}/order_settlement/nope", data={"lang": "zh"}, allow_redirects=False, timeout=5
    )
    assert shipped.status_code == 303 and "payment_problem=" in shipped.headers["Location"]


def test_a_server_stopped_and_started_again_still_pushes():
    receiver = MessageURL()
    server = SandboxServer(push={"url": receiver.url, "token": TOKEN, "aes_key": AES_KEY, "appid": APPID})
    try:
        for _ in range(2):
            server.start()
            control = SandboxControl(server.url)
            control.push_api_access_reminder()
            assert control.wait_for_trade_pushes()[-1]["state"] == "delivered"
            control.close()
            server.stop()
        assert len(receiver.events(REMIND_ACCESS_API)) == 2
    finally:
        server.stop()
        receiver.stop()

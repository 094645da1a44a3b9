"""WeChat's shipping-information pushes (trade_manage_*), in XML and JSON, plain and safe mode:
answered "success", stored, and sent on as signals with the payment they name."""

from __future__ import annotations

import datetime

import pytest

from django_wxlogistics.enums import PushVerdict
from django_wxlogistics.events.trade_management import TradeNotice
from django_wxlogistics.models import InboundEvent, Payment
from django_wxlogistics.signals import wechat_shipping_reminder
from tests.events.pushes import event

pytestmark = pytest.mark.django_db
MODES = pytest.mark.parametrize(
    ("fmt", "safe"), [("xml", True), ("json", True), ("xml", False), ("json", False)], ids=str
)

ENVELOPE = {
    "ToUserName": "gh_abcdefg",
    "FromUserName": "o9AgO5Kd5ggOC-bXrbNODIiE3bGY",
    "CreateTime": 1680503031,
    "MsgType": "event",
}
#: The push when shipping completed, as WeChat's page shows it.
SETTLEMENT_SHIPPED = {
    **ENVELOPE,
    "Event": "trade_manage_order_settlement",
    "transaction_id": "4323400972202304033788294222",
    "merchant_id": "1230000109",
    "sub_merchant_id": "",
    "merchant_trade_no": "123456789",
    "pay_time": 1680502865,
    "shipped_time": 1680503030,
    "estimated_settlement_time": 1681107830,
}
#: The push when the funds were settled.
SETTLEMENT_SETTLED = {
    **SETTLEMENT_SHIPPED,
    "estimated_settlement_time": 0,
    "confirm_receive_method": 1,
    "confirm_receive_time": 1680590000,
    "settlement_time": 1680600000,
}
REMIND_SHIPPING = {
    **ENVELOPE,
    "Event": "trade_manage_remind_shipping",
    "transaction_id": "",
    "merchant_id": "1230000109",
    "sub_merchant_id": "",
    "merchant_trade_no": "SO-77",
    "pay_time": 1680331865,
    "msg": "您的小程序有一笔订单超过48小时未发货",
}
REMIND_ACCESS_API = {
    **ENVELOPE,
    "Event": "trade_manage_remind_access_api",
    "msg": "请尽快完成发货信息录入接口的接入",
}


def at(seconds: int) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(seconds, tz=datetime.timezone.utc)


def assert_answered_success(response) -> None:
    # WeChat expects the bare text, unencrypted even in safe mode.
    assert response.status_code == 200
    assert response.content == b"success"
    assert response["Content-Type"].startswith("text/plain")


class TestOrderSettlement:
    @MODES
    def test_shipping_completed_is_answered_stored_and_sent_on_with_its_payment(
        self, wechat, received, fmt, safe
    ):
        payment = Payment.objects.create(order_id="SO1", transaction_id="4323400972202304033788294222")
        response = wechat.send(event(SETTLEMENT_SHIPPED), fmt, safe)
        assert_answered_success(response)
        row = InboundEvent.objects.get()
        assert (row.verdict, row.event, row.result_code, row.safe_mode) == (
            PushVerdict.OK,
            "trade_manage_order_settlement",
            0,
            safe,
        )
        assert row.payload["merchant_trade_no"] == "123456789"
        assert row.reply == {"text": "success"}
        [(name, kwargs)] = received
        notice = kwargs["notice"]
        assert name == "settled" and kwargs["payment"] == payment
        assert isinstance(notice, TradeNotice) and not notice.settled
        assert (notice.pay_time, notice.shipped_time, notice.estimated_settlement_time) == (
            at(1680502865),
            at(1680503030),
            at(1681107830),
        )
        assert notice.settlement_time is None and notice.confirm_receive_method is None
        assert kwargs["message"].event == "trade_manage_order_settlement"

    @MODES
    def test_the_settlement_carries_how_and_when_receipt_was_confirmed(self, wechat, received, fmt, safe):
        assert_answered_success(wechat.send(event(SETTLEMENT_SETTLED), fmt, safe))
        [(name, kwargs)] = received
        notice = kwargs["notice"]
        assert name == "settled" and notice.settled
        assert (notice.confirm_receive_method, notice.confirm_receive_time, notice.settlement_time) == (
            1,
            at(1680590000),
            at(1680600000),
        )
        assert notice.estimated_settlement_time is None  # 0: not sent
        assert kwargs["payment"] is None  # the shop recorded no such payment


class TestRemindShipping:
    @MODES
    def test_the_reminder_names_the_payment_by_merchant_number_and_trade_no(
        self, wechat, received, fmt, safe
    ):
        Payment.objects.create(order_id="SO76", mchid="1230000109", out_trade_no="SO-76")
        payment = Payment.objects.create(order_id="SO77", mchid="1230000109", out_trade_no="SO-77")
        assert_answered_success(wechat.send(event(REMIND_SHIPPING), fmt, safe))
        assert InboundEvent.objects.get().verdict == PushVerdict.OK
        [(name, kwargs)] = received
        assert name == "shipping" and kwargs["payment"] == payment
        assert kwargs["notice"].pay_time == at(1680331865)
        assert kwargs["notice"].msg == REMIND_SHIPPING["msg"]


class TestRemindAccessApi:
    @MODES
    def test_the_reminder_is_answered_and_sent_on(self, wechat, received, fmt, safe):
        assert_answered_success(wechat.send(event(REMIND_ACCESS_API), fmt, safe))
        row = InboundEvent.objects.get()
        assert (row.verdict, row.event) == (PushVerdict.OK, "trade_manage_remind_access_api")
        [(name, kwargs)] = received
        assert name == "access" and kwargs["payment"] is None
        assert kwargs["notice"].msg == REMIND_ACCESS_API["msg"]


def test_a_receiver_that_fails_is_recorded_and_nothing_is_sent_as_success(wechat):
    def broken(sender, **kwargs):
        raise RuntimeError("the shop's receiver broke")

    wechat_shipping_reminder.connect(broken, weak=False)
    try:
        response = wechat.send(event(REMIND_SHIPPING), "json", True)
    finally:
        wechat_shipping_reminder.disconnect(broken)
    # Not "success": WeChat pushes again, and the stored row says why.
    assert response.status_code == 200 and response.content != b"success"
    row = InboundEvent.objects.get()
    assert row.verdict == PushVerdict.HANDLER_ERROR
    assert "the shop's receiver broke" in row.error


def test_a_push_with_a_bad_signature_is_refused_and_sends_nothing(wechat, received):
    body, query = wechat.body_and_query(event(REMIND_ACCESS_API), "json", True)
    response = wechat.post(body, {**query, "msg_signature": "0" * 40})
    assert response.status_code == 403
    assert InboundEvent.objects.get().verdict == PushVerdict.BAD_SIGNATURE
    assert received == []


class TestRepeatedPushes:
    """WeChat pushes a notice again when it did not get "success" in time: the repeat is answered
    success and stored, but not sent on a second time (FromUserName + CreateTime, as WeChat dedupes)."""

    @MODES
    def test_the_same_push_again_is_answered_but_sent_on_once(self, wechat, received, fmt, safe):
        Payment.objects.create(order_id="SO1", transaction_id="4323400972202304033788294222")
        for _ in range(2):
            assert_answered_success(wechat.send(event(SETTLEMENT_SHIPPED), fmt, safe))
        verdicts = list(InboundEvent.objects.order_by("id").values_list("verdict", flat=True))
        assert verdicts == [PushVerdict.OK, PushVerdict.DUPLICATE]
        assert [name for name, _ in received] == ["settled"]

    def test_a_repeat_in_the_other_format_is_still_the_same_push(self, wechat, received):
        assert_answered_success(wechat.send(event(REMIND_ACCESS_API), "xml", True))
        assert_answered_success(wechat.send(event(REMIND_ACCESS_API), "json", False))
        assert len(received) == 1

    def test_pushes_that_differ_are_each_sent_on(self, wechat, received):
        Payment.objects.create(order_id="SO1", transaction_id="4323400972202304033788294222")
        wechat.send(event(SETTLEMENT_SHIPPED))
        wechat.send(event(SETTLEMENT_SETTLED))  # same CreateTime, but the settlement
        wechat.send(event(SETTLEMENT_SHIPPED, CreateTime=ENVELOPE["CreateTime"] + 1))
        wechat.send(event(SETTLEMENT_SHIPPED, merchant_trade_no="other", transaction_id="other"))
        assert len(received) == 4
        assert set(InboundEvent.objects.values_list("verdict", flat=True)) == {PushVerdict.OK}

    def test_a_push_whose_receiver_failed_is_sent_on_when_pushed_again(self, wechat, received):
        def broken(sender, **kwargs):
            raise RuntimeError("the shop's receiver broke")

        wechat_shipping_reminder.connect(broken, weak=False)
        try:
            wechat.send(event(REMIND_SHIPPING))
        finally:
            wechat_shipping_reminder.disconnect(broken)
        assert_answered_success(wechat.send(event(REMIND_SHIPPING)))
        assert [name for name, _ in received] == ["shipping", "shipping"]  # the failed try, then the repeat
        verdicts = list(InboundEvent.objects.order_by("id").values_list("verdict", flat=True))
        assert verdicts == [PushVerdict.HANDLER_ERROR, PushVerdict.OK]

"""WeChat's shipping-information pushes, as the sandbox makes them, reach the shop's real events
endpoint (a live server): the shop records its shipping and receipt through the pipeline, the
sandbox pushes trade_manage_order_settlement (shipped, then settled), reminds of a payment 48 hours
unshipped once its clock moves, and of the API; each push is stored, answered success and sent on
as its signal with the shop's payment and WeChat's times."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from django_wxlogistics import services
from django_wxlogistics.delivery import Outcome
from django_wxlogistics.enums import PushVerdict
from django_wxlogistics.models import InboundEvent, Payment
from example_project.shop.models import Order
from tests.events.pushes import APPID, KEY, TOKEN, push_settings
from tests.factories import OrderFactory
from tests.shipping.helpers import deliver, upload_fields

pytestmark = pytest.mark.django_db(transaction=True)

HOURS = 3600
SETTLEMENT = "trade_manage_order_settlement"


def at(seconds: int) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(seconds, tz=datetime.timezone.utc)


@pytest.fixture
def shop(wechat_sandbox, live_server, settings):
    """The sandbox pushing to the shop's events endpoint, served for real; its clock stopped."""
    settings.WXLOGISTICS = push_settings(
        API_BASE_URL=wechat_sandbox.url,
        RETRY_BACKOFF_BASE=0.001,
        RETRY_BACKOFF_CAP=0.001,
        TIMEOUT=(2.0, 5.0),
    )
    wechat_sandbox.configure_push(
        url=live_server.url + reverse("wxlogistics:events"),
        token=TOKEN,
        aes_key=KEY,
        appid=APPID,
        format="json",
        mode="safe",
    )
    wechat_sandbox.stop_clock()
    return wechat_sandbox


def delivered(shop) -> list[dict]:
    pushes = shop.wait_for_trade_pushes()
    assert all(p["state"] == "delivered" for p in pushes), pushes
    return pushes


@pytest.mark.wechat_sandbox(merchant={"confirm_on_reminder": True})
@pytest.mark.parametrize(("fmt", "mode"), [("json", "safe"), ("xml", "plain")])
def test_shipping_and_receipt_recorded_by_the_shop_come_back_as_settlement_signals(
    shop,
    received,
    fmt,
    mode,
):
    shop.configure_push(format=fmt, mode=mode)
    paid = shop.create_payment(out_trade_no="SO-SETTLE-1")
    order = OrderFactory(status=Order.Status.PAID)

    info = services.record_shipping_info(order, **upload_fields(paid))
    assert deliver(info.pk) is Outcome.SENT
    [pushed] = delivered(shop)
    shipped = shop.payment(paid["transaction_id"])

    row = InboundEvent.objects.get(event=SETTLEMENT)
    assert (row.verdict, row.safe_mode, row.body_format) == (PushVerdict.OK, mode == "safe", fmt)
    assert row.reply == {"text": "success"} and row.payload["transaction_id"] == paid["transaction_id"]
    assert pushed["tries"][-1]["reply"] == "success"
    [(name, kwargs)] = received
    notice = kwargs["notice"]
    assert name == "settled" and kwargs["payment"] == info.payment and not notice.settled
    assert notice.transaction_id == paid["transaction_id"] and notice.merchant_trade_no == "SO-SETTLE-1"
    assert notice.pay_time == at(paid["pay_time"])
    assert notice.shipped_time == at(shipped["shipped_time"])
    assert notice.estimated_settlement_time == at(shipped["shipped_time"] + 7 * 24 * HOURS)

    confirmation = services.confirm_receipt(order)
    assert deliver(confirmation.pk) is Outcome.SENT  # the payer confirms when reminded
    delivered(shop)
    confirmed = shop.payment(paid["transaction_id"])
    assert confirmed["order_state"] == 3

    assert InboundEvent.objects.filter(event=SETTLEMENT, verdict=PushVerdict.OK).count() == 2
    (_, _), (name, kwargs) = received
    notice = kwargs["notice"]
    assert name == "settled" and notice.settled and kwargs["payment"] == info.payment
    assert notice.confirm_receive_method == 2
    assert notice.confirm_receive_time == at(confirmed["confirm_receive_time"])
    assert notice.settlement_time == at(confirmed["confirm_receive_time"])
    assert notice.shipped_time == at(shipped["shipped_time"])


def test_a_payment_48_hours_unshipped_is_reminded_of_when_the_sandbox_clock_moves(
    shop,
    received,
):
    paid = shop.create_payment(out_trade_no="SO-LATE-9")
    payment = Payment.objects.create(order_id="SO-LATE-9", mchid=paid["mchid"], out_trade_no="SO-LATE-9")

    shop.advance_clock(47 * HOURS)
    assert shop.wait_for_trade_pushes() == [] and not InboundEvent.objects.exists()
    shop.advance_clock(1 * HOURS)
    [pushed] = delivered(shop)
    assert pushed["event"] == "trade_manage_remind_shipping"

    row = InboundEvent.objects.get()
    assert (row.event, row.verdict, row.safe_mode) == ("trade_manage_remind_shipping", PushVerdict.OK, True)
    [(name, kwargs)] = received
    notice = kwargs["notice"]
    assert name == "shipping" and kwargs["payment"] == payment  # found by merchant number and trade no
    assert notice.pay_time == at(paid["pay_time"]) and notice.msg
    assert kwargs["message"].integer("CreateTime") == paid["pay_time"] + 48 * HOURS

    shop.advance_clock(48 * HOURS)
    assert len(delivered(shop)) == 1  # once per payment


def test_the_api_access_reminder_reaches_its_signal(shop, received):
    shop.push_api_access_reminder("请尽快接入发货信息录入接口")
    delivered(shop)
    row = InboundEvent.objects.get()
    assert (row.event, row.verdict, row.reply) == (
        "trade_manage_remind_access_api",
        PushVerdict.OK,
        {"text": "success"},
    )
    [(name, kwargs)] = received
    assert name == "access" and kwargs["payment"] is None
    assert kwargs["notice"].msg == "请尽快接入发货信息录入接口"


def test_a_push_the_shop_cannot_verify_is_refused_and_retried_a_bounded_number_of_times(shop, received):
    shop.configure_push(aes_key="zyxwvutsrqponmlkjihgfedcba9876543210ZYXWVUT")
    shop.push_api_access_reminder()
    [pushed] = shop.wait_for_trade_pushes()
    assert (pushed["state"], pushed["attempts"]) == ("failed", 4)
    assert pushed["error"].startswith("the shop answered HTTP 4")
    assert received == []
    assert InboundEvent.objects.count() == 4
    assert not InboundEvent.objects.filter(verdict=PushVerdict.OK).exists()

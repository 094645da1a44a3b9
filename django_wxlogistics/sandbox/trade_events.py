"""The fields of WeChat's shipping-information pushes (``trade_manage_*``) about a sandbox payment,
as WeChat sends them to a mini program's message URL."""

from __future__ import annotations

from typing import Any

from .order_events import WECHAT_OPENID
from .payments import WAITING, SandboxPayment

#: The merchant's mini program (ToUserName of the pushes it receives).
SHOP_USERNAME = "gh_wxlsandboxshop1"

ORDER_SETTLEMENT = "trade_manage_order_settlement"
REMIND_SHIPPING = "trade_manage_remind_shipping"
REMIND_ACCESS_API = "trade_manage_remind_access_api"
TRADE_EVENTS = (ORDER_SETTLEMENT, REMIND_SHIPPING, REMIND_ACCESS_API)

#: WeChat reminds of a payment not shipped this long after it was paid (48 hours)
REMIND_AFTER = 48 * 3600
#: the funds settle this long after shipping unless receipt is confirmed first (as in WeChat's example)
SETTLEMENT_DELAY = 7 * 24 * 3600
#: confirm_receive_method: 1 automatic, 2 by the payer (as WeChat's page numbers them)
CONFIRMED_BY_PAYER = 2

REMIND_SHIPPING_MSG = "您的小程序有订单超过48小时未发货，请尽快发货并录入发货信息"
REMIND_ACCESS_API_MSG = "您的小程序在后台手动录入了发货信息，请尽快接入发货信息录入接口"


def _envelope(event: str, now: int) -> dict[str, Any]:
    return {
        "ToUserName": SHOP_USERNAME,
        "FromUserName": WECHAT_OPENID,
        "CreateTime": now,
        "MsgType": "event",
        "Event": event,
    }


def _payment_keys(payment: SandboxPayment) -> dict[str, Any]:
    return {
        "transaction_id": payment.transaction_id,
        "merchant_id": payment.mchid,
        "sub_merchant_id": payment.sub_mchid,
        "merchant_trade_no": payment.out_trade_no,
        "pay_time": payment.pay_time,
    }


def order_settlement(payment: SandboxPayment, now: int) -> dict[str, Any]:
    """``trade_manage_order_settlement``: after shipping completed, with ``estimated_settlement_time``;
    once receipt is confirmed, with ``confirm_receive_method``, ``confirm_receive_time`` and
    ``settlement_time`` (the funds settle when receipt is confirmed)."""
    shipped = payment.shipped_time or now
    fields = {**_envelope(ORDER_SETTLEMENT, now), **_payment_keys(payment), "shipped_time": shipped}
    if payment.confirm_receive_time is None:
        fields["estimated_settlement_time"] = shipped + SETTLEMENT_DELAY
        return fields
    return {
        **fields,
        "confirm_receive_method": CONFIRMED_BY_PAYER,
        "confirm_receive_time": payment.confirm_receive_time,
        "settlement_time": payment.settlement_time or payment.confirm_receive_time,
    }


def remind_shipping(payment: SandboxPayment, now: int) -> dict[str, Any]:
    """``trade_manage_remind_shipping``: the payment is not shipped 48 hours after it was paid."""
    return {**_envelope(REMIND_SHIPPING, now), **_payment_keys(payment), "msg": REMIND_SHIPPING_MSG}


def remind_access_api(now: int, msg: str | None = None) -> dict[str, Any]:
    """``trade_manage_remind_access_api``: the account recorded shipping by hand, not through the API."""
    return {**_envelope(REMIND_ACCESS_API, now), "msg": msg or REMIND_ACCESS_API_MSG}


def due_for_reminder(payment: SandboxPayment, now: float) -> bool:
    """Whether WeChat reminds of the payment now: awaiting shipment 48 hours after it was paid
    (a combined payment is reminded of as a whole, not by sub-order)."""
    return (
        payment.order_state == WAITING
        and payment.combined_into is None
        and payment.pay_time + REMIND_AFTER <= now
    )

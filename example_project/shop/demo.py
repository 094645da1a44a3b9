"""While ``make demo`` runs, every waybill the shop saves is registered in the demo's sandbox, and
its paid order gets the WeChat Pay payment the sandbox knows.

An order placed in the sandbox is known to it already: it pushed the order placement event
that made the waybill. A waybill added some other way (by hand in the admin, with a token)
is not, so each process of the demo (web, worker, beat) registers a waybill in the sandbox
once it is saved, with the token it was saved with; otherwise its pushes would get errcode
40199. Registering again keeps the sandbox's trace.

The demo has no WeChat Pay: in its place, a paid order whose waybill is saved gets a payment
created in the sandbox (as if its payer had just paid), its ``transaction_id`` and payer's
openid kept on the order as a payment callback would keep them, and the waybill's number as
its tracking number. Marked shipped, the order's shipping information is uploaded for that
payment; marked delivered, its receipt is confirmed (``SHIPPING_ACTIONS`` in the settings).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from django.db import transaction
from django.db.models.signals import post_save
from django.utils import timezone

from django_wxlogistics.client import get_client
from django_wxlogistics.enums import EventState, ShippingCall
from django_wxlogistics.models import ShippingInfo, Waybill
from django_wxlogistics.sandbox import SandboxControl

from .models import Order
from .wechat_orders import DEFAULT_ITEM, DEMO_CARRIER

logger = logging.getLogger("example_project.shop")

#: set by ``rundemo`` for the processes it starts: the sandbox to register waybills in
SANDBOX_ENV = "WXLOGISTICS_DEMO_SANDBOX_URL"

CONTACTS = {
    "sender": {
        "name": "微物流示例商店",
        "tel": "020-88888888",
        "mobile": "18666666666",
        "address": "广东省广州市海珠区新港中路 397 号",
    },
    "receiver": {
        "name": "王小萌",
        "tel": "029-77777777",
        "mobile": "18610000000",
        "address": "广东省广州市天河区天河路 385 号",
    },
}


#: The statuses of an order not paid for: it gets no payment.
UNPAID = (Order.Status.PENDING, Order.Status.CANCELLED)
#: What WeChat Pay takes as out_trade_no (the shop's order number when it fits).
_OUT_TRADE_NO = re.compile(r"[0-9A-Za-z_\-*]{6,32}")


def out_trade_no(order: Order) -> str | None:
    """The payment's out_trade_no: the order's number if WeChat Pay takes it, else the sandbox's."""
    return order.number if _OUT_TRADE_NO.fullmatch(order.number) else None


def describe_parcel(order: Order, tracking_number: str) -> None:
    """Fill what the order's shipping information needs and it lacks (an order added by hand):
    the waybill's number as tracking number, the demo's carrier, goods and receiver's phone."""
    defaults = {
        "tracking_number": tracking_number,
        "carrier_code": DEMO_CARRIER,
        "item_desc": DEFAULT_ITEM,
        "receiver_phone": CONTACTS["receiver"]["mobile"],
    }
    blank = [name for name, value in defaults.items() if value and not getattr(order, name)]
    if blank:
        for name in blank:
            setattr(order, name, defaults[name])
        order.save(update_fields=[*blank, "updated_at"])


def pay_in_sandbox(control: SandboxControl, order_pk: int, tracking_number: str = "") -> None:
    """The demo's WeChat Pay: a paid order without a payment gets one the sandbox knows.

    Its ``transaction_id`` and payer's openid are kept on the order, with what its shipping
    information needs (:func:`describe_parcel`). Nothing for an order not paid.
    """
    order = Order.objects.filter(pk=order_pk).exclude(status__in=UNPAID).first()
    if order is None:
        return
    describe_parcel(order, tracking_number)
    if order.wechat_transaction_id:
        return
    payment = control.create_payment(
        openid=order.payer_openid or None,
        out_trade_no=out_trade_no(order),
        description=order.item_desc or None,
    )
    # Only if no other process of the demo gave it one meanwhile.
    Order.objects.filter(pk=order_pk, wechat_transaction_id="").update(
        wechat_transaction_id=payment["transaction_id"],
        payer_openid=payment["openid"],
        updated_at=timezone.now(),
    )


def restore_in_sandbox(control: SandboxControl, order: Order) -> None:
    """Tell a new sandbox the order's payment, and what WeChat took about it before (it keeps
    nothing between runs): the last shipping uploaded, the receipt confirmed."""
    control.create_payment(
        order.wechat_transaction_id,
        openid=order.payer_openid or None,
        out_trade_no=out_trade_no(order),
        description=order.item_desc or None,
        pay_time=int(order.created_at.timestamp()),
    )
    sent = ShippingInfo.objects.filter(
        payment__transaction_id=order.wechat_transaction_id, state=EventState.SENT
    ).order_by("pk")
    client = get_client()
    upload = sent.exclude(call=ShippingCall.CONFIRM_RECEIPT).last()
    confirmed = sent.filter(call=ShippingCall.CONFIRM_RECEIPT).first()
    if upload is not None:
        client.upload_shipping_info(**upload.request)
        if confirmed is not None:  # received by now: the new sandbox shipped it a moment ago
            received = int(timezone.now().timestamp())
            client.notify_confirm_receive(**{**confirmed.request, "received_time": received})


def register_in_sandbox(sandbox_url: str, waybill: Waybill) -> None:
    """Tell the sandbox the waybill and its token (registering again keeps the trace)."""
    SandboxControl(sandbox_url, timeout=5).register_waybill(
        waybill.waybill_id, waybill.token, sender=CONTACTS["sender"], receiver=CONTACTS["receiver"]
    )


def connect(sandbox_url: str) -> None:
    """Register each waybill saved from now on, once its transaction commits; pay its order."""

    def waybill_saved(sender: Any, instance: Waybill, update_fields: Any = None, **kwargs: Any) -> None:
        if update_fields is not None and not {"waybill_id", "token"} & set(update_fields):
            return
        waybill_id, pk = instance.waybill_id, instance.pk

        def register() -> None:
            waybill = Waybill.objects.filter(pk=pk).first()
            if waybill is None:
                return
            # the sandbox needs the token; the admin's "New token" field sets it later
            try:
                if waybill.token:
                    register_in_sandbox(sandbox_url, waybill)
            except Exception as exc:  # the shop's save has happened: never undo it for the demo
                logger.warning("Could not register waybill %s in the demo sandbox: %s", waybill_id, exc)
            order = Order.objects.filter(number=waybill.order_id).first()
            if order is None:
                return
            try:
                pay_in_sandbox(SandboxControl(sandbox_url, timeout=5), order.pk, waybill.waybill_id)
            except Exception as exc:
                logger.warning("Could not create the payment of order %s in the demo sandbox: %s", order, exc)

        transaction.on_commit(register)

    post_save.connect(waybill_saved, sender=Waybill, dispatch_uid="demo-register-in-sandbox", weak=False)

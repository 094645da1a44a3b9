"""WeChat's orders: ``add_waybill`` brings a waybill and its Token, ``cancel_waybill`` ends it.

Each waybill enters through :func:`~django_wxlogistics.services.register_waybill`. The key of
an order is the merchant's BizID and WeChat's OrderID: a waybill keeps it, a unique constraint
holds it, and a repeated push of the same order gets the same WayBillID and creates nothing.
"""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..conf import wx_settings
from ..enums import ActionType
from ..models import TraceEvent, Waybill
from ..services import WAYBILL_ID_MAX_LENGTH, WAYBILL_ID_PATTERN, record_trace_event, register_waybill
from ..signals import waybill_cancel_requested, waybill_order_received
from ..trace_messages import default_message
from .message import PushMessage, WaybillOrder
from .results import EventResult, ResultCode
from .waybill_ids import new_waybill_id

#: Trace steps after which a waybill can no longer be cancelled: it has been picked up.
PICKED_UP = (
    ActionType.PICKED_UP,
    ActionType.IN_TRANSIT,
    ActionType.OUT_FOR_DELIVERY,
    ActionType.SIGNING_FAILED,
)


def _order_fields(waybill: Waybill) -> dict[str, Any]:
    return {"WayBillID": waybill.waybill_id}


def _valid_wechat_waybill_id(waybill_id: str) -> bool:
    return len(waybill_id) <= WAYBILL_ID_MAX_LENGTH and re.match(WAYBILL_ID_PATTERN, waybill_id) is not None


def add_waybill(message: PushMessage) -> EventResult:
    """Register the waybill of WeChat's order (or find the one a repeated push already made)."""
    order = WaybillOrder.from_message(message)
    result = EventResult()
    missing = [name for name, value in (("OrderID", order.order_id), ("Token", order.token)) if not value]
    if missing:
        return result.refuse(
            ResultCode.OTHER_ERROR, _("The order lacks %(fields)s.") % {"fields": ", ".join(missing)}
        )
    existing = _placed(order)
    if existing is not None:
        return _repeated(existing, order, result)
    if order.waybill_id and not _valid_wechat_waybill_id(order.waybill_id):
        return result.refuse(ResultCode.BAD_WAYBILL_ID, _("The WayBillID is not one we can use."))
    if order.waybill_id and Waybill.objects.filter(waybill_id=order.waybill_id).exists():
        return result.refuse(ResultCode.BAD_WAYBILL_ID, _("The WayBillID belongs to another order."))
    try:
        # One savepoint for the shop's order and the waybill: a concurrent push of the same
        # order that registered first leaves neither behind.
        with transaction.atomic():
            shop_order = _shop_order(order, result, message)
            if not result.ok:
                transaction.set_rollback(True)
                return result
            waybill_id = order.waybill_id or new_waybill_id(order)
            waybill = register_waybill(
                shop_order if shop_order is not None else order.order_id, waybill_id, order.token
            )
            waybill.biz_id, waybill.wechat_order_id = order.biz_id, order.order_id
            waybill.save(update_fields=["biz_id", "wechat_order_id", "updated_at"])
    except IntegrityError:
        existing = _placed(order)
        if existing is None:
            raise
        return _repeated(existing, order, result)
    except ValidationError as exc:
        return result.refuse(ResultCode.OTHER_ERROR, "; ".join(exc.messages))
    result.waybill = waybill
    result.fields.update(_order_fields(waybill))
    return result


def _placed(order: WaybillOrder) -> Waybill | None:
    return Waybill.objects.filter(biz_id=order.biz_id, wechat_order_id=order.order_id).first()


def _repeated(waybill: Waybill, order: WaybillOrder, result: EventResult) -> EventResult:
    """A push of an order already placed: the same WayBillID; a new Token replaces the old one."""
    if waybill.token != order.token:
        register_waybill(waybill.order_id, waybill.waybill_id, order.token)
    result.waybill, result.duplicate = waybill, True
    result.fields.update(_order_fields(waybill))
    return result


def _shop_order(order: WaybillOrder, result: EventResult, message: PushMessage) -> Any:
    """The shop's order from WAYBILL_ORDER_HANDLER, else from a waybill_order_received receiver."""
    handler = wx_settings.WAYBILL_ORDER_HANDLER
    shop_order = handler(order, result) if handler is not None else None
    for _receiver, response in waybill_order_received.send(
        sender=Waybill, order=order, result=result, message=message
    ):
        if shop_order is None and response is not None:
            shop_order = response
    return shop_order


def cancel_waybill(message: PushMessage) -> EventResult:
    """Cancel the waybill: record a 400001 trace event, unless it is too late or a receiver says no."""
    result = EventResult()
    waybill_id = message.text("WayBillID", "WaybillId")
    biz_id, order_id = message.text("BizID"), message.text("OrderID")
    with transaction.atomic():
        waybills = Waybill.objects.select_for_update()
        if waybill_id not in ("", "0"):
            waybill = waybills.filter(waybill_id=waybill_id).first()
        else:  # an order cancelled before it had its waybill ID
            waybill = (
                waybills.filter(biz_id=biz_id, wechat_order_id=order_id).exclude(wechat_order_id="").first()
            )
        if waybill is None or not _same_order(waybill, biz_id, order_id):
            return result.refuse(
                ResultCode.CANCEL_NOT_FOUND, _("No waybill has this BizID, OrderID and WayBillID.")
            )
        result.waybill = waybill
        if not waybill.is_cancelled:
            _default_cancel_answer(waybill, result)
        waybill_cancel_requested.send(sender=Waybill, waybill=waybill, result=result, message=message)
        if result.ok and not waybill.is_cancelled:
            waybill.cancelled_at = timezone.now()
            waybill.save(update_fields=["cancelled_at", "updated_at"])
            record_trace_event(waybill, ActionType.CANCELLED, default_message(ActionType.CANCELLED))
        elif result.ok:
            # WeChat pushes again when our answer was lost: the same answer, no second event.
            result.duplicate = True
    return result


def _same_order(waybill: Waybill, biz_id: str, order_id: str) -> bool:
    """A waybill placed through WeChat is cancelled only with its own BizID and OrderID."""
    return not waybill.wechat_order_id or (waybill.biz_id, waybill.wechat_order_id) == (biz_id, order_id)


def _default_cancel_answer(waybill: Waybill, result: EventResult) -> None:
    steps = set(TraceEvent.objects.filter(waybill=waybill).values_list("action_type", flat=True))
    if ActionType.SIGNED in steps:
        result.refuse(ResultCode.CANCEL_INVALID, _("The parcel has been delivered."))
    elif steps & set(PICKED_UP):
        result.refuse(ResultCode.CANCEL_PICKED_UP, _("The parcel has been picked up."))

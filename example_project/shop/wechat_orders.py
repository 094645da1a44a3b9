"""How the example shop takes the orders WeChat places (``add_waybill``): each becomes a paid
Order, its waybill numbered the shop's way, its parcel described for WeChat's shipping information.

Named in the settings: ``WXLOGISTICS["WAYBILL_ORDER_HANDLER"]`` and ``["WAYBILL_ID_GENERATOR"]``.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _

from django_wxlogistics.events.message import WaybillOrder
from django_wxlogistics.events.results import EventResult, ResultCode

from .models import DEFAULT_ITEM as DEFAULT_ITEM
from .models import Order

#: The courier the demo's out-for-delivery message names.
DEMO_COURIER = ("邓丽君", "18666666666")
#: The demo's carrier, by its code in WeChat's delivery list (get_delivery_list): SF Express,
#: whose shipping information must carry the receiver's phone (masked).
DEMO_CARRIER = "SF"


def item_desc(cargo: Any) -> str:
    """What the parcel holds, for shipping information's ``item_desc``: "name*count", at most 120."""
    details = cargo.get("DetailList") if isinstance(cargo, Mapping) else None
    if isinstance(details, Mapping):
        details = [details]  # one item, as XML brings it
    items = [
        f"{item.get('Name')}*{item.get('Count') or 1}"
        for item in details or []
        if isinstance(item, Mapping) and item.get("Name")
    ]
    return ("、".join(items) or DEFAULT_ITEM)[:120]


def order_from_wechat(order: WaybillOrder, result: EventResult) -> Order | None:
    """The shop's Order of WeChat's order: the one with its OrderID as number, or a new paid one."""
    max_length = Order._meta.get_field("number").max_length or 0
    if len(order.order_id) > max_length:
        result.refuse(ResultCode.OTHER_ERROR, _("The order number is longer than the shop keeps."))
        return None
    shop_order, _created = Order.objects.get_or_create(
        number=order.order_id,
        defaults={
            "status": Order.Status.PAID,
            "customer_name": order.receiver.name[:100],
            "courier_name": DEMO_COURIER[0],
            "courier_phone": DEMO_COURIER[1],
            "carrier_code": DEMO_CARRIER,
            "item_desc": item_desc(order.cargo),
            "receiver_phone": order.receiver.mobile[:20],
        },
    )
    return shop_order


def demo_waybill_id(order: WaybillOrder) -> str:
    """A waybill number of the demo's courier: "SF" and thirteen digits."""
    return f"SF{10**12 + secrets.randbelow(9 * 10**12)}"

"""Which waybill ID an order placed with WayBillID "0" gets: ``WAYBILL_ID_GENERATOR``.

WeChat either assigns the waybill ID from its number range or sends "0" and leaves it to the
provider. The generator is a dotted path in ``WXLOGISTICS["WAYBILL_ID_GENERATOR"]`` of a
function ``generate(order: WaybillOrder) -> str``; the default, :func:`random_waybill_id`,
gives fifteen random digits. An ID already taken is never reused: another one is drawn.
"""

from __future__ import annotations

import secrets

from ..conf import wx_settings
from ..models import Waybill
from .message import WaybillOrder

#: How many IDs are drawn before giving up on finding a free one.
ATTEMPTS = 5


def random_waybill_id(order: WaybillOrder) -> str:
    """Fifteen random digits, never starting with 0 (the shape of many couriers' numbers)."""
    return str(10**14 + secrets.randbelow(9 * 10**14))


def new_waybill_id(order: WaybillOrder) -> str:
    """A waybill ID no waybill has yet, from the configured generator."""
    generate = wx_settings.WAYBILL_ID_GENERATOR
    path = wx_settings.raw("WAYBILL_ID_GENERATOR")
    for _ in range(ATTEMPTS):
        waybill_id = generate(order)
        if not isinstance(waybill_id, str):
            raise TypeError(f"{path} returned {type(waybill_id).__name__}, not the waybill ID as text.")
        if not Waybill.objects.filter(waybill_id=waybill_id).exists():
            return waybill_id
    raise RuntimeError(f"{path} gave {ATTEMPTS} waybill IDs in a row that are already taken.")

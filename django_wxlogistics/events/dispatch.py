"""Which code answers an event: the shop's handler in ``EVENT_HANDLERS``, else the built-in one.

``WXLOGISTICS["EVENT_HANDLERS"]`` maps an event type (``"check_biz"``, or one the app does not
know, such as ``"add_single_waybill"``) to the dotted path of ``handler(message) -> EventResult``,
which then answers that event alone.
"""

from __future__ import annotations

from collections.abc import Callable

from ..conf import wx_settings
from .message import PushMessage
from .placement import add_waybill, cancel_waybill
from .queries import check_biz, get_quota, waybill_notify_query
from .results import EventResult
from .trade_management import order_settlement, remind_access_api, remind_shipping

Handler = Callable[[PushMessage], EventResult]

#: The events the app answers itself: the provider's, and the merchant's shipping-information pushes.
BUILT_IN: dict[str, Handler] = {
    "add_waybill": add_waybill,
    "cancel_waybill": cancel_waybill,
    "check_biz": check_biz,
    "get_quota": get_quota,
    "waybill_notify_query": waybill_notify_query,
    "trade_manage_order_settlement": order_settlement,
    "trade_manage_remind_shipping": remind_shipping,
    "trade_manage_remind_access_api": remind_access_api,
}


def handler_for(event: str) -> Handler | None:
    """The handler of ``event``, or None when nothing answers it."""
    custom: dict[str, Handler] = wx_settings.EVENT_HANDLERS
    return custom.get(event) or BUILT_IN.get(event)


def answer(message: PushMessage) -> EventResult | None:
    """The result of the event's handler; None when the event is one nothing answers."""
    handler = handler_for(message.event)
    if handler is None:
        return None
    result = handler(message)
    if not isinstance(result, EventResult):
        raise TypeError(
            f"The handler of {message.event!r} returned {type(result).__name__}, not an EventResult."
        )
    return result

"""Which code answers an event: the shop's handler in ``EVENT_HANDLERS``, else the built-in one.

``WXLOGISTICS["EVENT_HANDLERS"]`` maps an event type (``"check_biz"``, or one the app does not
know, such as ``"add_single_waybill"``) to the dotted path of ``handler(message) -> EventResult``,
which then answers that event alone.
"""

from __future__ import annotations

from collections.abc import Callable

from django.utils.module_loading import import_string

from ..conf import wx_settings
from ..exceptions import ConfigurationError
from .message import PushMessage
from .placement import add_waybill, cancel_waybill
from .queries import check_biz, get_quota, waybill_notify_query
from .results import EventResult

Handler = Callable[[PushMessage], EventResult]

#: The provider events the app answers itself.
BUILT_IN: dict[str, Handler] = {
    "add_waybill": add_waybill,
    "cancel_waybill": cancel_waybill,
    "check_biz": check_biz,
    "get_quota": get_quota,
    "waybill_notify_query": waybill_notify_query,
}


def custom_handlers() -> dict[str, str]:
    """``EVENT_HANDLERS`` with lower-case event types (WeChat's are case-insensitive)."""
    value = wx_settings.EVENT_HANDLERS or {}
    if not isinstance(value, dict):
        raise ConfigurationError(
            "WXLOGISTICS['EVENT_HANDLERS'] must be a dict of event type -> dotted path.",
            setting="EVENT_HANDLERS",
        )
    return {str(event).lower(): path for event, path in value.items()}


def handler_for(event: str) -> Handler | None:
    """The handler of ``event``, or None when nothing answers it."""
    path = custom_handlers().get(event)
    if path is None:
        return BUILT_IN.get(event)
    try:
        handler: Handler = import_string(path)
    except ImportError as exc:
        raise ConfigurationError(
            f"WXLOGISTICS['EVENT_HANDLERS'][{event!r}] is {path!r}, which cannot be imported ({exc}).",
            setting="EVENT_HANDLERS",
        ) from None
    return handler


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

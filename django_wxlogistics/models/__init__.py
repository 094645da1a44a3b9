"""Which tables the app keeps: every model, imported here so that Django finds them all.

Waybills and their trace events, payments and their shipping information, on the way to WeChat;
access tokens, contact audits, pushes received.
"""

from __future__ import annotations

from ..lookups import guard_columns
from .access import AccessToken, ContactAccess
from .inbound import InboundEvent
from .shipping import Payment, ShippingInfo
from .trace_events import TraceEvent
from .waybills import Waybill

__all__ = [
    "AccessToken",
    "ContactAccess",
    "InboundEvent",
    "Payment",
    "ShippingInfo",
    "TraceEvent",
    "Waybill",
]

# A NUL character or a year no date holds, from a URL or a filter, must not become a 500.
guard_columns([Waybill, TraceEvent, AccessToken, ContactAccess, InboundEvent, Payment, ShippingInfo])

"""The Django admin of django-wxlogistics: waybills, trace events, shipping information, audits, pushes."""

from .audit import AccessTokenAdmin, ContactAccessAdmin
from .base import GuardedModelAdmin
from .inbound_events import InboundEventAdmin
from .shipping import PaymentAdmin, ShippingInfoAdmin
from .trace_events import TraceEventAdmin
from .waybills import WaybillAdmin

__all__ = [
    "AccessTokenAdmin",
    "ContactAccessAdmin",
    "GuardedModelAdmin",
    "InboundEventAdmin",
    "PaymentAdmin",
    "ShippingInfoAdmin",
    "TraceEventAdmin",
    "WaybillAdmin",
]

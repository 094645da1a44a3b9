"""The Django admin of django-wxlogistics: waybills, trace events, the contact audit, pushes received."""

from .audit import AccessTokenAdmin, ContactAccessAdmin
from .base import GuardedModelAdmin
from .inbound_events import InboundEventAdmin
from .trace_events import TraceEventAdmin
from .waybills import WaybillAdmin

__all__ = [
    "AccessTokenAdmin",
    "ContactAccessAdmin",
    "GuardedModelAdmin",
    "InboundEventAdmin",
    "TraceEventAdmin",
    "WaybillAdmin",
]

"""The Django admin of django-wxlogistics: waybills, trace events, the contact audit."""

from .audit import AccessTokenAdmin, ContactAccessAdmin
from .base import GuardedModelAdmin
from .trace_events import TraceEventAdmin
from .waybills import WaybillAdmin

__all__ = ["AccessTokenAdmin", "ContactAccessAdmin", "GuardedModelAdmin", "TraceEventAdmin", "WaybillAdmin"]

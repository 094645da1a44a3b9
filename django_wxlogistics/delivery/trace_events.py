"""The trace-event kind of outbound call: each trace event is one ``logistics.updatePath``.

Its lines are waybills, in ``action_time`` order (then id); a sent event sets its
waybill's ``latest_action_type``; the signals are ``trace_event_pushed`` and
``trace_event_failed``.
"""

from __future__ import annotations

from typing import Any

from ..client import get_client
from ..models import TraceEvent
from ..signals import trace_event_failed, trace_event_pushed
from .kinds import OutboxKind


def send_trace_event(event: TraceEvent) -> None:
    """Push one trace event to WeChat; raises the client's WeChatError when it is refused."""
    waybill = event.waybill
    get_client().update_path(
        waybill.token,
        waybill.waybill_id,
        int(event.action_time.timestamp()),
        int(event.action_type),
        event.action_msg,
    )


def _signal_kwargs(event: TraceEvent) -> dict[str, Any]:
    return {"event": event, "waybill": event.waybill}


TRACE_EVENTS = OutboxKind(
    name="trace_event",
    model=TraceEvent,
    line="waybill",
    order=("action_time", "id"),
    send=send_trace_event,
    sent_signal=trace_event_pushed,
    failed_signal=trace_event_failed,
    signal_kwargs=_signal_kwargs,
    latest=("latest_action_type", "action_type"),
    noun="trace event",
)

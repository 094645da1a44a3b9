"""Celery tasks: thin wrappers that take an id and call :mod:`django_wxlogistics.delivery`.

A message only says "look at event N now": losing one is repaired by the sweeper, and a
duplicate finds the event claimed or sent and does nothing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict

from celery import shared_task

from . import delivery


@shared_task(name="django_wxlogistics.tasks.push_trace_event", ignore_result=True, acks_late=True)
def push_trace_event(event_id: int) -> str:
    """Push trace event ``event_id`` to WeChat if it is due and first in its waybill's line."""
    return delivery.deliver(int(event_id)).value


@shared_task(name="django_wxlogistics.tasks.push_trace_events", ignore_result=True, acks_late=True)
def push_trace_events(event_ids: list[int]) -> dict[str, int]:
    """Push these trace events, several calls at once; each follows its waybill's line."""
    outcomes = delivery.deliver_many(int(pk) for pk in event_ids)
    return dict(Counter(outcome.value for outcome in outcomes.values()))


@shared_task(name="django_wxlogistics.tasks.sweep_due_events", ignore_result=True)
def sweep_due_events() -> dict[str, int]:
    """Reclaim events whose worker died mid-push and nudge the events whose time has come."""
    return asdict(delivery.sweep())

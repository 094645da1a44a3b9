"""Celery tasks: thin wrappers that take ids and call :mod:`django_wxlogistics.delivery`.

A message only says "look at item N now" (a trace event, a shipping information): losing one
is repaired by the sweeper, and a duplicate finds the item claimed or sent and does nothing.
What the pipeline leaves to other workers comes back to the task, which nudges it once every
call is recorded.
"""

from __future__ import annotations

from collections import Counter

from celery import shared_task
from django.db import connections

from . import delivery
from .conf import wx_settings
from .delivery import KINDS, SHIPPING_INFO, TRACE_EVENTS
from .nudges import PUSH_MANY_TASK, PUSH_SHIPPING_TASK, PUSH_TASK, nudge, nudge_kinds


def _checked_connections() -> None:
    """Drop a database connection that is broken or past ``CONN_MAX_AGE``, as Django does
    around a request.

    Celery closes the connection after every task unless ``CELERY_DB_REUSE_MAX`` is set;
    with it set, this check is what keeps a broken connection (a restarted database) from
    failing the next tasks. A connection inside a transaction (eager tasks in a test) is
    left alone.
    """
    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            connection.close_if_unusable_or_obsolete()


@shared_task(name=PUSH_TASK, ignore_result=True, acks_late=True)
def push_trace_event(event_id: int) -> str:
    """Push trace event ``event_id`` to WeChat if it is due and first in its waybill's line."""
    _checked_connections()
    delivered = delivery.deliver_many(TRACE_EVENTS, [int(event_id)], drain=wx_settings.PUSH_DRAIN)
    nudge(delivered.left)
    return delivered.outcomes.get(int(event_id), delivery.Outcome.SKIPPED).value


@shared_task(name=PUSH_MANY_TASK, ignore_result=True, acks_late=True)
def push_trace_events(event_ids: list[int]) -> dict[str, int]:
    """Push these trace events, several calls at once; each follows its waybill's line."""
    _checked_connections()
    delivered = delivery.deliver_many(
        TRACE_EVENTS, (int(pk) for pk in event_ids), drain=wx_settings.PUSH_DRAIN
    )
    nudge(delivered.left)
    return dict(Counter(outcome.value for outcome in delivered.outcomes.values()))


@shared_task(name=PUSH_SHIPPING_TASK, ignore_result=True, acks_late=True)
def push_shipping_info(info_ids: list[int]) -> dict[str, int]:
    """Send these shipping informations to WeChat, several calls at once; each follows its payment's line."""
    _checked_connections()
    delivered = delivery.deliver_many(
        SHIPPING_INFO, (int(pk) for pk in info_ids), drain=wx_settings.PUSH_DRAIN
    )
    nudge(delivered.left, SHIPPING_INFO.name)
    return dict(Counter(outcome.value for outcome in delivered.outcomes.values()))


@shared_task(name="django_wxlogistics.tasks.sweep_due_events", ignore_result=True)
def sweep_due_events() -> dict[str, int]:
    """Reclaim items whose worker died mid-call and nudge the items whose time has come, of
    every kind (trace events, shipping information). The counts are the kinds' together."""
    _checked_connections()
    totals: Counter[str] = Counter(reclaimed=0, failed=0, nudged=0)
    due: dict[str, list[int]] = {}
    for name, kind in KINDS.items():
        swept = delivery.sweep(kind)
        due[name] = swept.due
        totals.update(reclaimed=swept.reclaimed, failed=swept.failed, nudged=len(swept.due))
    nudge_kinds(due)
    return dict(totals)

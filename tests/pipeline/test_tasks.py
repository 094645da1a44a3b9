"""The Celery tasks around delivery: the database connection they start with, and the index
the per-waybill order check reads."""

from __future__ import annotations

import time

import pytest
from django.db import connection, transaction

from django_wxlogistics import tasks
from django_wxlogistics.enums import EventState
from django_wxlogistics.models import TraceEvent
from tests.factories import TraceEventFactory, WaybillFactory


@pytest.mark.django_db(transaction=True)
def test_a_task_replaces_a_connection_past_its_max_age():
    connection.ensure_connection()
    old = connection.connection
    connection.close_at = time.monotonic() - 1  # CONN_MAX_AGE has run out
    tasks.push_trace_events([])
    assert connection.connection is not old
    assert TraceEvent.objects.count() == 0  # and the next query gets a working one


@pytest.mark.django_db(transaction=True)
def test_a_task_keeps_a_connection_that_is_fine():
    connection.ensure_connection()
    old = connection.connection
    connection.close_at = time.monotonic() + 60
    tasks.push_trace_event(987654321)
    assert connection.connection is old


@pytest.mark.django_db
def test_a_task_run_inside_a_transaction_leaves_its_connection_alone():
    # Eager tasks in a test, or a task called as a function inside atomic(): closing the
    # connection would end the caller's transaction.
    with transaction.atomic():
        old = connection.connection
        connection.close_at = time.monotonic() - 1
        tasks.push_trace_events([])
        assert connection.connection is old


@pytest.mark.django_db
def test_the_unsent_events_index_exists():
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, TraceEvent._meta.db_table)
    index = constraints["wxl_event_unsent_idx"]
    assert index["index"] is True
    assert index["columns"] == ["waybill_id", "action_time", "id"]


def _due_event(sandbox):
    waybill = WaybillFactory()
    sandbox.register_waybill(waybill.waybill_id, waybill.token)
    return TraceEventFactory(waybill=waybill)


@pytest.mark.django_db
@pytest.mark.parametrize("drain", [False, True])
def test_push_drain_decides_whether_a_task_takes_other_due_events(wechat_sandbox, settings, drain):
    settings.WXLOGISTICS = {**settings.WXLOGISTICS, "PUSH_DRAIN": drain}
    mine, other = _due_event(wechat_sandbox), _due_event(wechat_sandbox)
    assert tasks.push_trace_event(mine.pk) == "sent"
    other.refresh_from_db()
    assert other.state == (EventState.SENT if drain else EventState.PENDING)

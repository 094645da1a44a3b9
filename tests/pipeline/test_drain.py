"""Keeping every slot busy: recording and claiming in one step, tasks that take any due
event into a free slot, and leased events queued behind the calls in flight."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from django_wxlogistics import delivery
from django_wxlogistics.delivery import storage
from django_wxlogistics.enums import EventState
from django_wxlogistics.models import TraceEvent
from tests.factories import TraceEventFactory, WaybillFactory
from tests.pipeline import helpers as pipeline
from tests.pipeline.processes import wait_until

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("both_paths")]


@pytest.fixture
def sandbox(wechat_sandbox, settings):
    settings.WXLOGISTICS = {**settings.WXLOGISTICS, "TIMEOUT": (1.0, 2.0), "LEASE_SECONDS": 10}
    return wechat_sandbox


def _at(minutes: int):
    return timezone.now() - timedelta(hours=1) + timedelta(minutes=minutes)


def _line(sandbox, steps=2, **kwargs):
    """A registered waybill with ``steps`` pending events, one minute apart; its events."""
    waybill = WaybillFactory(**kwargs)
    sandbox.register_waybill(waybill.waybill_id, waybill.token)
    return [
        TraceEventFactory(waybill=waybill, action_time=_at(n), action_msg=f"step {n}")
        for n in range(1, steps + 1)
    ]


def _state(event):
    event.refresh_from_db()
    return event.state


def _single_statements() -> bool:
    return connection.vendor == "postgresql" and storage.STATEMENTS


def test_a_task_with_free_slots_takes_the_other_due_events_each_in_order(sandbox):
    lines = [_line(sandbox) for _ in range(3)]
    # Not due: a retry waiting for its time, and the event behind it.
    waiting = _line(sandbox)
    TraceEvent.objects.filter(pk=waiting[0].pk).update(next_attempt_at=timezone.now() + timedelta(minutes=5))
    outcomes = pipeline.deliver_many([lines[0][0].pk], drain=True)
    drained = {e.pk for line in lines for e in line}
    assert {pk for pk, o in outcomes.items() if o is delivery.Outcome.SENT} == drained
    for line in lines:
        trace = sandbox.trace(line[0].waybill.waybill_id)
        assert [t["action_msg"] for t in trace] == ["step 1", "step 2"]
    assert [_state(e) for e in waiting] == [EventState.PENDING, EventState.PENDING]
    assert sandbox.trace(waiting[0].waybill.waybill_id) == []


def test_without_drain_only_the_given_events_and_those_behind_them_go(sandbox):
    mine, other = _line(sandbox), _line(sandbox)
    outcomes = pipeline.deliver_many([mine[0].pk])
    assert outcomes == {mine[0].pk: delivery.Outcome.SENT, mine[1].pk: delivery.Outcome.SENT}
    assert [_state(e) for e in other] == [EventState.PENDING, EventState.PENDING]


@pytest.mark.usefixtures("one_at_a_time")
def test_claim_due_takes_only_heads_of_line_oldest_due_first(sandbox):
    old, new = _line(sandbox), _line(sandbox)
    TraceEvent.objects.filter(pk=old[0].pk).update(next_attempt_at=timezone.now() - timedelta(minutes=30))
    TraceEvent.objects.filter(pk=new[0].pk).update(next_attempt_at=timezone.now() - timedelta(minutes=1))
    first = pipeline.claim_due(1)
    assert [c.item.pk for c in first] == [old[0].pk]
    assert first[0].item.waybill.waybill_id == old[0].waybill.waybill_id  # the waybill came along
    rest = pipeline.claim_due(10)
    assert [c.item.pk for c in rest] == [new[0].pk]  # old[1] waits behind old[0], still sending
    assert pipeline.claim_due(10) == []
    assert pipeline.claim_due(0) == []


@pytest.mark.usefixtures("one_at_a_time")
def test_settle_records_and_leases_the_next_events_in_one_statement_on_postgresql(sandbox):
    lines = [_line(sandbox) for _ in range(2)]
    elsewhere = _line(sandbox, steps=1)[0]
    claims = pipeline.claim_many([line[0].pk for line in lines])
    with CaptureQueriesContext(connection) as queries:
        recorded, leased = pipeline.settle([(c, None) for c in claims], room=3, drain=True)
    assert {o for _, o in recorded} == {delivery.Outcome.SENT}
    # The next event of each waybill first, then a due event of another one.
    assert {c.item.pk for c in leased} == {lines[0][1].pk, lines[1][1].pk, elsewhere.pk}
    assert all(_state(c.item) == EventState.SENDING for c in leased)
    if _single_statements():
        assert {c.lease for c in leased} == {leased[0].lease}
    # ORM: two to record, two to lease the next ones, three to pick and lease a due one.
    assert len(queries) == (1 if _single_statements() else 7)
    done = TraceEvent.objects.filter(pk__in=[c.item.pk for c in claims])
    assert {e.waybill.latest_action_type for e in done} == {lines[0][0].action_type}


def test_settle_never_leases_more_than_the_room_it_is_given(sandbox):
    for _ in range(5):
        _line(sandbox, steps=1)
    recorded, leased = pipeline.settle([], room=2, drain=True)
    assert recorded == [] and len(leased) == 2
    assert TraceEvent.objects.filter(state=EventState.SENDING).count() == 2
    recorded, leased = pipeline.settle([], room=0, drain=True)
    assert leased == []


@pytest.mark.usefixtures("one_at_a_time")
def test_settle_without_drain_leases_only_what_follows_the_finished_events(sandbox):
    line, other = _line(sandbox), _line(sandbox, steps=1)[0]
    claims = pipeline.claim_many([line[0].pk])
    _, leased = pipeline.settle([(c, None) for c in claims], room=5, drain=False)
    assert [c.item.pk for c in leased] == [line[1].pk]
    assert _state(other) == EventState.PENDING


@pytest.mark.usefixtures("one_at_a_time")
def test_settle_leases_nothing_behind_an_event_whose_lease_was_lost(sandbox):
    line = _line(sandbox)
    claims = pipeline.claim_many([line[0].pk])
    # The lease ran out and another worker took the event over.
    TraceEvent.objects.filter(pk=line[0].pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    pipeline.reclaim_expired_leases()
    retaken = pipeline.claim(line[0].pk)
    assert retaken is not None
    recorded, leased = pipeline.settle([(c, None) for c in claims], room=5, drain=True)
    assert [o for _, o in recorded] == [delivery.Outcome.LOST]
    assert leased == []  # its follower still waits for the worker that holds it now
    assert _state(line[1]) == EventState.PENDING


@pytest.mark.usefixtures("one_at_a_time")
def test_settle_records_a_failure_and_leases_the_next_event_past_it(sandbox):
    from django_wxlogistics.exceptions import InvalidWaybillToken

    line = _line(sandbox)
    claims = pipeline.claim_many([line[0].pk])
    error = InvalidWaybillToken(9300507, "bad token", "logistics.updatePath")
    recorded, leased = pipeline.settle([(claims[0], error)], room=1, drain=False)
    assert [o for _, o in recorded] == [delivery.Outcome.FAILED]
    assert [c.item.pk for c in leased] == [line[1].pk]  # a failed event does not hold the line


@pytest.mark.usefixtures("one_at_a_time")
@pytest.mark.django_db(transaction=True)
def test_settle_records_the_successes_first_and_the_failures_in_one_transaction(sandbox):
    # Until WeChat's acceptance is recorded a killed worker means a copy: the successes
    # must not wait behind the failures, which commit together, once.
    from django_wxlogistics.exceptions import WeChatError

    ok, *bad = (_line(sandbox, steps=2) for _ in range(4))
    claims = {c.item.waybill_id: c for c in pipeline.claim_many([line[0].pk for line in (ok, *bad)])}
    error = WeChatError(errcode=-1, errmsg="system busy", api="logistics.updatePath")
    results = [(claims[line[0].waybill_id], error) for line in bad] + [(claims[ok[0].waybill_id], None)]
    with CaptureQueriesContext(connection) as queries:
        recorded, leased = pipeline.settle(results, room=4)
    outcomes = {c.item.pk: o for c, o in recorded}
    assert outcomes[ok[0].pk] is delivery.Outcome.SENT
    assert {outcomes[line[0].pk] for line in bad} == {delivery.Outcome.RETRY}
    assert [c.item.pk for c in leased] == [ok[1].pk]  # the retries hold their lines
    sql = [q["sql"] for q in queries]
    marks_sent = next(i for i, q in enumerate(sql) if '"sent_at" = \'' in q)
    failures = [i for i, q in enumerate(sql) if '"last_errcode" =' in q and '"sent_at" =' not in q]
    # On PostgreSQL one statement records them all, by primary key; elsewhere one each.
    assert len(failures) == (1 if _single_statements() else 3) and marks_sent < min(failures), sql
    assert [q for q in sql if q.startswith("BEGIN")] == ["BEGIN"]  # one commit for the failures


def test_settle_marks_sent_events_of_several_leases_at_once(sandbox):
    a, b = _line(sandbox, steps=1)[0], _line(sandbox, steps=1)[0]
    first, second = pipeline.claim_many([a.pk]), pipeline.claim_many([b.pk])
    assert first[0].lease != second[0].lease
    with CaptureQueriesContext(connection) as queries:
        recorded, _ = pipeline.settle([(first[0], None), (second[0], None)])
    assert {o for _, o in recorded} == {delivery.Outcome.SENT}
    assert len(queries) == (1 if _single_statements() else 4)
    assert _state(a) == _state(b) == EventState.SENT


@pytest.mark.django_db(transaction=True)
def test_queued_events_never_put_more_than_push_concurrency_calls_in_flight(sandbox, settings):
    from django.db import connections

    settings.WXLOGISTICS = {**settings.WXLOGISTICS, "PUSH_CONCURRENCY": 2}
    latency = 0.2
    lines = [_line(sandbox, steps=1) for _ in range(6)]
    sandbox.set_faults(latency_ms=600_000)  # the first calls are held until released
    outcomes: dict = {}

    def worker():
        try:
            outcomes.update(pipeline.deliver_many([line[0].pk for line in lines]))
        finally:
            connections.close_all()

    thread = threading.Thread(target=worker)
    thread.start()
    try:
        wait_until(lambda: sandbox.stats()["held"] == 2)  # two calls in flight together
        sandbox.set_faults(latency_ms=latency * 1000)  # for the calls after them
    finally:
        sandbox.release()
        thread.join(30)
    sandbox.clear_faults()
    assert list(outcomes.values()) == [delivery.Outcome.SENT] * 6
    assert sandbox.stats()["most_held"] == 2
    starts = sorted(c["time"] for c in sandbox.calls(api="logistics.updatePath"))
    assert len(starts) == 6
    # After the two held calls: of any three in a row, two came from the same calling thread,
    # one after the other (the second began at least `latency` after the first).
    after = starts[2:]
    assert all(after[i + 2] - after[i] >= 0.9 * latency for i in range(len(after) - 2)), starts


@pytest.mark.django_db(transaction=True)
def test_claim_due_skips_an_event_another_worker_is_claiming_rather_than_wait(sandbox):
    if not _single_statements():
        pytest.skip("SKIP LOCKED is the PostgreSQL statement's; the ORM path re-checks each claim")
    locked, free = _line(sandbox, steps=1)[0], _line(sandbox, steps=1)[0]
    holding, release = threading.Event(), threading.Event()

    def other_worker():
        from django.db import connections

        try:
            with transaction.atomic():
                list(TraceEvent.objects.select_for_update().filter(pk=locked.pk))
                holding.set()
                release.wait(10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=other_worker)
    thread.start()
    try:
        assert holding.wait(10)
        with connection.cursor() as cursor:
            # Waiting for the lock would fail here, with an error rather than a slow answer.
            cursor.execute("SET lock_timeout = '2s'")
        claims = pipeline.claim_due(10)
    finally:
        release.set()
        thread.join(10)
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")
    assert [c.item.pk for c in claims] == [free.pk]
    assert _state(locked) == EventState.PENDING

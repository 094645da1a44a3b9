"""Delivery against the sandbox over real HTTP: each state transition, ordering, duplicates,
max attempts, signals, and that nothing reaches the network before commit or on rollback."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from django_wxlogistics import delivery
from django_wxlogistics.delivery import TRACE_EVENTS
from django_wxlogistics.enums import ActionType, EventState
from django_wxlogistics.exceptions import InvalidWaybillToken, TransientError
from django_wxlogistics.models import TraceEvent
from django_wxlogistics.services import record_trace_event, retry_failed_events
from django_wxlogistics.signals import trace_event_failed, trace_event_pushed
from tests.factories import TraceEventFactory, WaybillFactory
from tests.pipeline import helpers as pipeline
from tests.pipeline.processes import wait_until

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("both_paths")]


@pytest.fixture
def sandbox(wechat_sandbox, settings):
    """The sandbox, with fast retries so tests can make events due again at once."""
    settings.WXLOGISTICS = {
        **settings.WXLOGISTICS,
        "RETRY_BACKOFF_BASE": 0.001,
        "RETRY_BACKOFF_CAP": 0.001,
        "TIMEOUT": (1.0, 1.0),
        "LEASE_SECONDS": 10,
    }
    return wechat_sandbox


@pytest.fixture
def signals():
    received: dict[str, list[dict]] = {"pushed": [], "failed": []}

    def on_pushed(sender, **kwargs):
        received["pushed"].append(kwargs)

    def on_failed(sender, **kwargs):
        received["failed"].append(kwargs)

    trace_event_pushed.connect(on_pushed)
    trace_event_failed.connect(on_failed)
    yield received
    trace_event_pushed.disconnect(on_pushed)
    trace_event_failed.disconnect(on_failed)


def _registered(sandbox, **kwargs):
    waybill = WaybillFactory(**kwargs)
    sandbox.register_waybill(waybill.waybill_id, waybill.token)
    return waybill


def _at(minutes: int):
    return timezone.now() - timedelta(hours=1) + timedelta(minutes=minutes)


def test_pending_to_sent(sandbox, signals):
    waybill = _registered(sandbox)
    event = TraceEventFactory(
        waybill=waybill, action_type=ActionType.OUT_FOR_DELIVERY, action_msg="派送中 18666666666"
    )
    assert pipeline.deliver(event.pk) is delivery.Outcome.SENT
    event.refresh_from_db()
    waybill.refresh_from_db()
    assert event.state == EventState.SENT
    assert event.sent_at is not None
    assert event.attempts == 1
    assert event.lease_expires_at is None
    assert waybill.latest_action_type == ActionType.OUT_FOR_DELIVERY
    trace = sandbox.trace(waybill.waybill_id)
    assert [(t["action_type"], t["action_msg"]) for t in trace] == [(300002, "派送中 18666666666")]
    assert [s["event"].pk for s in signals["pushed"]] == [event.pk]
    assert signals["pushed"][0]["waybill"] == waybill
    assert signals["failed"] == []


def test_a_duplicate_message_pushes_nothing_twice(sandbox):
    event = TraceEventFactory(waybill=_registered(sandbox))
    assert pipeline.deliver(event.pk) is delivery.Outcome.SENT
    assert pipeline.deliver(event.pk) is delivery.Outcome.SKIPPED
    assert len(sandbox.trace(event.waybill.waybill_id)) == 1


def test_transient_failure_goes_back_to_pending_with_backoff(sandbox, signals, settings):
    settings.WXLOGISTICS = {**settings.WXLOGISTICS, "RETRY_BACKOFF_BASE": 30.0, "RETRY_BACKOFF_CAP": 30.0}
    event = TraceEventFactory(waybill=_registered(sandbox))
    sandbox.set_faults(error_rate=1.0, kinds=["errcode"])
    before = timezone.now()
    assert pipeline.deliver(event.pk) is delivery.Outcome.RETRY
    event.refresh_from_db()
    assert event.state == EventState.PENDING
    assert event.attempts == 1
    assert event.last_errcode == -1
    assert "errcode -1" in event.last_errmsg
    assert before <= event.next_attempt_at <= timezone.now() + timedelta(seconds=30)  # [0, base * 2**0]
    assert event.lease_expires_at is None
    assert signals["failed"] == [] and signals["pushed"] == []


@pytest.mark.parametrize("kind", ["http500", "reset"])
def test_http_and_network_faults_are_retried(sandbox, kind):
    event = TraceEventFactory(waybill=_registered(sandbox))
    sandbox.set_faults(error_rate=1.0, kinds=[kind])
    assert pipeline.deliver(event.pk) is delivery.Outcome.RETRY
    sandbox.clear_faults()
    assert pipeline.deliver(event.pk) is delivery.Outcome.SENT
    event.refresh_from_db()
    assert event.attempts == 2
    assert event.last_errcode is None and event.last_errmsg == ""


def test_a_hang_past_the_timeout_is_retried(sandbox, settings):
    settings.WXLOGISTICS = {**settings.WXLOGISTICS, "TIMEOUT": (1.0, 0.3)}
    event = TraceEventFactory(waybill=_registered(sandbox))
    sandbox.set_faults(error_rate=1.0, kinds=["hang"], hang_seconds=2)
    assert pipeline.deliver(event.pk) is delivery.Outcome.RETRY
    event.refresh_from_db()
    assert event.state == EventState.PENDING


def test_permanent_failure_fails_at_once_and_signals(sandbox, signals):
    waybill = WaybillFactory()
    sandbox.register_waybill(waybill.waybill_id, "another-token")
    event = TraceEventFactory(waybill=waybill)
    assert pipeline.deliver(event.pk) is delivery.Outcome.FAILED
    event.refresh_from_db()
    assert event.state == EventState.FAILED
    assert event.attempts == 1
    assert event.last_errcode == 9300507
    assert waybill.token not in event.last_errmsg
    assert [s["event"].pk for s in signals["failed"]] == [event.pk]
    assert isinstance(signals["failed"][0]["error"], InvalidWaybillToken)


def test_attempts_exhausted_fails(sandbox, signals, settings):
    settings.WXLOGISTICS = {**settings.WXLOGISTICS, "MAX_ATTEMPTS": 3}
    event = TraceEventFactory(waybill=_registered(sandbox))
    sandbox.set_faults(error_rate=1.0, kinds=["errcode"])
    outcomes = []
    for _ in range(3):
        TraceEvent.objects.filter(pk=event.pk).update(next_attempt_at=timezone.now())
        outcomes.append(pipeline.deliver(event.pk))
    assert outcomes == [delivery.Outcome.RETRY, delivery.Outcome.RETRY, delivery.Outcome.FAILED]
    event.refresh_from_db()
    assert event.state == EventState.FAILED
    assert event.attempts == 3
    assert isinstance(signals["failed"][0]["error"], TransientError)
    assert [c["fault"] for c in sandbox.calls(api="logistics.updatePath")] == ["errcode"] * 3


@pytest.mark.usefixtures("one_at_a_time")
def test_events_reach_wechat_in_action_time_order(sandbox):
    waybill = _registered(sandbox)
    third = TraceEventFactory(waybill=waybill, action_time=_at(3), action_msg="third")
    first = TraceEventFactory(waybill=waybill, action_time=_at(1), action_msg="first")
    second = TraceEventFactory(waybill=waybill, action_time=_at(2), action_msg="second")
    # Messages arrive in the worst order: each later one finds an earlier one unsent.
    assert pipeline.deliver(third.pk, nudge_next=False) is delivery.Outcome.SKIPPED
    assert pipeline.deliver(second.pk, nudge_next=False) is delivery.Outcome.SKIPPED
    assert pipeline.deliver(first.pk, nudge_next=False) is delivery.Outcome.SENT
    assert pipeline.deliver(third.pk, nudge_next=False) is delivery.Outcome.SKIPPED
    assert pipeline.deliver(second.pk, nudge_next=False) is delivery.Outcome.SENT
    assert pipeline.deliver(third.pk, nudge_next=False) is delivery.Outcome.SENT
    assert [t["action_msg"] for t in sandbox.trace(waybill.waybill_id)] == ["first", "second", "third"]
    waybill.refresh_from_db()
    assert waybill.latest_action_type == third.action_type


def test_an_older_event_sent_late_does_not_become_the_latest_action(sandbox):
    waybill = _registered(sandbox)
    older = TraceEventFactory(
        waybill=waybill, action_time=_at(1), action_type=ActionType.PICKED_UP, state=EventState.FAILED
    )
    newer = TraceEventFactory(waybill=waybill, action_time=_at(2), action_type=ActionType.SIGNED)
    assert pipeline.deliver(newer.pk) is delivery.Outcome.SENT
    assert retry_failed_events(TraceEvent.objects.filter(pk=older.pk), nudge_workers=False) == 1
    assert pipeline.deliver(older.pk) is delivery.Outcome.SENT
    waybill.refresh_from_db()
    assert waybill.latest_action_type == ActionType.SIGNED


@pytest.mark.usefixtures("one_at_a_time")
def test_a_waybill_waits_behind_its_retrying_event_then_follows(sandbox):
    waybill = _registered(sandbox)
    first = TraceEventFactory(waybill=waybill, action_time=_at(1), action_msg="first")
    second = TraceEventFactory(waybill=waybill, action_time=_at(2), action_msg="second")
    sandbox.set_faults(error_rate=1.0, kinds=["errcode"])
    assert pipeline.deliver(first.pk, nudge_next=False) is delivery.Outcome.RETRY
    sandbox.clear_faults()
    assert pipeline.deliver(second.pk, nudge_next=False) is delivery.Outcome.SKIPPED
    TraceEvent.objects.filter(pk=first.pk).update(next_attempt_at=timezone.now())
    assert pipeline.deliver(first.pk, nudge_next=False) is delivery.Outcome.SENT
    assert pipeline.deliver(second.pk, nudge_next=False) is delivery.Outcome.SENT
    faults = [
        c["fault"] for c in sandbox.calls(api="logistics.updatePath") if c["body"]["action_msg"] == "first"
    ]
    assert "errcode" in faults
    assert [t["action_msg"] for t in sandbox.trace(waybill.waybill_id)] == ["first", "second"]


def test_later_events_still_go_after_an_earlier_one_failed(sandbox):
    waybill = _registered(sandbox)
    TraceEventFactory(waybill=waybill, action_time=_at(1), state=EventState.FAILED)
    later = TraceEventFactory(waybill=waybill, action_time=_at(2))
    assert pipeline.deliver(later.pk) is delivery.Outcome.SENT


def test_a_sent_event_nudges_the_next_of_its_waybill(sandbox, settings):
    from django_wxlogistics.tasks import push_trace_event

    settings.CELERY_TASK_ALWAYS_EAGER = True
    push_trace_event.app.conf.task_always_eager = True
    try:
        waybill = _registered(sandbox)
        first = TraceEventFactory(waybill=waybill, action_time=_at(1), action_msg="first")
        TraceEventFactory(waybill=waybill, action_time=_at(2), action_msg="second")
        TraceEventFactory(waybill=waybill, action_time=_at(3), action_msg="third")
        assert pipeline.deliver(first.pk) is delivery.Outcome.SENT
    finally:
        push_trace_event.app.conf.task_always_eager = False
    assert [t["action_msg"] for t in sandbox.trace(waybill.waybill_id)] == ["first", "second", "third"]
    assert not TraceEvent.objects.exclude(state=EventState.SENT).exists()


def test_retry_failed_events_pushes_them_again(sandbox):
    waybill = WaybillFactory()
    sandbox.register_waybill(waybill.waybill_id, "another-token")
    event = TraceEventFactory(waybill=waybill)
    assert pipeline.deliver(event.pk) is delivery.Outcome.FAILED
    sandbox.register_waybill(waybill.waybill_id, waybill.token)
    assert retry_failed_events(TraceEvent.objects.all(), nudge_workers=False) == 1
    assert pipeline.deliver(event.pk) is delivery.Outcome.SENT


def test_a_receiver_error_does_not_undo_a_sent_event(sandbox):
    def broken(sender, **kwargs):
        raise RuntimeError("receiver bug")

    trace_event_pushed.connect(broken)
    try:
        event = TraceEventFactory(waybill=_registered(sandbox))
        assert pipeline.deliver(event.pk) is delivery.Outcome.SENT
    finally:
        trace_event_pushed.disconnect(broken)
    event.refresh_from_db()
    assert event.state == EventState.SENT


@pytest.mark.django_db(transaction=True)
def test_nothing_reaches_the_network_before_commit_and_nothing_on_rollback(sandbox):
    from django_wxlogistics.tasks import push_trace_event

    waybill = _registered(sandbox)
    push_trace_event.app.conf.task_always_eager = True
    try:
        with transaction.atomic():
            record_trace_event(waybill, ActionType.PICKED_UP, "已揽收")
            assert sandbox.calls(api="logistics.updatePath") == []
        assert [t["action_msg"] for t in sandbox.trace(waybill.waybill_id)] == ["已揽收"]

        with pytest.raises(RuntimeError), transaction.atomic():
            record_trace_event(waybill, ActionType.IN_TRANSIT, "运输中")
            raise RuntimeError("the shop's transaction fails")
    finally:
        push_trace_event.app.conf.task_always_eager = False
    assert {c["body"]["action_msg"] for c in sandbox.calls(api="logistics.updatePath")} == {"已揽收"}
    assert TraceEvent.objects.count() == 1


def test_record_trace_event_costs_one_query(waybill):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        record_trace_event(waybill, ActionType.PICKED_UP, "已揽收")
    assert len(queries) == 1
    assert queries[0]["sql"].startswith("INSERT")


@pytest.fixture
def nudges():
    """The event ids each task message named, in the order the (eager) tasks ran."""
    from celery.signals import task_prerun

    from django_wxlogistics.tasks import push_trace_event

    seen: list[list[int]] = []

    def on_prerun(sender=None, args=None, **kwargs):
        if sender.name.endswith(("push_trace_event", "push_trace_events")):
            seen.append(args[0] if isinstance(args[0], list) else [args[0]])

    push_trace_event.app.conf.task_always_eager = True
    task_prerun.connect(on_prerun)
    yield seen
    push_trace_event.app.conf.task_always_eager = False
    task_prerun.disconnect(on_prerun)


@pytest.mark.django_db(transaction=True)
def test_an_event_queued_behind_an_earlier_one_follows_it_in_the_same_task(sandbox, nudges):
    waybill = _registered(sandbox)
    with transaction.atomic():
        first = record_trace_event(waybill, ActionType.PICKED_UP, "已揽收", _at(1))
        second = record_trace_event(waybill, ActionType.IN_TRANSIT, "运输中", _at(2))
    # One nudge, for the waybill's first event; the worker pushed the second right after it.
    assert nudges == [[first.pk]]
    assert second.pk not in nudges[0]
    assert [t["action_msg"] for t in sandbox.trace(waybill.waybill_id)] == ["已揽收", "运输中"]


@pytest.mark.django_db(transaction=True)
def test_an_event_recorded_outside_a_transaction_is_nudged_at_once(sandbox, nudges):
    waybill = _registered(sandbox)
    event = record_trace_event(waybill, ActionType.PICKED_UP, "已揽收")  # autocommit
    again = record_trace_event(waybill, ActionType.IN_TRANSIT, "运输中", timezone.now())
    assert nudges == [[event.pk], [again.pk]]
    assert [t["action_msg"] for t in sandbox.trace(waybill.waybill_id)] == ["已揽收", "运输中"]


@pytest.mark.django_db(transaction=True)
def test_the_events_of_one_transaction_share_their_messages(sandbox, nudges, settings):
    settings.WXLOGISTICS = {**settings.WXLOGISTICS, "PUSH_CONCURRENCY": 2}
    waybills = [_registered(sandbox) for _ in range(10)]
    with transaction.atomic():
        ids = [record_trace_event(w, ActionType.PICKED_UP, f"已揽收 {w.waybill_id}").pk for w in waybills]
    assert nudges == [ids[0:8], ids[8:10]]  # four times PUSH_CONCURRENCY a message
    assert TraceEvent.objects.filter(state=EventState.SENT).count() == 10
    assert {c["body"]["waybill_id"] for c in sandbox.calls(api="logistics.updatePath")} == {
        w.waybill_id for w in waybills
    }


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_savepoint_keeps_the_nudge_of_what_committed(sandbox, nudges):
    kept, dropped = _registered(sandbox), _registered(sandbox)
    with transaction.atomic():
        with pytest.raises(RuntimeError), transaction.atomic():
            record_trace_event(dropped, ActionType.PICKED_UP, "rolled back")
            raise RuntimeError("the savepoint rolls back")
        event = record_trace_event(kept, ActionType.PICKED_UP, "kept")
    assert nudges == [[event.pk]]
    assert [c["body"]["action_msg"] for c in sandbox.calls(api="logistics.updatePath")] == ["kept"]


@pytest.mark.django_db(transaction=True)
def test_each_transaction_nudges_what_it_committed_and_nothing_a_rollback_discarded(sandbox, nudges):
    """A rolled-back transaction's nudge is discarded with it: the next transaction, its first
    events in a savepoint that rolls back too, gets one nudge of its own naming the rest."""
    a, b, c, d = (_registered(sandbox) for _ in range(4))
    with pytest.raises(RuntimeError), transaction.atomic():
        record_trace_event(a, ActionType.PICKED_UP, "outer rolled back")
        record_trace_event(b, ActionType.PICKED_UP, "outer rolled back")
        raise RuntimeError("the shop's transaction fails")
    assert nudges == []
    with transaction.atomic():
        with pytest.raises(RuntimeError), transaction.atomic():
            record_trace_event(a, ActionType.PICKED_UP, "savepoint rolled back")
            record_trace_event(c, ActionType.PICKED_UP, "savepoint rolled back")
            raise RuntimeError("the savepoint rolls back")
        kept = [record_trace_event(w, ActionType.PICKED_UP, "kept", _at(1)) for w in (c, a)]
        with transaction.atomic():  # a savepoint that is released: its events commit with the rest
            kept += [record_trace_event(w, ActionType.PICKED_UP, "kept", _at(1)) for w in (d, b)]
        record_trace_event(c, ActionType.IN_TRANSIT, "kept, behind its waybill's first", _at(2))
    assert nudges == [[e.pk for e in kept]]  # one message, each waybill's first event
    assert sorted(c["body"]["waybill_id"] for c in sandbox.calls(api="logistics.updatePath")) == sorted(
        [a.waybill_id, b.waybill_id, c.waybill_id, c.waybill_id, d.waybill_id]
    )
    assert set(TraceEvent.objects.values_list("action_msg", flat=True)) == {
        "kept",
        "kept, behind its waybill's first",
    }


@pytest.mark.django_db(transaction=True)
def test_an_event_recorded_while_the_earlier_one_is_being_pushed_is_not_left_waiting(sandbox, nudges):
    """The shop records the second event while a worker pushes the first: neither sees the
    other's uncommitted work, and the second must still go without the sweeper."""
    import threading

    from django.db import connections

    waybill = _registered(sandbox)
    first = TraceEventFactory(waybill=waybill, action_time=_at(1), action_msg="first")
    leased = pipeline.claim(first.pk)
    assert leased is not None
    recorded, pushed = threading.Event(), threading.Event()

    def shop():
        try:
            with transaction.atomic():
                record_trace_event(waybill, ActionType.IN_TRANSIT, "second", _at(2))
                recorded.set()
                pushed.wait(10)  # commit only after the worker finished the first
        finally:
            connections.close_all()

    thread = threading.Thread(target=shop)
    thread.start()
    assert recorded.wait(10)
    assert pipeline.push(leased) is delivery.Outcome.SENT  # the worker finds no next event yet
    pushed.set()
    thread.join(10)
    assert [t["action_msg"] for t in sandbox.trace(waybill.waybill_id)] == ["first", "second"]
    assert not TraceEvent.objects.exclude(state=EventState.SENT).exists()


@pytest.mark.django_db(transaction=True)
def test_an_event_committed_while_the_earlier_one_is_in_flight_follows_it_at_once(sandbox, nudges):
    """The second event's own nudge comes while the first is still being pushed, and finds
    it waiting; the worker pushing the first must take the second right after it."""
    import threading

    from django.db import connections

    waybill = _registered(sandbox)
    first = TraceEventFactory(waybill=waybill, action_time=_at(1), action_msg="first")
    sandbox.set_faults(latency_ms=600_000)  # the sandbox holds the call until released
    outcomes: dict = {}

    def worker():
        try:
            outcomes.update(pipeline.deliver_many([first.pk]))
        finally:
            connections.close_all()

    thread = threading.Thread(target=worker)
    thread.start()
    try:
        wait_until(lambda: sandbox.stats()["held"] == 1)  # the first is at WeChat, unanswered
        with transaction.atomic():
            second = record_trace_event(waybill, ActionType.IN_TRANSIT, "second", _at(2))
    finally:
        sandbox.clear_faults()
        sandbox.release()
        thread.join(30)
    assert nudges == [[second.pk]]  # its own nudge, which found the first still in flight
    assert outcomes == {first.pk: delivery.Outcome.SENT, second.pk: delivery.Outcome.SENT}
    assert [t["action_msg"] for t in sandbox.trace(waybill.waybill_id)] == ["first", "second"]


@pytest.mark.django_db(transaction=True)
def test_deliver_many_pushes_several_waybills_at_once_each_in_order(sandbox, settings):
    import threading

    from django.db import connections

    settings.WXLOGISTICS = {**settings.WXLOGISTICS, "PUSH_CONCURRENCY": 4}
    waybills = [_registered(sandbox) for _ in range(4)]
    heads = []
    for w in waybills:
        for minute in (1, 2, 3):
            event = TraceEventFactory(waybill=w, action_time=_at(minute), action_msg=f"step {minute}")
            if minute == 1:
                heads.append(event.pk)
    sandbox.set_faults(latency_ms=600_000)  # the sandbox holds each call until released
    outcomes: dict = {}

    def worker():
        try:
            outcomes.update(pipeline.deliver_many(heads))
        finally:
            connections.close_all()

    thread = threading.Thread(target=worker)
    thread.start()
    try:
        # Four calls at WeChat at once, none answered: they were not made one after the other.
        wait_until(lambda: sandbox.stats()["held"] == 4)
    finally:
        sandbox.clear_faults()
        sandbox.release()
        thread.join(30)
    assert list(outcomes.values()).count(delivery.Outcome.SENT) == 12
    for w in waybills:
        assert [t["action_msg"] for t in sandbox.trace(w.waybill_id)] == ["step 1", "step 2", "step 3"]
    assert sandbox.stats()["most_held"] == 4  # no more than PUSH_CONCURRENCY while they were held


@pytest.mark.usefixtures("one_at_a_time")
def test_deliver_many_skips_what_it_cannot_claim(sandbox):
    waybill = _registered(sandbox)
    first = TraceEventFactory(waybill=waybill, action_time=_at(1), action_msg="first")
    behind = TraceEventFactory(waybill=waybill, action_time=_at(2), action_msg="behind")
    done = TraceEventFactory(waybill=_registered(sandbox), state=EventState.SENT, sent_at=timezone.now())
    outcomes = pipeline.deliver_many([behind.pk, done.pk, first.pk], follow=False)
    assert outcomes == {
        behind.pk: delivery.Outcome.SKIPPED,
        done.pk: delivery.Outcome.SKIPPED,
        first.pk: delivery.Outcome.SENT,
    }
    assert [c["body"]["action_msg"] for c in sandbox.calls(api="logistics.updatePath")] == ["first"]


def test_outcomes_of_one_lease_are_recorded_together_except_a_lost_one(sandbox):
    a, b = TraceEventFactory(waybill=_registered(sandbox)), TraceEventFactory(waybill=_registered(sandbox))
    claims = pipeline.claim_many([a.pk, b.pk])
    assert {c.lease for c in claims} == {claims[0].lease}
    # b's lease ran out and another worker took b over: this worker must not record b.
    TraceEvent.objects.filter(pk=b.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    pipeline.reclaim_expired_leases()
    retaken = pipeline.claim(b.pk)
    assert retaken is not None
    recorded = dict((c.item.pk, o) for c, o in pipeline.record_outcomes([(c, None) for c in claims]))
    assert recorded == {a.pk: delivery.Outcome.SENT, b.pk: delivery.Outcome.LOST}
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.state == EventState.SENT and a.waybill.latest_action_type == a.action_type
    assert b.state == EventState.SENDING and b.lease_expires_at == retaken.lease


def test_the_sweeper_leaves_alone_events_whose_nudge_is_on_its_way(sandbox, settings):
    from django_wxlogistics.tasks import sweep_due_events

    settings.WXLOGISTICS = {**settings.WXLOGISTICS, "SWEEP_INTERVAL": 60}
    TraceEventFactory(waybill=_registered(sandbox), action_msg="just nudged")
    forgotten = TraceEventFactory(waybill=_registered(sandbox), action_msg="nudge lost")
    retry = TraceEventFactory(waybill=_registered(sandbox), action_msg="retry due")
    long_ago = timezone.now() - timedelta(minutes=5)
    TraceEvent.objects.filter(pk=forgotten.pk).update(updated_at=long_ago, next_attempt_at=long_ago)
    # A transient failure 30 s ago set its next attempt to 10 s ago.
    now = timezone.now()
    TraceEvent.objects.filter(pk=retry.pk).update(
        updated_at=now - timedelta(seconds=30), next_attempt_at=now - timedelta(seconds=10)
    )
    assert set(pipeline.due_head_event_ids(quiet_for=60)) == {forgotten.pk, retry.pk}
    assert sweep_due_events()["nudged"] == 2  # to the broker; no worker runs here


def test_the_sweeper_reclaims_a_dead_workers_event_and_pushes_due_ones(sandbox):
    from django_wxlogistics.tasks import push_trace_event, sweep_due_events

    waybill = _registered(sandbox)
    orphan = TraceEventFactory(
        waybill=waybill,
        action_time=_at(1),
        action_msg="orphan",
        state=EventState.SENDING,
        lease_expires_at=timezone.now() - timedelta(seconds=1),
    )
    TraceEventFactory(waybill=waybill, action_time=_at(2), action_msg="next")
    push_trace_event.app.conf.task_always_eager = True
    try:
        result = sweep_due_events()
    finally:
        push_trace_event.app.conf.task_always_eager = False
    assert result == {"reclaimed": 1, "failed": 0, "nudged": 1}
    orphan.refresh_from_db()
    assert orphan.state == EventState.SENT
    assert orphan.attempts == 2  # the lost attempt counts, then the one that got through
    assert [t["action_msg"] for t in sandbox.trace(waybill.waybill_id)] == ["orphan", "next"]


@pytest.mark.usefixtures("one_at_a_time")
def test_after_follow_seconds_what_is_left_is_nudged_once_every_call_is_recorded(sandbox):
    waybill = _registered(sandbox)
    first = TraceEventFactory(waybill=waybill, action_time=_at(1), action_msg="first")
    second = TraceEventFactory(waybill=waybill, action_time=_at(2), action_msg="second")
    # follow_for=0: the task leaves the rest at once.
    delivered = delivery.deliver_many(TRACE_EVENTS, [first.pk], follow_for=0)
    assert delivered.outcomes == {first.pk: delivery.Outcome.SENT}
    # What the task nudges comes back with the outcomes, once the first was recorded.
    seen = [(delivered.left, TraceEvent.objects.get(pk=first.pk).state)]
    # One nudge, for the next event, published after the first was recorded.
    assert seen == [([second.pk], EventState.SENT)]
    assert TraceEvent.objects.get(pk=second.pk).state == EventState.PENDING

"""Chains: a waybill's first event leased with the due events behind it, pushed one after
the other by one calling thread, each once the one before is recorded."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from django.db import OperationalError, connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from django_wxlogistics import delivery
from django_wxlogistics.delivery import TRACE_EVENTS
from django_wxlogistics.enums import EventState
from django_wxlogistics.models import TraceEvent
from tests.factories import TraceEventFactory, WaybillFactory
from tests.pipeline import helpers as pipeline

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("both_paths")]


@pytest.fixture
def sandbox(wechat_sandbox, settings):
    # A lease long enough for a chain: the longest push is 4 × (1 + 2) = 12 s.
    settings.WXLOGISTICS = {
        **settings.WXLOGISTICS,
        "TIMEOUT": (1.0, 2.0),
        "LEASE_SECONDS": 30,
        "PUSH_CHAIN": 3,
    }
    return wechat_sandbox


def _at(minutes: int):
    return timezone.now() - timedelta(hours=1) + timedelta(minutes=minutes)


def _line(sandbox, steps=3):
    """A registered waybill with ``steps`` pending events, one minute apart; its events."""
    waybill = WaybillFactory()
    sandbox.register_waybill(waybill.waybill_id, waybill.token)
    return [
        TraceEventFactory(waybill=waybill, action_time=_at(n), action_msg=f"step {n}")
        for n in range(1, steps + 1)
    ]


def _fresh(event) -> TraceEvent:
    return TraceEvent.objects.get(pk=event.pk)


def _received(sandbox) -> list[str]:
    return [c["body"]["action_msg"] for c in sandbox.calls(api="logistics.updatePath") if c["status"] == 200]


def test_a_claim_leases_the_first_event_with_those_behind_it_up_to_push_chain(sandbox):
    line = _line(sandbox, steps=5)
    claims = pipeline.claim_many([line[0].pk])
    assert [c.item.pk for c in claims] == [e.pk for e in line[:3]]  # PUSH_CHAIN 3, in order
    assert len({c.lease for c in claims}) == 1
    assert [_fresh(e).state for e in line] == [EventState.SENDING] * 3 + [EventState.PENDING] * 2


def test_a_chain_stops_at_an_event_that_is_not_due(sandbox):
    line = _line(sandbox)
    TraceEvent.objects.filter(pk=line[1].pk).update(next_attempt_at=timezone.now() + timedelta(minutes=5))
    assert [c.item.pk for c in pipeline.claim_many([line[0].pk])] == [line[0].pk]
    assert _fresh(line[2]).state == EventState.PENDING  # not past the one that waits


def test_a_chain_stops_at_an_event_another_lease_holds(sandbox):
    line = _line(sandbox)
    held = timezone.now() + timedelta(seconds=30)
    TraceEvent.objects.filter(pk=line[1].pk).update(state=EventState.SENDING, lease_expires_at=held)
    assert [c.item.pk for c in pipeline.claim_many([line[0].pk])] == [line[0].pk]
    assert _fresh(line[2]).state == EventState.PENDING


def test_a_chain_leases_nothing_behind_a_first_event_it_cannot_lease(sandbox):
    line = _line(sandbox)
    assert pipeline.claim_many([line[1].pk]) == []  # not first in line: neither it nor the rest
    assert {_fresh(e).state for e in line} == {EventState.PENDING}


def test_claim_leases_one_event_only(sandbox):
    line = _line(sandbox)
    assert pipeline.claim(line[0].pk) is not None
    assert [_fresh(e).state for e in line] == [EventState.SENDING, EventState.PENDING, EventState.PENDING]


def test_push_chain_one_leases_one_event_at_a_time(sandbox, settings):
    settings.WXLOGISTICS = {**settings.WXLOGISTICS, "PUSH_CHAIN": 1}
    line = _line(sandbox)
    assert [c.item.pk for c in pipeline.claim_many([line[0].pk])] == [line[0].pk]


def test_claim_next_and_claim_due_lease_chains_too(sandbox):
    first, second = _line(sandbox), _line(sandbox)
    assert [c.item.pk for c in pipeline.claim_next([first[0].waybill_id])] == [e.pk for e in first]
    assert [c.item.pk for c in pipeline.claim_due(5)] == [e.pk for e in second]


def test_a_chain_reaches_wechat_in_order_in_one_claim(sandbox):
    line = _line(sandbox)
    with CaptureQueriesContext(connection) as queries:
        outcomes = pipeline.deliver_many([line[0].pk], follow=False)
    assert outcomes == {e.pk: delivery.Outcome.SENT for e in line}
    assert _received(sandbox) == ["step 1", "step 2", "step 3"]
    assert {_fresh(e).state for e in line} == {EventState.SENT}
    claims = [
        q for q in queries if "sending" in q["sql"] and q["sql"].lstrip().startswith(("UPDATE", "WITH"))
    ]
    assert claims, "the chain was leased in a claim"
    assert _fresh(line[0]).waybill.latest_action_type == line[2].action_type


def test_a_transient_failure_stops_the_chain_and_hands_the_rest_back_untried(sandbox):
    line = _line(sandbox)
    # One call a second: the first goes, the second is refused (45009, worth retrying).
    sandbox.set_faults(rate_limit=1, apis=["logistics.updatePath"])
    sandbox.stop_clock()  # the same second of the sandbox's, however long the record takes
    outcomes = pipeline.deliver_many([line[0].pk], follow=False)
    sandbox.clear_faults()
    assert [outcomes[e.pk] for e in line] == [
        delivery.Outcome.SENT,
        delivery.Outcome.RETRY,
        delivery.Outcome.RELEASED,
    ]
    assert _received(sandbox) == ["step 1", "step 2"]  # step 3 was never sent
    retried, released = _fresh(line[1]), _fresh(line[2])
    assert (retried.state, retried.attempts, retried.last_errcode) == (EventState.PENDING, 1, 45009)
    assert (released.state, released.attempts, released.lease_expires_at) == (EventState.PENDING, 0, None)
    # It waits behind the retry, then follows it.
    assert pipeline.claim_many([released.pk]) == []
    TraceEvent.objects.filter(pk=retried.pk).update(next_attempt_at=timezone.now())
    assert pipeline.deliver_many([retried.pk], follow=False) == {
        retried.pk: delivery.Outcome.SENT,
        released.pk: delivery.Outcome.SENT,
    }
    assert _received(sandbox)[-2:] == ["step 2", "step 3"]


def test_a_permanent_failure_does_not_stop_the_chain(sandbox):
    line = _line(sandbox)
    # A blank action_msg is refused for good (the client does not even send it); the events
    # after it still go.
    TraceEvent.objects.filter(pk=line[1].pk).update(action_msg="\t")
    outcomes = pipeline.deliver_many([line[0].pk], follow=False)
    assert [outcomes[e.pk] for e in line] == [
        delivery.Outcome.SENT,
        delivery.Outcome.FAILED,
        delivery.Outcome.SENT,
    ]
    assert "action_msg" in _fresh(line[1]).last_errmsg
    assert _received(sandbox) == ["step 1", "step 3"]


def test_an_event_after_the_first_goes_back_when_the_lease_could_run_out_during_its_call(sandbox):
    line = _line(sandbox)
    claims = pipeline.claim_many([line[0].pk])
    # Ten seconds left: less than the longest push (12 s). The first event goes all the same.
    short = timezone.now() + timedelta(seconds=10)
    TraceEvent.objects.filter(pk__in=[e.pk for e in line]).update(lease_expires_at=short)
    chain = [replace(c, lease=short) for c in claims]
    assert pipeline.push_next(chain[0], first=True) is None
    assert pipeline.push_next(chain[1], first=False) is delivery.Outcome.RELEASED
    assert _received(sandbox) == ["step 1"]
    reports = [(chain[0], None), (chain[1], delivery.Outcome.RELEASED), (chain[2], delivery.Outcome.RELEASED)]
    recorded, leased = pipeline.settle(reports, room=4)
    assert {c.item.pk: o for c, o in recorded} == {
        line[0].pk: delivery.Outcome.SENT,
        line[1].pk: delivery.Outcome.RELEASED,
        line[2].pk: delivery.Outcome.RELEASED,
    }
    # The events handed back are leased again at once, afresh.
    assert [c.item.pk for c in leased] == [line[1].pk, line[2].pk]
    assert all(c.lease > short for c in leased)


@pytest.mark.django_db(transaction=True)
def test_chains_never_put_more_than_push_concurrency_calls_in_flight(sandbox, settings):
    settings.WXLOGISTICS = {**settings.WXLOGISTICS, "PUSH_CONCURRENCY": 2}
    latency = 0.15
    sandbox.set_faults(latency_ms=latency * 1000)
    lines = [_line(sandbox, steps=2) for _ in range(3)]
    outcomes = pipeline.deliver_many([line[0].pk for line in lines])
    sandbox.clear_faults()
    assert set(outcomes.values()) == {delivery.Outcome.SENT} and len(outcomes) == 6
    calls = sorted(sandbox.calls(api="logistics.updatePath"), key=lambda c: c["time"])
    starts = [c["time"] for c in calls]
    assert all(starts[i + 2] - starts[i] >= 0.9 * latency for i in range(len(starts) - 2)), starts
    # Each waybill's events arrived in order, the second right after the first.
    for line in lines:
        mine = [c for c in calls if c["body"]["waybill_id"] == line[0].waybill.waybill_id]
        assert [c["body"]["action_msg"] for c in mine] == ["step 1", "step 2"]


def test_a_waybill_leased_again_while_its_old_chain_is_still_reporting_keeps_every_outcome(sandbox, settings):
    # A lease shorter than the longest push (12 s): every chain hands back all but its first
    # event, which is leased again as a new chain while the old one still reports the rest.
    settings.WXLOGISTICS = {**settings.WXLOGISTICS, "LEASE_SECONDS": 10}
    line = _line(sandbox)
    outcomes = pipeline.deliver_many([line[0].pk], coalesce=0)  # one report a round
    assert [outcomes[e.pk] for e in line] == [delivery.Outcome.SENT] * 3
    assert _received(sandbox) == ["step 1", "step 2", "step 3"]  # once each, in order
    assert {_fresh(e).state for e in line} == {EventState.SENT}
    # Handed back untried: no attempt counted for the events that waited.
    assert [_fresh(e).attempts for e in line] == [1, 1, 1]


@pytest.mark.django_db(transaction=True)
def test_each_call_of_a_chain_waits_until_the_one_before_is_recorded_sent(sandbox, settings):
    # A worker killed between two calls must never leave an earlier event to be pushed
    # again after a later one: when step N goes, steps before it are sent in the database.
    settings.WXLOGISTICS = {**settings.WXLOGISTICS, "PUSH_CONCURRENCY": 2}
    lines = [_line(sandbox, steps=3) for _ in range(2)]
    seen: list[tuple[str, list[str]]] = []

    def call_and_look(event):
        earlier = TraceEvent.objects.filter(waybill_id=event.waybill_id, action_time__lt=event.action_time)
        seen.append((event.action_msg, sorted(str(e.state) for e in earlier)))
        return TRACE_EVENTS.send(event)

    # Trace events whose call looks at the database first: the same kind, another sender.
    looking = replace(TRACE_EVENTS, send=call_and_look)
    outcomes = pipeline.deliver_many([line[0].pk for line in lines], follow=False, kind=looking)
    assert set(outcomes.values()) == {delivery.Outcome.SENT} and len(outcomes) == 6
    assert sorted(seen) == sorted(
        [("step 1", [])] * 2 + [("step 2", ["sent"])] * 2 + [("step 3", ["sent", "sent"])] * 2
    )


@pytest.mark.django_db(transaction=True)
def test_a_calling_thread_takes_the_next_queued_call_while_a_record_is_made(sandbox, settings):
    # One calling thread, two chains: it does not sit idle while step 1 of the first is
    # recorded, it pushes step 1 of the second; each waybill's steps still go in order.
    settings.WXLOGISTICS = {**settings.WXLOGISTICS, "PUSH_CONCURRENCY": 1}
    lines = [_line(sandbox, steps=2) for _ in range(2)]
    claims = pipeline.claim_many([line[0].pk for line in lines])
    assert len(claims) == 4
    with delivery.Pusher(TRACE_EVENTS, 1) as pusher:
        pusher.start(claims)
        done: list = []
        while pusher.in_flight:
            finished, _ = pipeline.settle(pusher.finished())
            pusher.recorded(finished)
            done += finished
    assert {o for _, o in done} == {delivery.Outcome.SENT} and len(done) == 4
    calls = sorted(sandbox.calls(api="logistics.updatePath"), key=lambda c: c["time"])
    first, second = (line[0].waybill.waybill_id for line in lines)
    assert [(c["body"]["waybill_id"], c["body"]["action_msg"]) for c in calls] == [
        (first, "step 1"),
        (second, "step 1"),
        (first, "step 2"),
        (second, "step 2"),
    ]


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(30)
def test_when_recording_fails_the_chains_stop_and_the_task_does_not_hang(sandbox, settings):
    if connection.vendor != "postgresql":
        pytest.skip("the database server ends the task's connection")
    settings.WXLOGISTICS = {**settings.WXLOGISTICS, "PUSH_CONCURRENCY": 2}
    lines = [_line(sandbox, steps=3) for _ in range(2)]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (task_backend,) = cursor.fetchone()

    def send_then_lose_the_database(event):
        try:
            return TRACE_EVENTS.send(event)
        finally:
            # WeChat took the call; then the server ends the task's connection (from this
            # calling thread's own), and waits until it is gone.
            with connections["default"].cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(%s, 10000)", [task_backend])

    losing = replace(TRACE_EVENTS, send=send_then_lose_the_database)
    with pytest.raises(OperationalError):
        pipeline.deliver_many([line[0].pk for line in lines], follow=False, kind=losing)
    connection.close()  # the rest of the test needs a connection of its own again
    # Only the first events went: nothing after an event whose record is not in.
    assert sorted(_received(sandbox)) == ["step 1", "step 1"]
    # Leased still: the sweeper hands them back once the lease runs out.
    assert {_fresh(e).state for line in lines for e in line} == {EventState.SENDING}

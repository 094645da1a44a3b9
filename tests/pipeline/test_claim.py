"""Claiming, ordering, leases and the sweeper: the parts of delivery that need no network."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone

from django_wxlogistics import delivery
from django_wxlogistics.enums import EventState
from django_wxlogistics.models import TraceEvent
from django_wxlogistics.signals import trace_event_failed
from tests.factories import TraceEventFactory, WaybillFactory
from tests.pipeline import helpers as pipeline

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("both_paths")]


def _at(minutes: int):
    return timezone.now() - timedelta(hours=1) + timedelta(minutes=minutes)


def test_claim_leases_a_due_pending_event():
    event = TraceEventFactory()
    claim = pipeline.claim(event.pk)
    assert claim is not None
    event.refresh_from_db()
    assert event.state == EventState.SENDING
    assert event.lease_expires_at == claim.lease
    assert claim.lease > timezone.now() + timedelta(seconds=50)


def test_a_second_claim_of_the_same_event_gets_nothing():
    event = TraceEventFactory()
    assert pipeline.claim(event.pk) is not None
    assert pipeline.claim(event.pk) is None


@pytest.mark.parametrize("state", [EventState.SENT, EventState.FAILED])
def test_done_events_are_not_claimed(state):
    event = TraceEventFactory(state=state, sent_at=timezone.now())
    assert pipeline.claim(event.pk) is None
    assert pipeline.deliver(event.pk) is delivery.Outcome.SKIPPED


def test_an_event_in_backoff_is_not_claimed_before_its_time():
    event = TraceEventFactory(next_attempt_at=timezone.now() + timedelta(minutes=5))
    assert pipeline.claim(event.pk) is None


def test_a_missing_event_is_skipped():
    assert pipeline.deliver(987654321) is delivery.Outcome.SKIPPED


def test_a_later_event_waits_while_an_earlier_one_is_unsent():
    waybill = WaybillFactory()
    first = TraceEventFactory(waybill=waybill, action_time=_at(1))
    second = TraceEventFactory(waybill=waybill, action_time=_at(2))
    assert pipeline.claim(second.pk) is None
    assert pipeline.claim(first.pk) is not None
    # Sending still holds the line.
    assert pipeline.claim(second.pk) is None


def test_same_action_time_orders_by_id():
    waybill = WaybillFactory()
    when = _at(1)
    first = TraceEventFactory(waybill=waybill, action_time=when)
    second = TraceEventFactory(waybill=waybill, action_time=when)
    assert pipeline.claim(second.pk) is None
    assert pipeline.claim(first.pk) is not None


def test_an_event_recorded_late_with_an_earlier_time_goes_first():
    waybill = WaybillFactory()
    later = TraceEventFactory(waybill=waybill, action_time=_at(5))
    earlier = TraceEventFactory(waybill=waybill, action_time=_at(1))
    assert earlier.pk > later.pk  # recorded after
    assert pipeline.claim(later.pk) is None
    assert pipeline.claim(earlier.pk) is not None


def test_a_failed_earlier_event_does_not_hold_back_later_ones():
    waybill = WaybillFactory()
    TraceEventFactory(waybill=waybill, action_time=_at(1), state=EventState.FAILED)
    later = TraceEventFactory(waybill=waybill, action_time=_at(2))
    assert pipeline.claim(later.pk) is not None


def test_an_earlier_event_in_backoff_holds_back_later_ones():
    waybill = WaybillFactory()
    TraceEventFactory(
        waybill=waybill, action_time=_at(1), next_attempt_at=timezone.now() + timedelta(minutes=1)
    )
    later = TraceEventFactory(waybill=waybill, action_time=_at(2))
    assert pipeline.claim(later.pk) is None


def test_other_waybills_do_not_hold_each_other_back():
    TraceEventFactory(action_time=_at(1))
    other = TraceEventFactory(action_time=_at(2))
    assert pipeline.claim(other.pk) is not None


def test_claiming_several_events_costs_one_statement_on_postgresql_three_elsewhere(both_paths):
    events = [TraceEventFactory() for _ in range(5)]
    with CaptureQueriesContext(connection) as queries:
        claims = pipeline.claim_many([e.pk for e in events])
    assert sorted(c.item.pk for c in claims) == sorted(e.pk for e in events)
    assert all(c.item.waybill.waybill_id for c in claims)  # the waybill came along
    single = connection.vendor == "postgresql" and both_paths == "statements"
    # Elsewhere: lease the heads, read what was leased, look for what follows them.
    assert len(queries) == (1 if single else 3)


def test_chains_cost_one_statement_on_postgresql_four_elsewhere(both_paths):
    first = TraceEventFactory(action_time=_at(1))
    TraceEventFactory(waybill=first.waybill, action_time=_at(2))
    with CaptureQueriesContext(connection) as queries:
        claims = pipeline.claim_many([first.pk])
    assert len(claims) == 2
    single = connection.vendor == "postgresql" and both_paths == "statements"
    assert len(queries) == (1 if single else 4)


def test_recording_several_successes_costs_one_statement_on_postgresql_two_elsewhere(both_paths):
    events = [TraceEventFactory(action_type=200001) for _ in range(4)]
    claims = pipeline.claim_many([e.pk for e in events])
    with CaptureQueriesContext(connection) as queries:
        recorded = pipeline.record_outcomes([(c, None) for c in claims])
    assert {o for _, o in recorded} == {delivery.Outcome.SENT}
    single = connection.vendor == "postgresql" and both_paths == "statements"
    assert len(queries) == (1 if single else 2)
    assert TraceEvent.objects.filter(state=EventState.SENT).count() == 4
    assert {e.waybill.latest_action_type for e in TraceEvent.objects.select_related("waybill")} == {200001}


def test_backoff_is_full_jitter_under_the_cap():
    with override_settings(WXLOGISTICS={"RETRY_BACKOFF_BASE": 2.0, "RETRY_BACKOFF_CAP": 30.0}):
        first = [delivery.backoff_seconds(0) for _ in range(200)]
        late = [delivery.backoff_seconds(40) for _ in range(200)]
    assert all(0 <= d <= 2.0 for d in first)
    assert all(0 <= d <= 30.0 for d in late)
    assert max(late) > 15  # the cap, not the base, bounds late attempts
    assert len(set(first)) > 100  # jittered, not fixed


def test_expired_lease_goes_back_to_pending_and_counts_as_an_attempt():
    event = TraceEventFactory(
        state=EventState.SENDING, lease_expires_at=timezone.now() - timedelta(seconds=1), attempts=2
    )
    live = TraceEventFactory(
        state=EventState.SENDING, lease_expires_at=timezone.now() + timedelta(seconds=30)
    )
    assert pipeline.reclaim_expired_leases() == (1, 0)
    event.refresh_from_db()
    live.refresh_from_db()
    assert event.state == EventState.PENDING
    assert event.lease_expires_at is None
    assert event.attempts == 3
    assert event.next_attempt_at <= timezone.now()
    assert "lease expired" in event.last_errmsg
    assert live.state == EventState.SENDING


def test_expired_lease_with_attempts_used_up_fails_and_signals():
    received = []

    def receiver(sender, event, waybill, error, **kwargs):
        received.append((event.pk, waybill.pk, error))

    event = TraceEventFactory(
        state=EventState.SENDING, lease_expires_at=timezone.now() - timedelta(seconds=1), attempts=9
    )
    trace_event_failed.connect(receiver)
    try:
        with override_settings(WXLOGISTICS={"MAX_ATTEMPTS": 10}):
            assert pipeline.reclaim_expired_leases() == (0, 1)
    finally:
        trace_event_failed.disconnect(receiver)
    event.refresh_from_db()
    assert event.state == EventState.FAILED
    assert event.attempts == 10
    assert received == [(event.pk, event.waybill_id, None)]


def test_a_worker_that_lost_its_lease_cannot_record_an_outcome():
    event = TraceEventFactory()
    stale = pipeline.claim(event.pk)
    assert stale is not None
    TraceEvent.objects.filter(pk=event.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    pipeline.reclaim_expired_leases()
    fresh = pipeline.claim(event.pk)
    assert fresh is not None
    assert pipeline.record_outcomes([(stale, None)]) == [(stale, delivery.Outcome.LOST)]
    event.refresh_from_db()
    assert event.state == EventState.SENDING
    assert event.lease_expires_at == fresh.lease


def test_due_heads_are_the_first_due_event_of_each_waybill():
    a, b, c = WaybillFactory(), WaybillFactory(), WaybillFactory()
    a1 = TraceEventFactory(waybill=a, action_time=_at(1))
    TraceEventFactory(waybill=a, action_time=_at(2))
    TraceEventFactory(waybill=b, action_time=_at(1), state=EventState.SENDING, lease_expires_at=_at(90))
    TraceEventFactory(waybill=b, action_time=_at(2))
    TraceEventFactory(waybill=c, action_time=_at(1), next_attempt_at=timezone.now() + timedelta(minutes=1))
    TraceEventFactory(waybill=c, action_time=_at(2))
    assert pipeline.due_head_event_ids() == [a1.pk]


def test_due_heads_are_bounded():
    for _ in range(5):
        TraceEventFactory()
    assert len(pipeline.due_head_event_ids(limit=3)) == 3


@pytest.mark.usefixtures("one_at_a_time")
def test_claim_next_leases_the_first_due_event_of_each_waybill():
    first = TraceEventFactory(action_time=_at(1))
    TraceEventFactory(waybill=first.waybill, action_time=_at(2))
    other = TraceEventFactory(action_time=_at(1))
    waiting = TraceEventFactory(next_attempt_at=timezone.now() + timedelta(minutes=5))
    claims = pipeline.claim_next([first.waybill_id, other.waybill_id, waiting.waybill_id])
    assert sorted(c.item.pk for c in claims) == sorted([first.pk, other.pk])
    assert all(c.item.waybill.pk == c.item.waybill_id for c in claims)
    assert pipeline.claim_next([first.waybill_id]) == []  # its next event waits behind it

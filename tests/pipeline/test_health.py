"""The health figures (health.py): under a backlog, after failures made for real by the sandbox
through the pipeline, and read from indexes on PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from django_wxlogistics import delivery, health
from django_wxlogistics.enums import EventState, ShippingCall
from django_wxlogistics.models import AccessToken, Payment, ShippingInfo, TraceEvent
from tests.factories import TraceEventFactory, WaybillFactory
from tests.pipeline import helpers as pipeline

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def sandbox(wechat_sandbox, settings):
    """The sandbox; a retry waits half a minute or more, so a retrying event stays not due."""
    settings.WXLOGISTICS = {
        **settings.WXLOGISTICS,
        "RETRY_BACKOFF_BASE": 60.0,
        "RETRY_BACKOFF_CAP": 60.0,
        "TIMEOUT": (1.0, 1.0),
    }
    return wechat_sandbox


def trace_events(figures: health.Health) -> health.KindHealth:
    return {kind.name: kind for kind in figures.kinds}["trace_event"]


def _registered(sandbox):
    waybill = WaybillFactory()
    sandbox.register_waybill(waybill.waybill_id, waybill.token)
    return waybill


def test_a_backlog_its_lag_and_the_pushes_of_the_last_minutes():
    now = timezone.now()
    ago = lambda seconds: now - timedelta(seconds=seconds)  # noqa: E731
    waybills = [WaybillFactory() for _ in range(3)]
    # Five due events, the oldest due for ten minutes; one waiting for its retry's time.
    for n, waybill in enumerate(waybills * 2):
        if n < 5:
            TraceEventFactory(waybill=waybill, next_attempt_at=ago(600 - n * 60))
    TraceEventFactory(waybill=waybills[0], next_attempt_at=now + timedelta(minutes=3), attempts=1)
    # Two being sent: one within its lease, one whose worker died 15 minutes ago (the oldest due).
    for expires in (now + timedelta(seconds=30), ago(900)):
        TraceEventFactory(
            waybill=waybills[1], state=EventState.SENDING, lease_expires_at=expires, next_attempt_at=ago(60)
        )
    # Sent: three within the last five minutes, one before, one "in the future" of the clock.
    for seconds in (10, 100, 290, 400, -5):
        TraceEventFactory(waybill=waybills[2], state=EventState.SENT, sent_at=ago(seconds))
    TraceEventFactory(waybill=waybills[2], state=EventState.FAILED, last_errcode=40199, last_errmsg="x")

    figures = health.collect(now=now)

    events = trace_events(figures)
    assert (events.name, events.model_name, events.label) == ("trace_event", "traceevent", "trace events")
    assert (events.pending, events.sending, events.failed) == (6, 2, 1)
    assert events.oldest_due_at == ago(900)
    assert events.lag == figures.lag == 900.0
    assert events.sent_recently == 3
    assert events.pushes_per_minute == pytest.approx(0.6)


def test_nothing_due_is_no_lag():
    now = timezone.now()
    TraceEventFactory(next_attempt_at=now + timedelta(seconds=5))
    TraceEventFactory(state=EventState.SENDING, lease_expires_at=now + timedelta(seconds=5))

    events = trace_events(health.collect(now=now))

    assert (events.pending, events.sending, events.oldest_due_at, events.lag) == (1, 1, None, 0.0)


@pytest.mark.usefixtures("both_paths")
def test_failures_made_by_wechat_are_counted_by_errcode(sandbox):
    waybills = [_registered(sandbox) for _ in range(4)]
    events = [TraceEventFactory(waybill=waybill) for waybill in waybills]
    # WeChat refuses two for good (40199), one for a passing reason (-1), and takes one.
    sandbox.set_faults(error_rate=1.0, kinds=["errcode"], errcode=40199, errmsg="waybill not exist")
    assert pipeline.deliver(events[0].pk) is delivery.Outcome.FAILED
    assert pipeline.deliver(events[1].pk) is delivery.Outcome.FAILED
    sandbox.set_faults(error_rate=1.0, kinds=["errcode"], errcode=-1)
    assert pipeline.deliver(events[2].pk) is delivery.Outcome.RETRY
    sandbox.clear_faults()
    assert pipeline.deliver(events[3].pk) is delivery.Outcome.SENT

    figures = trace_events(health.collect())

    assert (figures.pending, figures.sending, figures.failed) == (1, 0, 2)
    assert [(r.errcode, r.failed, r.retrying) for r in figures.refusals] == [(40199, 2, 0), (-1, 0, 1)]
    assert figures.lag == 0.0  # the retry is not due yet
    assert figures.sent_recently == 1
    # An hour later the refusals are old news; the failed events still wait for an operator.
    later = trace_events(health.collect(now=timezone.now() + timedelta(hours=1, seconds=1)))
    assert later.refusals == ()
    assert later.failed == 2
    assert later.lag > 0  # by then the retry has been due for a while


def test_an_outage_counts_refusals_without_an_errcode(sandbox):
    event = TraceEventFactory(waybill=_registered(sandbox))
    sandbox.set_faults(error_rate=1.0, kinds=["http500"])
    assert pipeline.deliver(event.pk) is delivery.Outcome.RETRY

    figures = trace_events(health.collect())

    assert [(r.errcode, r.failed, r.retrying) for r in figures.refusals] == [(None, 0, 1)]
    assert "no errcode" in health.refusal_text(figures.refusals[0])


def test_the_access_tokens_remaining_life_and_never_the_token(settings):
    settings.WXLOGISTICS = {**settings.WXLOGISTICS, "APPID": "wxhealth", "ACCESS_TOKEN": "stable"}
    now = timezone.now()
    assert health.collect(now=now).token.seconds_left is None  # none fetched yet
    AccessToken.objects.create(
        appid="wxhealth", token="TOKEN-never-shown-123", expires_at=now + timedelta(hours=1)
    )

    token = health.collect(now=now).token

    assert (token.mode, token.appid, token.seconds_left) == ("stable", "wxhealth", 3600.0)
    assert "TOKEN-never-shown" not in repr(health.collect(now=now))
    assert health.collect(now=now + timedelta(hours=2)).token.seconds_left == 0.0
    settings.WXLOGISTICS = {**settings.WXLOGISTICS, "ACCESS_TOKEN": "cloud"}
    assert health.collect(now=now).token.seconds_left is None


def test_shipping_information_is_a_kind_of_its_own():
    now = timezone.now()
    payment = Payment.objects.create(order_id="SO1", transaction_id="4200000001")

    def info(**fields):
        return ShippingInfo.objects.create(payment=payment, order_id="SO1", request={}, **fields)

    info(call=ShippingCall.UPLOAD, next_attempt_at=now - timedelta(minutes=2))
    info(call=ShippingCall.CONFIRM_RECEIPT, state=EventState.FAILED, last_errcode=10060001, last_errmsg="x")
    TraceEventFactory(state=EventState.SENT, sent_at=now)

    figures = {kind.name: kind for kind in health.collect(now=now).kinds}

    shipping = figures["shipping_info"]
    assert (shipping.model_name, shipping.label) == ("shippinginfo", "shipping information")
    assert (shipping.pending, shipping.failed, shipping.lag, shipping.sent_recently) == (1, 1, 120.0, 0)
    assert [(r.errcode, r.failed) for r in shipping.refusals] == [(10060001, 1)]
    events = figures["trace_event"]
    assert (events.pending, events.failed, events.lag, events.sent_recently) == (0, 0, 0.0, 1)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's plans")
def test_every_figure_is_read_from_an_index():
    """With sequential scans priced out, each query of the figures, of every kind, still has
    an index to use: none reads a whole table (on a million events, a scan would take a good
    part of a second)."""
    now = timezone.now()
    for state in (EventState.PENDING, EventState.SENDING, EventState.SENT, EventState.FAILED):
        TraceEventFactory(
            state=state,
            lease_expires_at=now if state == EventState.SENDING else None,
            sent_at=now if state == EventState.SENT else None,
            last_errmsg="refused" if state == EventState.FAILED else "",
        )
    with CaptureQueriesContext(connection) as captured:
        health.collect(now=now)
    for model in (TraceEvent, ShippingInfo):
        table = f'"{model._meta.db_table}"'
        ours = [q["sql"] for q in captured.captured_queries if table in q["sql"]]
        assert len(ours) == 5, model
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            for sql in ours:
                cursor.execute("EXPLAIN " + sql)
                plan = "\n".join(row[0] for row in cursor.fetchall())
                assert "Seq Scan" not in plan, (sql, plan)
                assert "Index Cond" in plan, (sql, plan)


def test_a_flood_of_pushes_is_measured_over_the_last_ones(monkeypatch):
    """The count of recent pushes stops at RATE_SAMPLE entries of its index: the rate is then
    that of the last RATE_SAMPLE pushes, over the time they took."""
    monkeypatch.setattr(health, "RATE_SAMPLE", 4)
    now = timezone.now()
    for seconds in (1, 2, 3, 6, 10, 20):  # the fourth latest was sent 6 seconds ago
        TraceEventFactory(state=EventState.SENT, sent_at=now - timedelta(seconds=seconds))

    events = trace_events(health.collect(now=now))

    assert (events.sent_recently, events.rate_window, events.rate_sampled) == (4, timedelta(seconds=6), True)
    assert events.pushes_per_minute == pytest.approx(40.0)
    assert health.rate_text(events) == "over the last 4 pushes"

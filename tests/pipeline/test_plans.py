"""The delivery statements keep their plans when the statistics say nothing is pending or sending.

A shop's table is mostly sent events, analyzed while none was pending; a burst then stays
invisible to the planner until autoanalyze counts it. Each test builds that shape (inside
its own transaction: ``ANALYZE`` there is rolled back with it), runs the engine's code, and
explains every statement it ran: the events must be read where the statement points
(primary keys, the partial index of unsent events), never through the index of states.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from django_wxlogistics import delivery
from django_wxlogistics.exceptions import WeChatError
from django_wxlogistics.models import TraceEvent, Waybill
from tests.factories import TraceEventFactory, WaybillFactory
from tests.pipeline import helpers as pipeline

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's own statements and plans"),
]

EVENTS = TraceEvent._meta.db_table
#: Sent events of history, five a waybill.
HISTORY = 20_000


@pytest.fixture
def stale_statistics(db: None) -> list[list[TraceEvent]]:
    """HISTORY sent events, ``ANALYZE`` while none is pending, then a burst: 20 waybills of
    5 pending events each (their lines)."""
    back = timezone.now() - timedelta(days=30)
    waybills = Waybill.objects.bulk_create(
        Waybill(waybill_id=f"H{n}", token="t", order_id=f"HO{n}") for n in range(HISTORY // 5)
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO "{EVENTS}" (waybill_id, action_type, action_msg, action_time, state, attempts,
                                    next_attempt_at, last_errmsg, sent_at, created_at, updated_at)
            SELECT w, 200001, 'step', %s, 'sent', 1, %s, '', %s, %s, %s
              FROM unnest(%s::bigint[]) AS w CROSS JOIN generate_series(1, 5)""",  # noqa: S608
            [back] * 5 + [[w.pk for w in waybills]],
        )
        cursor.execute(f'ANALYZE "{EVENTS}"')
        cursor.execute(f'ANALYZE "{Waybill._meta.db_table}"')
    hour_ago = timezone.now() - timedelta(hours=1)
    lines = []
    for _ in range(20):
        waybill = WaybillFactory()
        lines.append(
            [
                TraceEventFactory(
                    waybill=waybill, action_time=hour_ago + timedelta(minutes=n), next_attempt_at=hour_ago
                )
                for n in range(5)
            ]
        )
    return lines


@contextmanager
def statements() -> Iterator[list[tuple[str, Any]]]:
    """The statements run in the block, with their parameters."""
    ran: list[tuple[str, Any]] = []

    def capture(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        ran.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(capture):
        yield ran


def event_reads(sql: str, params: Any) -> set[str]:
    """How the statement's plan reads the events: each index it uses, or "Seq Scan"."""
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        (plan,) = cursor.fetchone()
    found: set[str] = set()

    def walk(node: dict[str, Any]) -> None:
        if node.get("Relation Name") == EVENTS and node["Node Type"] != "ModifyTable":
            found.add(node.get("Index Name", node["Node Type"]))
        for child in node.get("Plans", []):
            walk(child)

    walk((json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"])
    return found


def test_failures_and_items_handed_back_are_found_by_their_primary_keys(stale_statistics):
    lines = stale_statistics
    claims = pipeline.claim_many([line[0].pk for line in lines[:4]])
    error = WeChatError(errcode=-1, errmsg="system busy", api="logistics.updatePath")
    heads = {c.item.pk for c in claims if c.item.pk in {line[0].pk for line in lines}}
    results = [(c, error if c.item.pk in heads else delivery.Outcome.RELEASED) for c in claims]
    with statements() as ran:
        recorded = pipeline.record_outcomes(results)
    assert {o for _, o in recorded} == {delivery.Outcome.RETRY, delivery.Outcome.RELEASED}
    records = [(sql, params) for sql, params in ran if "last_errcode" in sql]
    assert records and all(event_reads(*record) == {f"{EVENTS}_pkey"} for record in records)


def test_due_heads_read_one_unsent_event_a_line(stale_statistics):
    lines = stale_statistics
    for given in (None, [line[0].waybill_id for line in lines[:5]]):
        with statements() as ran:
            heads = pipeline.due_head_event_ids(waybill_pks=given)
        assert set(heads) == {line[0].pk for line in (lines if given is None else lines[:5])}
        (query,) = ran
        assert event_reads(*query) == {"wxl_event_unsent_idx"}


def test_expired_leases_are_looked_for_among_the_events_in_flight(stale_statistics):
    lines = stale_statistics
    claims = pipeline.claim_many([line[0].pk for line in lines])
    TraceEvent.objects.filter(pk__in=[c.item.pk for c in claims[:3]]).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    with statements() as ran:
        assert pipeline.reclaim_expired_leases() == (3, 0)
    assert len(ran) == 1  # found and handed back in one statement, each lease checked again
    reads = event_reads(*ran[0])
    # Whichever index finds the expired leases holds no more than the events being sent;
    # the events are changed by their primary keys.
    assert "Seq Scan" not in reads and f"{EVENTS}_pkey" in reads, reads

"""The pipeline for trace events as the tests call it: the package's functions with the
trace-event kind bound, and the one-event entry points only tests need."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django_wxlogistics import delivery
from django_wxlogistics.delivery import TRACE_EVENTS, Claim, OutboxKind, Outcome, Result
from django_wxlogistics.services import nudge


def claim(event_id: int) -> Claim | None:
    """Lease a due, pending event that is first in its waybill's line (it alone, no chain)."""
    claims = delivery.claim_many(TRACE_EVENTS, [event_id], chain=1)
    return claims[0] if claims else None


def claim_many(event_ids: Iterable[int]) -> list[Claim]:
    return delivery.claim_many(TRACE_EVENTS, event_ids)


def claim_next(waybill_pks: Iterable[int]) -> list[Claim]:
    return delivery.claim_next(TRACE_EVENTS, waybill_pks)


def claim_due(limit: int) -> list[Claim]:
    return delivery.claim_due(TRACE_EVENTS, limit)


def settle(
    results: Iterable[tuple[Claim, Result]], *, room: int = 0, drain: bool = False
) -> tuple[list[tuple[Claim, Outcome]], list[Claim]]:
    return delivery.settle(TRACE_EVENTS, results, room=room, drain=drain)


def record_outcomes(results: Iterable[tuple[Claim, Result]]) -> list[tuple[Claim, Outcome]]:
    """Record what the calls did, leasing nothing after them."""
    return settle(results)[0]


def push_next(leased: Claim, *, first: bool) -> Result:
    return delivery.push_next(TRACE_EVENTS, leased, first=first)


def push(leased: Claim) -> Outcome:
    """Push one claimed event and record what happened."""
    return record_outcomes([(leased, push_next(leased, first=True))])[0][1]


def deliver_many(
    event_ids: Iterable[int], *, kind: OutboxKind = TRACE_EVENTS, **options: Any
) -> dict[int, Outcome]:
    """What a push task does with these events: deliver them, then nudge what is left."""
    delivered = delivery.deliver_many(kind, event_ids, **options)
    nudge(delivered.left)
    return delivered.outcomes


def deliver(event_id: int, *, nudge_next: bool = True) -> Outcome:
    """Claim one event, push it and record the outcome; ``SKIPPED`` when it is not claimable.

    With ``nudge_next``, the next events of its waybill follow in this process.
    """
    return deliver_many([event_id], follow=nudge_next).get(int(event_id), Outcome.SKIPPED)


def reclaim_expired_leases() -> tuple[int, int]:
    return delivery.reclaim_expired_leases(TRACE_EVENTS)


def due_head_event_ids(
    limit: int = delivery.SWEEP_BATCH, waybill_pks: Iterable[int] | None = None, **options: Any
) -> list[int]:
    return delivery.due_head_ids(TRACE_EVENTS, limit, waybill_pks, **options)

"""The sweeper and the claims on a backlog the planner has not counted yet.

A bulk status change or the end of an outage leaves thousands of pending events in a table
whose statistics (until autovacuum's next ANALYZE) say every event is sent. Here: 2 ×
``--events`` sent events, ANALYZE, then ``--events`` pending ones (two per waybill). The per-waybill order
check must stay one index probe per candidate then. Figures, on PostgreSQL, each against a
bare read of the same rows in the same run:

* one sweep (``due_head_event_ids``: the due events first in their waybill's line, 500 at
  most) against ``SELECT id … WHERE state = 'pending' ORDER BY next_attempt_at LIMIT 500``;
* the same question asked the old way, "no earlier unsent event" (an anti-join), to show
  what the head-of-line form avoids;
* claiming 16 events by id against reading those 16 rows by id.

    python benchmarks/bench_backlog.py [--events 3000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DATABASE = "wxl_bench_backlog"


def _database(create: bool) -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        if create:
            conn.execute(f'CREATE DATABASE "{DATABASE}"')


def _best(fn: Any, rounds: int = 5) -> float:
    """The best of ``rounds`` timings of ``fn()``, in milliseconds."""
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return min(samples)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=3000)
    args = parser.parse_args()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DATABASE}",
        "CI": "",
    }
    os.environ.update(env)
    _database(create=True)
    try:
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
        import django

        django.setup()
        results = measure(args.events)
    finally:
        from django.db import connections

        connections.close_all()
        _database(create=False)
    print(json.dumps(results, indent=1))
    return 0


def measure(count: int) -> dict[str, Any]:
    from django.db import connection, transaction
    from django.db.models import Exists, OuterRef, Q
    from django.utils import timezone

    from django_wxlogistics import delivery
    from django_wxlogistics.delivery import TRACE_EVENTS
    from django_wxlogistics.enums import EventState
    from django_wxlogistics.models import TraceEvent, Waybill

    table = TraceEvent._meta.db_table
    start = timezone.now() - timedelta(hours=1)
    # A shop's history: sent events only, and statistics that say so.
    history = Waybill.objects.bulk_create(
        Waybill(waybill_id=f"H{i:06d}", token="t", order_id=f"H{i}") for i in range(count)
    )
    TraceEvent.objects.bulk_create(
        TraceEvent(
            waybill=w,
            action_type=200001,
            action_msg="done",
            action_time=start,
            state=EventState.SENT,
            sent_at=start,
        )
        for w in history
        for _ in range(2)
    )
    with connection.cursor() as cursor:
        cursor.execute(f'ANALYZE "{table}"')
    # Then a burst, before autovacuum counts it.
    with transaction.atomic():
        waybills = Waybill.objects.bulk_create(
            Waybill(waybill_id=f"B{i:06d}", token="t", order_id=f"O{i}") for i in range(count // 2)
        )
        TraceEvent.objects.bulk_create(
            TraceEvent(
                waybill=w,
                action_type=200001,
                action_msg=f"step {k + 1}",
                action_time=start + timedelta(seconds=k),
                next_attempt_at=start,
            )
            for w in waybills
            for k in range(2)
        )
    pending = TraceEvent.objects.filter(state=EventState.PENDING, next_attempt_at__lte=timezone.now())

    def bare_sweep() -> None:
        list(pending.order_by("next_attempt_at").values_list("pk", flat=True)[:500])

    def sweep() -> None:
        ids = delivery.due_head_ids(TRACE_EVENTS)
        assert len(ids) == min(500, count // 2)

    def anti_join_sweep() -> None:
        earlier = TraceEvent.objects.filter(
            waybill_id=OuterRef("waybill_id"), state__in=delivery.UNSENT
        ).filter(
            Q(action_time__lt=OuterRef("action_time"))
            | Q(action_time=OuterRef("action_time"), pk__lt=OuterRef("pk"))
        )
        ids = list(
            pending.filter(~Exists(earlier))
            .order_by("next_attempt_at", "pk")
            .values_list("pk", flat=True)[:500]
        )
        assert len(ids) == min(500, count // 2)

    heads = list(pending.order_by("pk").values_list("pk", flat=True)[::2])
    chunks = iter([heads[i : i + 16] for i in range(0, len(heads), 16)])

    def bare_read() -> None:
        list(TraceEvent.objects.filter(pk__in=heads[:16]).select_related("waybill"))

    def claim() -> None:
        assert len(delivery.claim_many(TRACE_EVENTS, next(chunks))) == 16

    figures = {
        "events": count,
        "bare_sweep_ms": _best(bare_sweep),
        "sweep_ms": _best(sweep),
        "anti_join_sweep_ms": _best(anti_join_sweep, rounds=1),
        "bare_read_16_ms": _best(bare_read),
        "claim_16_ms": _best(claim),
    }
    print(
        f"one sweep over {count} unanalysed pending events: {figures['sweep_ms']:.1f} ms vs a bare read of "
        f"the same rows {figures['bare_sweep_ms']:.1f} ms, ratio "
        f"{figures['sweep_ms'] / figures['bare_sweep_ms']:.1f}; "
        f"the anti-join form {figures['anti_join_sweep_ms']:.0f} ms, ratio "
        f"{figures['anti_join_sweep_ms'] / figures['bare_sweep_ms']:.0f}",
        flush=True,
    )
    print(
        f"claiming 16 events by id: {figures['claim_16_ms']:.1f} ms vs reading them "
        f"{figures['bare_read_16_ms']:.1f} ms, "
        f"ratio {figures['claim_16_ms'] / figures['bare_read_16_ms']:.1f}",
        flush=True,
    )
    return figures


if __name__ == "__main__":
    sys.exit(main())

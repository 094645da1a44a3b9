"""What an order-status change costs the shop's save, against the same save without us.

- baseline: the shop's own transaction, ``order.status = …; order.save(update_fields=…)``;
- the shop sends ``order_status_changed`` (an order with two waybills: two events recorded);
- an unmapped status sent the same way (nothing to record);
- ``ORDER_MODEL`` watching of a plain ``order.save()``.

Each figure is the median over ROUNDS changes, with the queries of one change. Runs on a
throw-away test database (``DATABASE_URL`` chooses the server, as in tests).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import override_settings  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from django_wxlogistics.models import TraceEvent, Waybill  # noqa: E402
from example_project.shop.models import Order, send_status_changed  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "300"))
MAPPED = ("shipped", "delayed")  # alternate, so every change records an event per waybill
UNMAPPED = ("paid", "pending")


def timed(change: Callable[[Order, str], None], order: Order, status: str) -> float:
    started = time.perf_counter()
    with transaction.atomic():
        change(order, status)
    return time.perf_counter() - started


def queries_of(change: Callable[[Order, str], None], order: Order, status: str) -> int:
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        change(order, status)
    if os.environ.get("BENCH_VERBOSE"):
        print(*(q["sql"][:100] for q in queries.captured_queries), sep="\n")
    return len(queries.captured_queries)


def plain_save(order: Order, status: str) -> None:
    order.status = status
    order.save(update_fields=["status", "updated_at"])


def save_and_send(order: Order, status: str) -> None:
    old = order.status
    plain_save(order, status)
    send_status_changed(order, old, status)


def run() -> None:
    orders = {}
    for name in ("baseline", "signal", "unmapped", "watched"):
        order = Order.objects.create(number=f"BENCH-{name}", status="paid", courier_name="邓丽君")
        for n in range(2):
            Waybill.objects.create(waybill_id=f"BENCH-{name}-{n}", order_id=order.number, token="t")
        orders[name] = order
    watching = override_settings(WXLOGISTICS={**settings.WXLOGISTICS, "ORDER_MODEL": "shop.Order"})
    variants: list[tuple[str, str, Callable[[Order, str], None], tuple[str, str]]] = [
        ("baseline: the shop's save", "baseline", plain_save, MAPPED),
        ("save + order_status_changed (2 waybills)", "signal", save_and_send, MAPPED),
        ("save + order_status_changed, unmapped status", "unmapped", save_and_send, UNMAPPED),
        ("save watched by ORDER_MODEL (2 waybills)", "watched", plain_save, MAPPED),
    ]
    timings: dict[str, list[float]] = {name: [] for _label, name, _change, _statuses in variants}
    # Interleaved, so that the load of a shared machine weighs on every variant alike.
    for i in range(ROUNDS):
        for _label, name, change, statuses in variants:
            if name == "watched":
                watching.enable()
            timings[name].append(timed(change, orders[name], statuses[i % 2]))
            if name == "watched":
                watching.disable()
    counts = {}
    for _label, name, change, statuses in variants:
        if name == "watched":
            watching.enable()
        counts[name] = queries_of(change, orders[name], statuses[ROUNDS % 2])
        if name == "watched":
            watching.disable()

    base = statistics.median(timings["baseline"])
    print(f"{ROUNDS} status changes each, median per change (each in its own transaction)")
    print(f"{'':46} {'ms':>7} {'ratio':>7} {'queries':>8}")
    for label, name, _change, _statuses in variants:
        ms = statistics.median(timings[name])
        print(f"{label:46} {ms * 1000:7.3f} {ms / base:6.2f}x {counts[name]:8d}")
    recorded = {
        name: TraceEvent.objects.filter(waybill__order_id=order.number).count()
        for name, order in orders.items()
    }
    print(f"events recorded: {recorded}")
    expected = 2 * (ROUNDS + 1)
    assert recorded == {"baseline": 0, "signal": expected, "unmapped": 0, "watched": expected}, recorded


def main() -> int:
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        run()
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    return 0


if __name__ == "__main__":
    sys.exit(main())

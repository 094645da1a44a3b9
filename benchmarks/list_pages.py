"""How the waybill-list benchmarks (admin, API) measure a page: their database, data, timing and report line.

Import it after ``django.setup()``.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext, setup_test_environment
from django.utils import timezone

from django_wxlogistics.enums import EventState
from django_wxlogistics.models import TraceEvent, Waybill

ROUNDS = 15


@contextmanager
def bench_database(urlconf: ModuleType, test_name: str | None = None) -> Iterator[None]:
    """A throw-away test database (``DATABASE_URL`` chooses the server, as in tests), with
    ``urlconf`` as the URLs, dropped on the way out."""
    setup_test_environment()
    # As in Django's tests: one connection for the whole run, not a new one per request.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    if test_name:
        connection.settings_dict.setdefault("TEST", {})["NAME"] = test_name
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        with override_settings(ROOT_URLCONF=urlconf, DEBUG=False):
            yield
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def make_waybills(count: int, events_per_row: int) -> None:
    """``count`` waybills with ``events_per_row`` events each: mostly sent, some pending, one failed."""
    now = timezone.now()
    waybills = Waybill.objects.bulk_create(
        Waybill(waybill_id=f"SF{n:012d}", order_id=f"SO{n:08d}", token=f"tok-{n}") for n in range(count)
    )
    states = [EventState.SENT] * 7 + [EventState.PENDING] * 2 + [EventState.FAILED]
    TraceEvent.objects.bulk_create(
        TraceEvent(
            waybill=w,
            action_type=100001,
            action_msg="您的包裹已揽收",
            action_time=now,
            state=state,
            sent_at=now if state == EventState.SENT else None,
        )
        for w in waybills
        for state in states[:events_per_row]
    )


def timed(client: Any, url: str, rows: int | None = None, **headers: str) -> tuple[float, int]:
    """Median milliseconds over ROUNDS requests, and the queries of one (which, given ``rows``,
    must list that many results)."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **headers)
        assert response.status_code == 200, (url, response.status_code)
        if rows is not None:
            assert len(response.json()["results"]) == rows
    # Read now: the next request empties the log the context reads from.
    query_count = len(queries.captured_queries)
    samples = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        client.get(url, **headers)
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), query_count


def report(name: str, ours: tuple[float, int], baseline_name: str, baseline: tuple[float, int]) -> None:
    print(
        f"{name}: {ours[0]:.1f} ms, {ours[1]} queries | {baseline_name}: {baseline[0]:.1f} ms, "
        f"{baseline[1]} queries | ratio {ours[0] / baseline[0]:.2f}x time, {ours[1]}/{baseline[1]} queries"
    )

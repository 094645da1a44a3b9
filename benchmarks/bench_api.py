"""The REST API's waybill list: time and queries, against baselines of the same run.

A page of 50 of 5000 waybills (10 events each) with each waybill's events counted by state,
against the same page without the counts (the floor) and against counting through a join
with ``Count()`` on the whole queryset (whose page COUNT then reads every event).

Runs on a throw-away test database (``DATABASE_URL`` chooses the server, as in tests).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django

django.setup()

from django.contrib.auth.models import User  # noqa: E402
from django.core.signals import request_finished, request_started  # noqa: E402
from django.db import close_old_connections, connection  # noqa: E402
from django.db.models import Count, Q, QuerySet  # noqa: E402
from django.test import override_settings  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.urls import include, path  # noqa: E402
from django.utils import timezone  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from django_wxlogistics.api.serializers import WaybillSerializer  # noqa: E402
from django_wxlogistics.api.views import WaybillViewSet  # noqa: E402
from django_wxlogistics.enums import EventState  # noqa: E402
from django_wxlogistics.models import TraceEvent, Waybill  # noqa: E402

WAYBILLS, ROWS, EVENTS_PER_ROW, ROUNDS = 5000, 50, 10, 15


class JoinedCountsViewSet(WaybillViewSet):
    """The counts through a join: the paginator's COUNT groups every event of every waybill."""

    def get_queryset(self) -> QuerySet[Waybill]:
        return Waybill.objects.annotate(
            **{f"{s}_count": Count("events", filter=Q(events__state=s)) for s in EventState.values}
        )


class NoCountsSerializer(WaybillSerializer):
    class Meta(WaybillSerializer.Meta):
        fields = [f for f in WaybillSerializer.Meta.fields if f != "delivery"]


class NoCountsViewSet(WaybillViewSet):
    """The floor: the same page without the counts."""

    serializer_class = NoCountsSerializer

    def get_queryset(self) -> QuerySet[Waybill]:
        return Waybill.objects.all()


urlpatterns = [
    path("wxlogistics/", include("django_wxlogistics.urls")),
    path("joined/", JoinedCountsViewSet.as_view({"get": "list"})),
    path("plain/", NoCountsViewSet.as_view({"get": "list"})),
]


def timed(client: APIClient, url: str) -> tuple[float, int]:
    """Median milliseconds over ROUNDS requests, and the queries of one."""
    with CaptureQueriesContext(connection) as queries:
        response: Any = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        assert len(response.json()["results"]) == ROWS
    query_count = len(queries.captured_queries)
    samples = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        client.get(url)
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), query_count


def make_data() -> None:
    now = timezone.now()
    waybills = Waybill.objects.bulk_create(
        Waybill(waybill_id=f"SF{n:012d}", order_id=f"SO{n:08d}", token=f"tok-{n}") for n in range(WAYBILLS)
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
        for state in states[:EVENTS_PER_ROW]
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # plans for 50 000 rows, not for the empty tables of a moment ago


def report(name: str, ours: tuple[float, int], baseline_name: str, baseline: tuple[float, int]) -> None:
    print(
        f"{name}: {ours[0]:.1f} ms, {ours[1]} queries | {baseline_name}: {baseline[0]:.1f} ms, "
        f"{baseline[1]} queries | ratio {ours[0] / baseline[0]:.2f}x time, {ours[1]}/{baseline[1]} queries"
    )


def main() -> int:
    setup_test_environment()
    # As in Django's tests: one connection for the whole run, not a new one per request.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    connection.settings_dict.setdefault("TEST", {})["NAME"] = "test_wxl_bench_api"
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        with override_settings(ROOT_URLCONF=sys.modules[__name__], DEBUG=False):
            make_data()
            client = APIClient()
            client.force_authenticate(User.objects.create_superuser("bench", password="bench"))
            ours = timed(client, "/wxlogistics/api/waybills/")
            plain = timed(client, "/plain/")
            joined = timed(client, "/joined/")
            name = f"API waybill list, {ROWS} of {WAYBILLS} waybills with event counts"
            report(name, ours, "same page without counts", plain)
            report(name, ours, "counts through a join on the whole queryset", joined)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The REST API's waybill list: time and queries, against baselines of the same run.

A page of 50 of 5000 waybills (10 events each) with each waybill's events counted by state,
against the same page without the counts (the floor) and against counting through a join
with ``Count()`` on the whole queryset (whose page COUNT then reads every event).

Runs on a throw-away test database (``DATABASE_URL`` chooses the server, as in tests).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django

django.setup()

from django.contrib.auth.models import User  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count, Q, QuerySet  # noqa: E402
from django.urls import include, path  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from benchmarks.list_pages import bench_database, make_waybills, report, timed  # noqa: E402
from django_wxlogistics.api.serializers import WaybillSerializer  # noqa: E402
from django_wxlogistics.api.views import WaybillViewSet  # noqa: E402
from django_wxlogistics.enums import EventState  # noqa: E402
from django_wxlogistics.models import Waybill  # noqa: E402

WAYBILLS, ROWS, EVENTS_PER_ROW = 5000, 50, 10


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


def make_data() -> None:
    make_waybills(WAYBILLS, EVENTS_PER_ROW)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # plans for 50 000 rows, not for the empty tables of a moment ago


def main() -> int:
    with bench_database(sys.modules[__name__], test_name="test_wxl_bench_api"):
        make_data()
        client = APIClient()
        client.force_authenticate(User.objects.create_superuser("bench", password="bench"))
        ours = timed(client, "/wxlogistics/api/waybills/", ROWS)
        plain = timed(client, "/plain/", ROWS)
        joined = timed(client, "/joined/", ROWS)
        name = f"API waybill list, {ROWS} of {WAYBILLS} waybills with event counts"
        report(name, ours, "same page without counts", plain)
        report(name, ours, "counts through a join on the whole queryset", joined)
    return 0


if __name__ == "__main__":
    sys.exit(main())

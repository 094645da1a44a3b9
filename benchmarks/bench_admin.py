"""The admin's waybill list and contact panel: time and queries, against baselines of the same run.

- The waybill list (a page of 50 of 2000 waybills, 10 events each) with its delivery-health
  counts, against the same list without them (the floor), against counting per row (the
  naive way) and against annotating the whole queryset (whose COUNT joins every event).
- The contact panel with ``CONTACT_CACHE_SECONDS`` on, against fetching every time, over
  real HTTP to the sandbox.

Runs on a throw-away test database (``DATABASE_URL`` chooses the server, as in tests).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django

django.setup()

from django.contrib import admin  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.db.models import Count, Q, QuerySet  # noqa: E402
from django.http import HttpRequest  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.urls import path  # noqa: E402

from benchmarks.list_pages import ROUNDS, bench_database, make_waybills, report, timed  # noqa: E402
from django_wxlogistics.models import Waybill  # noqa: E402
from django_wxlogistics.sandbox.control import SandboxControl  # noqa: E402
from django_wxlogistics.sandbox.server import SandboxServer  # noqa: E402

WAYBILLS, ROWS, EVENTS_PER_ROW = 2000, 50, 10


class PlainWaybillAdmin(admin.ModelAdmin):
    """The floor: the same list without delivery health."""

    list_display = ["waybill_id", "order_id", "latest_action_type", "created_at"]
    list_per_page = ROWS


class NaiveWaybillAdmin(PlainWaybillAdmin):
    """Delivery health counted row by row: three queries a row."""

    list_display = [*PlainWaybillAdmin.list_display, "health"]

    @admin.display(description="health")
    def health(self, obj: Waybill) -> str:
        return "/".join(
            str(obj.events.filter(state=state).count()) for state in ("sent", "pending", "failed")
        )


class AnnotatedWaybillAdmin(PlainWaybillAdmin):
    """Delivery health annotated on the whole queryset: the paginator's COUNT joins every event."""

    list_display = [*PlainWaybillAdmin.list_display, "health"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Waybill]:
        return super().get_queryset(request).annotate(**{f"n_{k}": v for k, v in EVENT_COUNTS_JOINED.items()})

    @admin.display(description="health")
    def health(self, obj: Waybill) -> str:
        return f"{obj.n_sent}/{obj.n_waiting}/{obj.n_failed}"  # type: ignore[attr-defined]


EVENT_COUNTS_JOINED = {
    "sent": Count("events", filter=Q(events__state="sent")),
    "waiting": Count("events", filter=Q(events__state__in=["pending", "sending"])),
    "failed": Count("events", filter=Q(events__state="failed")),
}

sites = {name: admin.AdminSite(name=name) for name in ("plain", "naive", "annotated")}
sites["plain"].register(Waybill, PlainWaybillAdmin)
sites["naive"].register(Waybill, NaiveWaybillAdmin)
sites["annotated"].register(Waybill, AnnotatedWaybillAdmin)
urlpatterns = [path("admin/", admin.site.urls)] + [
    path(f"{name}/", site.urls) for name, site in sites.items()
]


def bench_list(client: Client) -> None:
    ours = timed(client, "/admin/django_wxlogistics/waybill/")
    plain = timed(client, "/plain/django_wxlogistics/waybill/")
    naive = timed(client, "/naive/django_wxlogistics/waybill/")
    annotated = timed(client, "/annotated/django_wxlogistics/waybill/")
    name = f"waybill list, {ROWS} of {WAYBILLS} rows with health"
    report(name, ours, "same list without health", plain)
    report(name, ours, "health counted per row", naive)
    report(name, ours, "health annotated on the whole queryset", annotated)


def bench_contact(client: Client) -> None:
    server = SandboxServer(host="127.0.0.1", port=0).start()
    try:
        control = SandboxControl(server.url, server=server)
        waybill = Waybill.objects.get(waybill_id="SF000000000000")
        control.register_waybill(waybill.waybill_id, waybill.token)
        url = f"/admin/django_wxlogistics/waybill/{waybill.pk}/contact/"
        header = {"HTTP_X_REQUESTED_WITH": "XMLHttpRequest"}
        results: dict[int, tuple[float, int]] = {}
        for seconds in (0, 60):
            cache.clear()
            wx = {
                **django.conf.settings.WXLOGISTICS,
                "API_BASE_URL": server.url,
                "CONTACT_CACHE_SECONDS": seconds,
            }
            with override_settings(WXLOGISTICS=wx):
                results[seconds] = timed(client, url, **header)
        calls = len(control.calls(api="logistics.getContact"))
        report("contact panel, cache 60 s", results[60], "no cache", results[0])
        print(f"getContact calls made: {calls} for {2 * (ROUNDS + 1)} panels")
        control.close()
    finally:
        server.stop()


def main() -> int:
    with bench_database(sys.modules[__name__]):
        make_waybills(WAYBILLS, EVENTS_PER_ROW)
        user = User.objects.create_superuser("bench", password="bench")
        client = Client()
        client.force_login(user)
        run: list[Callable[[Client], None]] = [bench_list, bench_contact]
        for step in run:
            step(client)
    return 0


if __name__ == "__main__":
    sys.exit(main())

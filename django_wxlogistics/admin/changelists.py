"""The waybill list's rows with their events counted by state."""

from __future__ import annotations

from typing import Any

from django.contrib.admin.views.main import ChangeList
from django.db.models import Count, Q
from django.http import HttpRequest

from ..enums import EventState
from ..models import TraceEvent

#: A waybill's events by state, as attributes of each listed waybill.
EVENT_COUNTS = {
    "sent_count": Count("pk", filter=Q(state=EventState.SENT)),
    "waiting_count": Count("pk", filter=Q(state__in=[EventState.PENDING, EventState.SENDING])),
    "failed_count": Count("pk", filter=Q(state=EventState.FAILED)),
}


class WaybillChangeList(ChangeList):
    """Counts the events of the shown rows only, in one query.

    Annotating the list's queryset instead would make the paginator's COUNT join every
    event of every waybill on each page view.
    """

    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        rows = list(self.result_list)
        counts: dict[Any, dict[str, Any]] = {
            row["waybill"]: dict(row)
            for row in TraceEvent.objects.filter(waybill__in=[waybill.pk for waybill in rows])
            .order_by()
            .values("waybill")
            .annotate(**EVENT_COUNTS)
        }
        for waybill in rows:
            found = counts.get(waybill.pk, {})
            for name in EVENT_COUNTS:
                setattr(waybill, name, found.get(name, 0))
        self.result_list = rows

"""The admin's lists: bad query input answered as such, counts that stop at a cap, and the
waybill list's rows with their events counted by state."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList as DjangoChangeList
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.utils.functional import cached_property
from django.utils.translation import gettext as _

from ..enums import EventState
from ..models import TraceEvent


class CappedPaginator(Paginator):
    """A paginator that counts the list's rows up to ``cap`` and no further.

    Counting every row of a table of a million trace events takes a read of all of them on
    every page view (tens of milliseconds, growing with the table); up to the cap it is a
    read of ``cap`` rows at most. Past it, the list says "more than 10000" and offers the
    pages up to the cap: a filter, a date or a search narrows it down.
    """

    cap = 10_000

    @cached_property
    def _counted(self) -> int:
        # Any cap + 1 rows will do: without the list's order, the planner reads the cheapest.
        return int(self.object_list.order_by()[: self.cap + 1].count())  # type: ignore[attr-defined]

    @cached_property
    def count(self) -> int:
        return min(self._counted, self.cap)

    @property
    def capped(self) -> bool:
        """Whether the list holds more rows than it counted."""
        return self._counted > self.cap


class ChangeList(DjangoChangeList):
    """Django's list, where a date-hierarchy year or day too large for a date is a bad filter,
    and a capped count is shown as such.

    Django turns ``?action_time__year=99999999999`` into an ``OverflowError`` (a 500) where
    ``?action_time__year=10000`` gets the list's usual answer to bad filters.
    """

    def get_filters(self, request: HttpRequest) -> Any:
        try:
            return super().get_filters(request)
        except OverflowError as exc:
            raise IncorrectLookupParameters(exc) from exc

    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        if getattr(self.paginator, "capped", False):
            # The search bar's "N results" would name the cap as the count: the pagination
            # line says "more than" instead (templates/admin/django_wxlogistics/).
            self.full_result_count = self.result_count


class InputChecks(admin.ModelAdmin):
    """What every admin of the package answers to query input Django would let through as a 500."""

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[DjangoChangeList]:
        return ChangeList

    def response_action(
        self, request: HttpRequest, queryset: QuerySet[Any], *args: Any, **kwargs: Any
    ) -> Any:
        # Django filters by the selected ids as posted: one that is no id would be a 500.
        try:
            for value in request.POST.getlist(helpers.ACTION_CHECKBOX_NAME):
                self.opts.pk.to_python(value)
        except ValidationError:
            self.message_user(
                request, _("The selection is not valid; no items have been changed."), messages.ERROR
            )
            return None
        return super().response_action(request, queryset, *args, **kwargs)


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

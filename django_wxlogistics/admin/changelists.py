"""The admin's lists: bad query input answered as such, and the waybill list's rows with their
events counted by state."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList as DjangoChangeList
from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _

from ..enums import EventState
from ..models import TraceEvent


class ChangeList(DjangoChangeList):
    """Django's list, where a date-hierarchy year or day too large for a date is a bad filter.

    Django turns ``?action_time__year=99999999999`` into an ``OverflowError`` (a 500) where
    ``?action_time__year=10000`` gets the list's usual answer to bad filters.
    """

    def get_filters(self, request: HttpRequest) -> Any:
        try:
            return super().get_filters(request)
        except OverflowError as exc:
            raise IncorrectLookupParameters(exc) from exc


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

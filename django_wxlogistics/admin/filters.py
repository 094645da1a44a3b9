"""List filters of the admin."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from ..enums import EventState
from ..errcodes import errcode_label
from ..models import TraceEvent


class HasFailedEventsFilter(admin.SimpleListFilter):
    title = _("failed events")
    parameter_name = "has_failed"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("yes", _("Has failed events")), ("no", _("No failed events"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        # The waybills of the failed events, read once through the index of states (a few
        # rows), rather than a look at each waybill's events for every waybill listed: the
        # same answer from either side, but only this side stays small as the table grows.
        failed = TraceEvent.objects.filter(state=EventState.FAILED).values("waybill_id")
        if self.value() == "yes":
            return queryset.filter(pk__in=failed)
        if self.value() == "no":
            return queryset.exclude(pk__in=failed)
        return queryset


class ErrcodeFilter(admin.SimpleListFilter):
    """The errcodes that occur, each with what it means."""

    title = _("last errcode")
    parameter_name = "last_errcode"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        codes = (
            TraceEvent.objects.filter(last_errcode__isnull=False)
            .order_by("last_errcode")
            .values_list("last_errcode", flat=True)
            .distinct()
        )
        choices: list[tuple[str, Any]] = [("none", _("None"))]
        choices += [(str(code), errcode_label(code)) for code in codes if code is not None]
        return choices

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value == "none":
            return queryset.filter(last_errcode__isnull=True)
        if value and value.lstrip("-").isdigit():
            return queryset.filter(last_errcode=int(value))
        return queryset

"""List filters of the admin."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from ..enums import EventState
from ..models import TraceEvent
from .errors import errcode_label


class HasFailedEventsFilter(admin.SimpleListFilter):
    title = _("failed events")
    parameter_name = "has_failed"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("yes", _("Has failed events")), ("no", _("No failed events"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        failed = Exists(TraceEvent.objects.filter(waybill=OuterRef("pk"), state=EventState.FAILED))
        if self.value() == "yes":
            return queryset.filter(failed)
        if self.value() == "no":
            return queryset.filter(~failed)
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

"""Filters of the list endpoints (django-filter), and the default pagination."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.apps import apps
from django.db.models import Exists, OuterRef, QuerySet
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import filters
from rest_framework.exceptions import ValidationError
from rest_framework.filters import BaseFilterBackend
from rest_framework.pagination import PageNumberPagination
from rest_framework.settings import api_settings

from ..enums import ActionType, EventState, ShippingCall
from ..models import Payment, ShippingInfo, TraceEvent, Waybill
from ..secret_fields import secret_in_lookup

#: The page size when the host project's REST_FRAMEWORK sets no PAGE_SIZE.
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500


class Pagination(PageNumberPagination):
    """``?page=`` and ``?page_size=`` (at most 500); the host's ``PAGE_SIZE`` or 50 a page."""

    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def get_page_size(self, request: Any) -> int | None:
        self.page_size = api_settings.PAGE_SIZE or DEFAULT_PAGE_SIZE
        _require_whole_number(request, self.page_size_query_param)
        return super().get_page_size(request)

    def check(self, request: Any) -> None:
        """A 400 now for a bad ``?page=`` or ``?page_size=``, before a list is fetched to paginate."""
        self.get_page_size(request)
        if request.query_params.get(self.page_query_param) not in self.last_page_strings:
            _require_whole_number(request, self.page_query_param)

    def get_page_number(self, request: Any, paginator: Any) -> Any:
        if request.query_params.get(self.page_query_param) not in self.last_page_strings:
            _require_whole_number(request, self.page_query_param)
        return super().get_page_number(request, paginator)


def _require_whole_number(request: Any, name: str) -> None:
    # DRF quietly falls back to a default; a typo deserves to be told.
    value = request.query_params.get(name)
    if value is not None and not (value.isascii() and value.isdigit() and int(value) > 0):
        raise ValidationError({name: [_("Give a whole number above 0.")]})


class SecretFieldGuard(BaseFilterBackend):
    """A 400 naming each query parameter that would select or order by a secret field.

    Whatever the guess, the answer is the same: a secret cannot be found out one filtered
    or sorted list at a time. Names are read as lookups (``token__startswith``,
    ``waybill__token``), ``ordering`` values as the fields they sort by.
    """

    def filter_queryset(self, request: Any, queryset: QuerySet[Any], view: Any) -> QuerySet[Any]:
        ordering_param = OrderingFilter.ordering_param
        refused: dict[str, list[Any]] = {}
        for name, values in request.query_params.lists():
            terms = [t for v in values for t in v.split(",")] if name == ordering_param else [name]
            if any(secret_in_lookup(queryset.model, term) for term in terms):
                refused[name] = [_("This field is secret: it cannot be used to filter or sort.")]
        if refused:
            raise ValidationError(refused)
        return queryset


class OrderingFilter(filters.OrderingFilter):
    """DRF's ``?ordering=``, where a field the list cannot be sorted by is a 400 that names the
    ones it can, not a value quietly ignored."""

    ordering_param = "ordering"  # as documented, whatever the host's ORDERING_PARAM

    def get_ordering(self, request: Any, queryset: QuerySet[Any], view: Any) -> Any:
        value = request.query_params.get(self.ordering_param)
        if value is not None:
            terms = [term.strip() for term in value.split(",")]
            valid = self.remove_invalid_fields(queryset, terms, view, request)
            if len(valid) != len(terms):
                allowed = [
                    name for name, _label in self.get_valid_fields(queryset, view, {"request": request})
                ]
                raise ValidationError(
                    {
                        self.ordering_param: [
                            _(
                                "Cannot sort by %(value)s. Sort by %(fields)s; a leading '-' sorts "
                                "descending, commas separate several."
                            )
                            % {"value": repr(value), "fields": ", ".join(allowed)}
                        ]
                    }
                )
        return super().get_ordering(request, queryset, view)


class FilterBackend(DjangoFilterBackend):
    """django-filter's backend; its form shows in the browsable API only where its templates are
    installed (``"django_filters"`` in INSTALLED_APPS), instead of failing the page."""

    def to_html(self, request: Any, queryset: Any, view: Any) -> str | None:
        if not apps.is_installed("django_filters"):
            return None
        return super().to_html(request, queryset, view)


class StrictFilterForm(forms.Form):
    """An empty choice (``?state=``) is an error to report, not a filter to skip in silence."""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for name, field in self.fields.items():
            if isinstance(field, forms.ChoiceField) and self.data.get(name, None) == "":
                self.add_error(name, _("Give one of the listed values, or leave the parameter out."))
        return cleaned


class WaybillFilter(django_filters.FilterSet):
    order_id = django_filters.CharFilter(help_text=_("Waybills of this order."))
    latest_action_type = django_filters.TypedChoiceFilter(
        choices=ActionType.choices,
        coerce=int,
        help_text=_("Waybills whose latest event that reached WeChat has this action type."),
    )
    # A choice, not a BooleanFilter: that one ignores values it cannot read instead of saying so.
    has_failed = django_filters.ChoiceFilter(
        choices=[("true", "true"), ("false", "false")],
        method="filter_has_failed",
        help_text=_("true: waybills with at least one failed trace event; false: with none."),
    )

    class Meta:
        model = Waybill
        fields = ["order_id", "latest_action_type", "has_failed"]
        form = StrictFilterForm

    def filter_has_failed(self, queryset: QuerySet[Waybill], name: str, value: str) -> QuerySet[Waybill]:
        failed = TraceEvent.objects.filter(waybill=OuterRef("pk"), state=EventState.FAILED)
        return queryset.filter(Exists(failed)) if value == "true" else queryset.exclude(Exists(failed))


class TraceEventFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(choices=EventState.choices, help_text=_("Events in this state."))
    action_type = django_filters.TypedChoiceFilter(
        choices=ActionType.choices, coerce=int, help_text=_("Events of this action type.")
    )

    class Meta:
        model = TraceEvent
        fields = ["state", "action_type"]
        form = StrictFilterForm


class IdFilter(django_filters.Filter):
    """A database id: a whole number above 0, or a 400 that says so."""

    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **{"min_value": 1, **kwargs})


class PaymentFilter(django_filters.FilterSet):
    order_id = django_filters.CharFilter(help_text=_("Payments of this order."))

    class Meta:
        model = Payment
        fields = ["order_id"]
        form = StrictFilterForm


class ShippingInfoFilter(django_filters.FilterSet):
    order_id = django_filters.CharFilter(help_text=_("Shipping information of this order."))
    payment = IdFilter(field_name="payment_id", help_text=_("Shipping information of this payment (its id)."))
    state = django_filters.ChoiceFilter(choices=EventState.choices, help_text=_("Calls in this state."))
    call = django_filters.ChoiceFilter(choices=ShippingCall.choices, help_text=_("Calls of this kind."))

    class Meta:
        model = ShippingInfo
        fields = ["order_id", "payment", "state", "call"]
        form = StrictFilterForm

"""The API's views: thin; validation lives in the serializers, state changes in services.

Waybills are addressed by ``waybill_id``; their trace events are nested under them. The
merchant's payments and their shipping information are addressed by their database id.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.db.models import Count, OuterRef, Prefetch, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.utils.functional import cached_property
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from .. import exceptions
from ..enums import AccessChannel, EventState
from ..models import Payment, ShippingInfo, TraceEvent, Waybill
from ..redaction import get_logger
from ..services import (
    can_view_contact,
    carrier_list,
    fetch_contact,
    record_contact_access,
    retry_failed_events,
    retry_failed_shipping_info,
    wechat_order,
)
from ..throttling import contact_lookup_wait, wechat_lookup_wait
from .errors import (
    contact_error,
    documented,
    problem,
    too_many_lookups,
    too_many_wechat_lookups,
    wechat_lookup_error,
)
from .filters import (
    FilterBackend,
    OrderingFilter,
    Pagination,
    PaymentFilter,
    SecretFieldGuard,
    ShippingInfoFilter,
    TraceEventFilter,
    WaybillFilter,
)
from .framework import HostIndependent
from .openapi import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view, view_schema
from .parsers import too_large
from .permissions import AnswerAsAllowed, api_permission_classes
from .serializers import (
    CarrierSerializer,
    ContactSerializer,
    ErrorSerializer,
    PaymentSerializer,
    ShippingInfoSerializer,
    TraceEventSerializer,
    WaybillSerializer,
    WeChatOrderSerializer,
)

logger = get_logger(__name__)

T = TypeVar("T")


def _events_in(state: str) -> Coalesce:
    events = TraceEvent.objects.filter(waybill=OuterRef("pk"), state=state).order_by().values("waybill")
    return Coalesce(Subquery(events.annotate(n=Count("pk")).values("n")), Value(0))


#: A waybill's events by state, in the page's query. Subqueries, not a join with Count():
#: the paginator's COUNT leaves them out, where a join would count through every event.
EVENT_COUNTS = {f"{state}_count": _events_in(state) for state in EventState.values}

_WAYBILL_ID = OpenApiParameter(
    "waybill_id",
    str,
    OpenApiParameter.PATH,
    description=_("The waybill's ID at WeChat, e.g. SF1234567890 (not the database id)."),
)
_EVENT_ID = OpenApiParameter("event_id", int, OpenApiParameter.PATH, description=_("The trace event's id."))
_PAYMENT_ID = OpenApiParameter("payment_id", int, OpenApiParameter.PATH, description=_("The payment's id."))
_SHIPPING_INFO_ID = OpenApiParameter(
    "shipping_info_id", int, OpenApiParameter.PATH, description=_("The shipping information's id.")
)


def _ordering(*fields: str) -> Any:
    return OpenApiParameter(
        "ordering",
        str,
        OpenApiParameter.QUERY,
        description=format_lazy(
            _("Sort by {fields}; a leading '-' sorts descending, commas separate several."),
            fields=", ".join(fields),
        ),
    )


def _listed(serializer: type[serializers.Serializer], summary: Any, *parameters: OpenApiParameter) -> Any:
    """The OpenAPI of a list: a page of ``serializer``, or 400 for a bad filter."""
    return extend_schema(
        summary=summary,
        parameters=list(parameters),
        responses={200: serializer, **documented(400, 401, 403, 404)},
    )


def _shown(serializer: type[serializers.Serializer], summary: Any, *parameters: OpenApiParameter) -> Any:
    """The OpenAPI of showing one object: ``serializer``, or 404."""
    return extend_schema(
        summary=summary,
        parameters=list(parameters),
        responses={200: serializer, **documented(401, 403, 404)},
    )


def answer_as_allowed(serializer: type[AnswerAsAllowed]) -> Any:
    """The OpenAPI response of a write: the whole object, or only its ``brief_fields``."""
    fields = serializer().fields
    brief = {
        "type": "object",
        "properties": {
            name: {"type": "integer" if isinstance(fields[name], serializers.IntegerField) else "string"}
            for name in serializer.brief_fields
        },
        "required": list(serializer.brief_fields),
        "additionalProperties": False,
    }
    whole = {"$ref": f"#/components/schemas/{serializer.__name__.removesuffix('Serializer')}"}
    return OpenApiResponse(
        {"oneOf": [whole, brief]},
        description=format_lazy(
            _("The {model} as it is now; only {fields} to a user who may not read it."),
            model=serializer.Meta.model._meta.verbose_name,  # type: ignore[attr-defined]
            fields=" and ".join(serializer.brief_fields),
        ),
    )


class APIViewSet(HostIndependent, viewsets.GenericViewSet):
    """What every view of this API shares, whatever the host's REST_FRAMEWORK defaults."""

    schema = view_schema()
    pagination_class = Pagination
    filter_backends = [SecretFieldGuard, FilterBackend, OrderingFilter]

    def get_permissions(self) -> list[BasePermission]:
        return [permission() for permission in api_permission_classes()]

    def handle_exception(self, exc: Exception) -> Response:
        return super().handle_exception(too_large(exc) or exc)

    def filter_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        # Filters and ordering belong to lists; a detail URL names its object already.
        return super().filter_queryset(queryset) if self.action == "list" else queryset


@extend_schema_view(
    list=_listed(
        WaybillSerializer, _("List waybills"), _ordering("created_at", "updated_at", "waybill_id", "order_id")
    ),
    create=extend_schema(
        summary=_("Create a waybill"),
        responses={201: answer_as_allowed(WaybillSerializer), **documented(400, 401, 403)},
    ),
    retrieve=_shown(WaybillSerializer, _("Show a waybill"), _WAYBILL_ID),
    update=extend_schema(
        summary=_("Replace a waybill"),
        parameters=[_WAYBILL_ID],
        responses={200: answer_as_allowed(WaybillSerializer), **documented(400, 401, 403, 404)},
    ),
    partial_update=extend_schema(
        summary=_("Update a waybill (e.g. set its token)"),
        parameters=[_WAYBILL_ID],
        responses={200: answer_as_allowed(WaybillSerializer), **documented(400, 401, 403, 404)},
    ),
)
class WaybillViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    APIViewSet,
):
    """Waybills, addressed by `waybill_id`, with how many of their events stand in each state."""

    schema_tag = "waybills"
    serializer_class = WaybillSerializer
    lookup_field = "waybill_id"
    lookup_value_regex = "[^/]+"
    filterset_class = WaybillFilter
    ordering_fields = ["created_at", "updated_at", "waybill_id", "order_id"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self) -> QuerySet[Waybill]:
        if self.action == "contact":
            return Waybill.objects.all()
        return Waybill.objects.annotate(**EVENT_COUNTS)

    @extend_schema(
        summary=_("Show a waybill's sender and receiver, live from WeChat"),
        parameters=[_WAYBILL_ID],
        description=_(
            "Phones, names and addresses are masked unless the user holds the "
            "django_wxlogistics.view_contact permission; each unmasked read is recorded "
            "(ContactAccess, channel 'api') and sends contact_viewed."
        ),
        filters=False,
        responses={
            200: ContactSerializer,
            **documented(401, 403),
            404: OpenApiResponse(
                ErrorSerializer, description=_("No such waybill here, or WeChat answered 40199.")
            ),
            409: OpenApiResponse(
                ErrorSerializer, description=_("The waybill has no token, or WeChat refused it (9300507).")
            ),
            502: OpenApiResponse(
                ErrorSerializer,
                description=_("WeChat failed or could not be reached, or the lookup failed on this server."),
            ),
            429: OpenApiResponse(
                ErrorSerializer,
                description=_(
                    "This user looked up more contacts than WXLOGISTICS CONTACT_RATE allows; "
                    "Retry-After says in how many seconds to try again. WeChat was not asked."
                ),
            ),
            503: OpenApiResponse(ErrorSerializer, description=_("The WXLOGISTICS settings are incomplete.")),
        },
    )
    @action(detail=True, methods=["get"], pagination_class=None)
    def contact(self, request: Request, waybill_id: str) -> Response:
        waybill = self.get_object()
        if not waybill.has_token:
            return problem(
                status.HTTP_409_CONFLICT,
                _(
                    "This waybill has no token, and WeChat needs it to show contacts. Set the Token "
                    'of WeChat\'s order placement event: PATCH this waybill with {"token": "…"}.'
                ),
            )
        try:
            wait = contact_lookup_wait(request)
            if wait is not None:  # before WeChat is asked: a refused lookup spends no quota
                return too_many_lookups(wait)
            contact = fetch_contact(waybill)
        except (exceptions.WeChatError, exceptions.ConfigurationError) as exc:
            return contact_error(exc, waybill)
        except Exception as exc:  # e.g. the cache backend: a 502 that says so, not a 500
            # The traceback goes through the logger's RedactingFilter; the message names no secret.
            logger.exception(
                "Contacts of waybill %s could not be loaded over the API: unexpected %s.",
                waybill.waybill_id,
                type(exc).__name__,
            )
            return contact_error(exc, waybill)
        reveal = can_view_contact(request.user)
        if reveal:
            record_contact_access(waybill, request.user, AccessChannel.API)
        else:
            contact = contact.masked()
        response = Response({**contact.as_dict(), "masked": not reveal})
        response["Cache-Control"] = "no-store, private"  # personal data: never cached on the way
        return response


@extend_schema_view(
    list=_listed(
        TraceEventSerializer,
        _("List a waybill's trace events"),
        _WAYBILL_ID,
        _ordering("action_time", "created_at", "id"),
    ),
    create=extend_schema(
        summary=_("Add a trace event; it is pushed to WeChat after the response"),
        parameters=[_WAYBILL_ID],
        responses={201: answer_as_allowed(TraceEventSerializer), **documented(400, 401, 403, 404)},
    ),
    retrieve=_shown(TraceEventSerializer, _("Show a trace event"), _WAYBILL_ID, _EVENT_ID),
)
class TraceEventViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    APIViewSet,
):
    """The trace of one waybill, oldest first: what was sent, what waits, what failed and why."""

    schema_tag = "trace events"
    serializer_class = TraceEventSerializer
    lookup_url_kwarg = "event_id"
    filterset_class = TraceEventFilter
    ordering_fields = ["action_time", "created_at", "id"]
    ordering = ["action_time", "id"]
    # Retrying changes an event; POST alone would only ask for add_traceevent.
    action_permissions = {"retry": ["%(app_label)s.change_%(model_name)s"]}

    @cached_property
    def waybill(self) -> Waybill:
        return get_object_or_404(Waybill, waybill_id=self.kwargs["waybill_id"])

    def get_queryset(self) -> QuerySet[TraceEvent]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no URL kwargs
            return TraceEvent.objects.none()
        # No query here: the permission check calls this before the waybill is known to exist.
        return TraceEvent.objects.filter(waybill__waybill_id=self.kwargs["waybill_id"])

    def get_serializer_context(self) -> dict[str, Any]:
        context = {**super().get_serializer_context()}
        if self.action == "create":
            context["waybill"] = self.waybill
        return context

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        self.waybill  # noqa: B018  (a 404 for an unknown waybill, not an empty page)
        return super().list(request, *args, **kwargs)

    @extend_schema(
        summary=_("Retry a failed trace event"),
        parameters=[_WAYBILL_ID, _EVENT_ID],
        description=_(
            "Gives a failed event a fresh set of attempts and nudges a worker. Needs "
            "change_traceevent. An event that is not failed answers 409."
        ),
        request=None,
        filters=False,
        responses={
            200: answer_as_allowed(TraceEventSerializer),
            **documented(401, 403, 404),
            409: OpenApiResponse(ErrorSerializer, description=_("The event is not failed.")),
        },
    )
    @action(detail=True, methods=["post"], pagination_class=None)
    def retry(self, request: Request, waybill_id: str, event_id: str) -> Response:
        event = self.get_object()
        if event.state != EventState.FAILED or not retry_failed_events(
            TraceEvent.objects.filter(pk=event.pk)
        ):
            return problem(
                status.HTTP_409_CONFLICT,
                _("Only failed events can be retried; this one is %(state)s.")
                % {"state": event.get_state_display()},
            )
        event.refresh_from_db()
        return Response(self.get_serializer(event).data)


#: What asking WeChat may answer besides the order or the carriers, for extend_schema(responses=...).
WECHAT_LOOKUP_ERRORS = {
    429: OpenApiResponse(
        ErrorSerializer,
        description=_(
            "This user asked WeChat more often than WXLOGISTICS CONTACT_RATE allows; Retry-After "
            "says in how many seconds to try again. WeChat was not asked."
        ),
    ),
    502: OpenApiResponse(
        ErrorSerializer,
        description=_("WeChat failed or could not be reached, or the lookup failed on this server."),
    ),
    503: OpenApiResponse(ErrorSerializer, description=_("The WXLOGISTICS settings are incomplete.")),
}


def _ask_wechat(request: Request, what: str, ask: Callable[[], T], *, counted: bool = True) -> T | Response:
    """``ask()``'s answer, or the error response to give instead: WeChat's errors as 4xx/5xx, and
    a 429 before WeChat is asked when ``counted`` and the user's lookups at WeChat are used up."""
    try:
        if counted:
            wait = wechat_lookup_wait(request)
            if wait is not None:  # before WeChat is asked: a refused lookup spends no quota
                return too_many_wechat_lookups(wait)
        return ask()
    except (exceptions.WeChatError, exceptions.ConfigurationError) as exc:
        return wechat_lookup_error(exc)
    except Exception as exc:  # e.g. the cache backend: a 502 that says so, not a 500
        # The traceback goes through the logger's RedactingFilter; the message names no secret.
        logger.exception(
            "WeChat could not be asked for %s over the API: unexpected %s.", what, type(exc).__name__
        )
        return wechat_lookup_error(exc)


@extend_schema_view(
    list=_listed(PaymentSerializer, _("List payments"), _ordering("created_at", "order_id", "id")),
    retrieve=_shown(PaymentSerializer, _("Show a payment and its shipping information"), _PAYMENT_ID),
)
class PaymentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, APIViewSet):
    """The shop's WeChat Pay payments, newest first, each with its shipping-information calls,
    and what WeChat says of one now."""

    schema_tag = "payments"
    serializer_class = PaymentSerializer
    lookup_url_kwarg = "payment_id"
    filterset_class = PaymentFilter
    ordering_fields = ["created_at", "order_id", "id"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self) -> QuerySet[Payment]:
        if self.action == "wechat_order":
            return Payment.objects.all()
        calls = ShippingInfo.objects.order_by("id")
        return Payment.objects.prefetch_related(Prefetch("shipping_infos", queryset=calls))

    @extend_schema(
        summary=_("Show what WeChat says of a payment now (get_order)"),
        parameters=[_PAYMENT_ID],
        description=_(
            "Asks WeChat at each call; nothing is stored. Needs view_payment. The payer's openid "
            "and the phone numbers are always masked. Each user may ask at most WXLOGISTICS "
            "CONTACT_RATE times (a counter of its own, shared with refreshing the carriers)."
        ),
        filters=False,
        responses={
            200: WeChatOrderSerializer,
            **documented(401, 403),
            404: OpenApiResponse(
                ErrorSerializer,
                description=_("No such payment here, or WeChat does not know it (yet): errcode 10060001."),
            ),
            409: OpenApiResponse(
                ErrorSerializer,
                description=_("The payment has neither a transaction_id nor mchid and out_trade_no."),
            ),
            **WECHAT_LOOKUP_ERRORS,
        },
    )
    @action(detail=True, methods=["get"], url_path="wechat-order", pagination_class=None)
    def wechat_order(self, request: Request, payment_id: str) -> Response:
        payment = self.get_object()
        order = _ask_wechat(request, f"the order of payment {payment.pk}", lambda: wechat_order(payment))
        if isinstance(order, Response):
            return order
        response = Response(order.as_dict())
        response["Cache-Control"] = "no-store, private"  # WeChat's word of the moment, about a person
        return response


@extend_schema_view(
    list=_listed(ShippingInfoSerializer, _("List shipping information"), _ordering("created_at", "id")),
    retrieve=_shown(ShippingInfoSerializer, _("Show shipping information"), _SHIPPING_INFO_ID),
)
class ShippingInfoViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, APIViewSet):
    """Shipping-information calls to WeChat, newest first: their state and WeChat's answer.

    Never their request body: it holds the payer's openid.
    """

    schema_tag = "shipping information"
    serializer_class = ShippingInfoSerializer
    lookup_url_kwarg = "shipping_info_id"
    filterset_class = ShippingInfoFilter
    ordering_fields = ["created_at", "id"]
    ordering = ["-created_at", "-id"]
    # Retrying changes a call; POST alone would only ask for add_shippinginfo.
    action_permissions = {"retry": ["%(app_label)s.change_%(model_name)s"]}

    def get_queryset(self) -> QuerySet[ShippingInfo]:
        return ShippingInfo.objects.select_related("payment")

    @extend_schema(
        summary=_("Retry failed shipping information"),
        parameters=[_SHIPPING_INFO_ID],
        description=_(
            "Gives a failed call a fresh set of attempts, sent in order with the payment's other "
            "calls, and nudges a worker. Needs change_shippinginfo. A call that is not failed, or "
            "whose payment has recorded the same call again since, answers 409."
        ),
        request=None,
        filters=False,
        responses={
            200: answer_as_allowed(ShippingInfoSerializer),
            **documented(401, 403, 404),
            409: OpenApiResponse(
                ErrorSerializer,
                description=_("The call is not failed, or the payment has recorded it again since."),
            ),
        },
    )
    @action(detail=True, methods=["post"], pagination_class=None)
    def retry(self, request: Request, shipping_info_id: str) -> Response:
        info = self.get_object()
        if info.state != EventState.FAILED:
            return problem(
                status.HTTP_409_CONFLICT,
                _("Only failed shipping information can be retried; this call is %(state)s.")
                % {"state": info.get_state_display()},
            )
        if not retry_failed_shipping_info(ShippingInfo.objects.filter(pk=info.pk)):
            return problem(
                status.HTTP_409_CONFLICT,
                _(
                    "This call cannot be retried: its payment has recorded the same call again "
                    "since, and WeChat takes it only once. See the payment's other calls."
                ),
            )
        info.refresh_from_db()
        return Response(self.get_serializer(info).data)


_REFRESH = OpenApiParameter(
    "refresh",
    str,
    OpenApiParameter.QUERY,
    enum=["1", "0"],
    description=_(
        "1: ask WeChat now instead of the list kept for hours (counted as a lookup at WeChat, "
        "see CONTACT_RATE)."
    ),
)


@extend_schema_view(
    list=extend_schema(
        summary=_("List the carriers WeChat knows (get_delivery_list)"),
        description=_(
            "The codes express_company and delivery_id take. Kept for hours by the server; needs "
            "view_shippinginfo."
        ),
        parameters=[_REFRESH],
        filters=False,
        responses={200: CarrierSerializer, **documented(400, 401, 403, 404), **WECHAT_LOOKUP_ERRORS},
    ),
)
class CarrierViewSet(APIViewSet):
    """The carriers WeChat knows, by their codes; a page of them at a time."""

    schema_tag = "carriers"
    serializer_class = CarrierSerializer
    filter_backends: list[Any] = []
    # Model permissions by default: the carriers are read by whom may read shipping information.
    queryset = ShippingInfo.objects.none()

    def list(self, request: Request) -> Response:
        refresh = request.query_params.get("refresh", "0")
        if refresh not in ("0", "1"):
            raise serializers.ValidationError(
                {"refresh": [_("Give 1 to ask WeChat now, or 0 (the default) for the list kept.")]}
            )
        if isinstance(self.paginator, Pagination):
            self.paginator.check(request)  # before WeChat is asked
        carriers = _ask_wechat(
            request, "the carriers", lambda: carrier_list(refresh=refresh == "1"), counted=refresh == "1"
        )
        if isinstance(carriers, Response):
            return carriers
        page = self.paginate_queryset(
            [{"delivery_id": c.delivery_id, "delivery_name": c.delivery_name} for c in carriers]
        )
        return self.get_paginated_response(page)

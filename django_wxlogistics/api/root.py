"""``api/`` itself: the API's endpoints, by URL name, as DRF's API root lists a router's.

Endpoints with path parameters are listed as URL templates (``…/waybills/{waybill_id}/``).
The root lets in whom listing waybills lets in, authenticated as the rest of the API, and is
left out of the OpenAPI schema (it describes nothing of its own).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import QuerySet
from django.urls import NoReverseMatch, reverse
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ..models import Waybill
from .framework import HostIndependent
from .permissions import api_permission_classes

#: URL name -> the path parameters its template shows, in the order the API lists them.
ENDPOINTS: Sequence[tuple[str, tuple[str, ...]]] = (
    ("waybill-list", ()),
    ("waybill-detail", ("waybill_id",)),
    ("waybill-contact", ("waybill_id",)),
    ("waybill-event-list", ("waybill_id",)),
    ("waybill-event-detail", ("waybill_id", "event_id")),
    ("waybill-event-retry", ("waybill_id", "event_id")),
    ("payment-list", ()),
    ("payment-detail", ("payment_id",)),
    ("payment-wechat-order", ("payment_id",)),
    ("shipping-info-list", ()),
    ("shipping-info-detail", ("shipping_info_id",)),
    ("shipping-info-retry", ("shipping_info_id",)),
    ("carrier-list", ()),
    ("api-schema", ()),
)


class APIRootView(HostIndependent, APIView):
    """``GET api/``: every endpoint of the API, as absolute URLs or URL templates."""

    schema = None  # nothing of its own to describe, to drf-spectacular or DRF's generator

    def get_permissions(self) -> list[BasePermission]:
        return [permission() for permission in api_permission_classes()]

    def get_queryset(self) -> QuerySet[Waybill]:
        # Model permissions by default: the root needs what listing waybills needs.
        return Waybill.objects.all()

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        match = request.resolver_match
        namespace = f"{match.namespace}:" if match and match.namespace else ""
        return Response(
            {
                name: url
                for name, parameters in ENDPOINTS
                if (url := _url(request, namespace + name, parameters)) is not None
            }
        )


def _url(request: Request, name: str, parameters: tuple[str, ...]) -> str | None:
    """The absolute URL of ``name``, its path parameters left as ``{parameter}``."""
    try:
        path = reverse(name, kwargs={p: f"{{{p}}}" for p in parameters})
    except NoReverseMatch:  # e.g. a host that mounts the API without one of its routes
        return None
    return request.build_absolute_uri(path).replace("%7B", "{").replace("%7D", "}")


#: ``api/``: the API root.
api_root = APIRootView.as_view()

"""The REST API's URLs, included by :mod:`django_wxlogistics.urls` under ``api/``.

``api/`` itself lists the endpoints. ``waybills/{waybill_id}/`` addresses a waybill by its ID
at WeChat; its events are nested.
"""

from __future__ import annotations

from django.urls import URLPattern, path

from .openapi import schema_view
from .root import api_root
from .views import TraceEventViewSet, WaybillViewSet

waybill_list = WaybillViewSet.as_view({"get": "list", "post": "create"})
waybill_detail = WaybillViewSet.as_view({"get": "retrieve", "put": "update", "patch": "partial_update"})
waybill_contact = WaybillViewSet.as_view({"get": "contact"})
event_list = TraceEventViewSet.as_view({"get": "list", "post": "create"})
event_detail = TraceEventViewSet.as_view({"get": "retrieve"})
event_retry = TraceEventViewSet.as_view({"post": "retry"})

urlpatterns: list[URLPattern] = [
    # The API root: every endpoint below, by URL name.
    path("", api_root, name="api-root"),
    path("waybills/", waybill_list, name="waybill-list"),
    path("waybills/<str:waybill_id>/", waybill_detail, name="waybill-detail"),
    path("waybills/<str:waybill_id>/contact/", waybill_contact, name="waybill-contact"),
    path("waybills/<str:waybill_id>/events/", event_list, name="waybill-event-list"),
    path("waybills/<str:waybill_id>/events/<str:event_id>/", event_detail, name="waybill-event-detail"),
    path("waybills/<str:waybill_id>/events/<str:event_id>/retry/", event_retry, name="waybill-event-retry"),
    # The OpenAPI schema; without drf-spectacular, a 404 that says what is missing.
    path("schema/", schema_view, name="api-schema"),
]

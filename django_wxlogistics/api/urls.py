"""The REST API's URLs, included by :mod:`django_wxlogistics.urls` under ``api/``.

``api/`` itself lists the endpoints. ``waybills/{waybill_id}/`` addresses a waybill by its ID
at WeChat; its events are nested. The merchant's ``payments/`` and ``shipping-info/`` are
addressed by their database id.
"""

from __future__ import annotations

from django.urls import URLPattern, path

from .openapi import schema_view
from .root import api_root
from .views import CarrierViewSet, PaymentViewSet, ShippingInfoViewSet, TraceEventViewSet, WaybillViewSet

waybill_list = WaybillViewSet.as_view({"get": "list", "post": "create"})
waybill_detail = WaybillViewSet.as_view({"get": "retrieve", "put": "update", "patch": "partial_update"})
waybill_contact = WaybillViewSet.as_view({"get": "contact"})
event_list = TraceEventViewSet.as_view({"get": "list", "post": "create"})
event_detail = TraceEventViewSet.as_view({"get": "retrieve"})
event_retry = TraceEventViewSet.as_view({"post": "retry"})
payment_list = PaymentViewSet.as_view({"get": "list"})
payment_detail = PaymentViewSet.as_view({"get": "retrieve"})
payment_wechat_order = PaymentViewSet.as_view({"get": "wechat_order"})
shipping_info_list = ShippingInfoViewSet.as_view({"get": "list"})
shipping_info_detail = ShippingInfoViewSet.as_view({"get": "retrieve"})
shipping_info_retry = ShippingInfoViewSet.as_view({"post": "retry"})
carrier_list = CarrierViewSet.as_view({"get": "list"})

urlpatterns: list[URLPattern] = [
    # The API root: every endpoint below, by URL name.
    path("", api_root, name="api-root"),
    path("waybills/", waybill_list, name="waybill-list"),
    path("waybills/<str:waybill_id>/", waybill_detail, name="waybill-detail"),
    path("waybills/<str:waybill_id>/contact/", waybill_contact, name="waybill-contact"),
    path("waybills/<str:waybill_id>/events/", event_list, name="waybill-event-list"),
    path("waybills/<str:waybill_id>/events/<str:event_id>/", event_detail, name="waybill-event-detail"),
    path("waybills/<str:waybill_id>/events/<str:event_id>/retry/", event_retry, name="waybill-event-retry"),
    path("payments/", payment_list, name="payment-list"),
    path("payments/<str:payment_id>/", payment_detail, name="payment-detail"),
    path("payments/<str:payment_id>/wechat-order/", payment_wechat_order, name="payment-wechat-order"),
    path("shipping-info/", shipping_info_list, name="shipping-info-list"),
    path("shipping-info/<str:shipping_info_id>/", shipping_info_detail, name="shipping-info-detail"),
    path("shipping-info/<str:shipping_info_id>/retry/", shipping_info_retry, name="shipping-info-retry"),
    path("carriers/", carrier_list, name="carrier-list"),
    # The OpenAPI schema; without drf-spectacular, a 404 that says what is missing.
    path("schema/", schema_view, name="api-schema"),
]

"""``api/``: the API root lists every endpoint, to whom the API lets in."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from tests.factories import WaybillFactory

ROOT_URL = "/wxlogistics/api/"
BASE = "http://testserver/wxlogistics/api/"


def test_the_root_lists_every_endpoint(client_for: Callable[..., APIClient]) -> None:
    response = client_for("view_waybill").get(ROOT_URL)
    assert (response.status_code, response["Content-Type"]) == (200, "application/json")
    assert response.json() == {
        "waybill-list": f"{BASE}waybills/",
        "waybill-detail": f"{BASE}waybills/{{waybill_id}}/",
        "waybill-contact": f"{BASE}waybills/{{waybill_id}}/contact/",
        "waybill-event-list": f"{BASE}waybills/{{waybill_id}}/events/",
        "waybill-event-detail": f"{BASE}waybills/{{waybill_id}}/events/{{event_id}}/",
        "waybill-event-retry": f"{BASE}waybills/{{waybill_id}}/events/{{event_id}}/retry/",
        "payment-list": f"{BASE}payments/",
        "payment-detail": f"{BASE}payments/{{payment_id}}/",
        "payment-wechat-order": f"{BASE}payments/{{payment_id}}/wechat-order/",
        "shipping-info-list": f"{BASE}shipping-info/",
        "shipping-info-detail": f"{BASE}shipping-info/{{shipping_info_id}}/",
        "shipping-info-retry": f"{BASE}shipping-info/{{shipping_info_id}}/retry/",
        "carrier-list": f"{BASE}carriers/",
        "api-schema": f"{BASE}schema/",
    }


def test_its_urls_lead_to_the_endpoints(client_for: Callable[..., APIClient]) -> None:
    WaybillFactory(waybill_id="SF-ROOT-1")
    client = client_for("view_waybill", "view_traceevent")
    listed = client.get(ROOT_URL).json()
    assert client.get(listed["waybill-list"]).json()["count"] == 1
    detail = listed["waybill-detail"].format(waybill_id="SF-ROOT-1")
    assert client.get(detail).json()["waybill_id"] == "SF-ROOT-1"
    assert client.get(listed["waybill-event-list"].format(waybill_id="SF-ROOT-1")).status_code == 200


@pytest.mark.django_db
def test_anonymous_users_are_refused_as_by_the_rest_of_the_api() -> None:
    root, listing = APIClient().get(ROOT_URL), APIClient().get(f"{ROOT_URL}waybills/")
    assert (root.status_code, root.json()) == (listing.status_code, listing.json())
    assert root.status_code in (401, 403)


def test_the_root_needs_what_listing_waybills_needs(client_for: Callable[..., APIClient]) -> None:
    assert client_for().get(ROOT_URL).status_code == 403
    assert client_for("view_traceevent").get(ROOT_URL).status_code == 403


def test_the_root_follows_api_permission_classes(client_for: Callable[..., APIClient]) -> None:
    from django.conf import settings

    wx: dict[str, Any] = {
        **settings.WXLOGISTICS,
        "API_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    }
    with override_settings(WXLOGISTICS=wx):
        assert client_for().get(ROOT_URL).status_code == 200


def test_the_root_is_not_in_the_schema(client_for: Callable[..., APIClient]) -> None:
    import yaml

    paths = yaml.safe_load(client_for("view_waybill").get(f"{ROOT_URL}schema/").content)["paths"]
    assert "/wxlogistics/api/" not in paths
    assert "/wxlogistics/api/waybills/" in paths

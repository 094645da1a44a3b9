"""Who may read ``api/schema/``: whom the API's permission classes let in, as for the rest of the API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import yaml
from django.test import override_settings
from rest_framework.test import APIClient

SCHEMA_URL = "/wxlogistics/api/schema/"
DENIED = {"detail": "Authentication credentials were not provided."}


def wxlogistics(**extra: Any) -> Any:
    from django.conf import settings

    return override_settings(WXLOGISTICS={**settings.WXLOGISTICS, **extra})


@pytest.mark.django_db
def test_anonymous_users_get_no_schema() -> None:
    for url in (SCHEMA_URL, SCHEMA_URL + "?format=json"):
        response = APIClient().get(url)
        assert (response.status_code, response["Content-Type"]) == (403, "application/json")
        assert response.json() == DENIED  # JSON like every refusal of the API, not an OpenAPI document


def test_the_schema_needs_what_listing_waybills_needs(client_for: Callable[..., APIClient]) -> None:
    assert client_for().get(SCHEMA_URL).status_code == 403
    assert client_for("view_traceevent").get(SCHEMA_URL).status_code == 403
    allowed = client_for("view_waybill").get(SCHEMA_URL)
    assert allowed.status_code == 200
    assert "/wxlogistics/api/waybills/{waybill_id}/contact/" in yaml.safe_load(allowed.content)["paths"]


def test_the_schema_follows_api_permission_classes(
    client_for: Callable[..., APIClient], make_user: Callable[..., Any]
) -> None:
    with wxlogistics(API_PERMISSION_CLASSES=["rest_framework.permissions.IsAdminUser"]):
        assert client_for("view_waybill").get(SCHEMA_URL).status_code == 403
        staff = APIClient()
        staff.force_login(make_user(is_staff=True))
        assert staff.get(SCHEMA_URL).status_code == 200
    with wxlogistics(API_PERMISSION_CLASSES=["rest_framework.permissions.AllowAny"]):
        assert APIClient().get(SCHEMA_URL).status_code == 200  # a shop that wants it public says so


def test_basic_authentication_reaches_the_schema_as_it_reaches_the_api(make_user: Callable[..., Any]) -> None:
    make_user("view_waybill", username="reader")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Basic cmVhZGVyOnB3")  # reader:pw
    assert client.get(SCHEMA_URL).status_code == 200
    assert client.get("/wxlogistics/api/waybills/").status_code == 200

"""Who may use the API: model permissions (reads included) by default, or the shop's classes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from django_wxlogistics.checks.api import check_api_settings
from tests.factories import WaybillFactory

WAYBILLS = "/wxlogistics/api/waybills/"


@pytest.mark.parametrize(
    "url",
    [WAYBILLS, f"{WAYBILLS}SF1/", f"{WAYBILLS}SF1/events/", f"{WAYBILLS}SF1/contact/"],
)
def test_anonymous_is_refused(db: None, url: str) -> None:
    WaybillFactory(waybill_id="SF1")
    response = APIClient().get(url)
    # SessionAuthentication comes first in the test settings: 403 (BasicAuthentication first: 401).
    assert response.status_code == 403
    assert response.json() == {"detail": "Authentication credentials were not provided."}


def test_basic_auth_works(db: None, make_user: Callable[..., Any]) -> None:
    make_user("view_waybill", username="robot")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Basic cm9ib3Q6cHc=")  # robot:pw
    assert client.get(WAYBILLS).status_code == 200


def test_reading_needs_the_view_permission(client_for: Callable[..., APIClient]) -> None:
    WaybillFactory(waybill_id="SF1")
    nobody = client_for()
    for url in (WAYBILLS, f"{WAYBILLS}SF1/", f"{WAYBILLS}SF1/contact/"):
        assert nobody.get(url).status_code == 403, url
    assert nobody.get(f"{WAYBILLS}SF1/events/").status_code == 403
    assert client_for("view_waybill").get(WAYBILLS).status_code == 200
    assert client_for("view_waybill").get(f"{WAYBILLS}SF1/events/").status_code == 403
    assert client_for("view_traceevent").get(f"{WAYBILLS}SF1/events/").status_code == 200


def test_writing_needs_add_or_change(client_for: Callable[..., APIClient]) -> None:
    WaybillFactory(waybill_id="SF1")
    reader = client_for("view_waybill")
    assert reader.post(WAYBILLS, {"waybill_id": "SF2", "order_id": "1"}, format="json").status_code == 403
    assert reader.patch(f"{WAYBILLS}SF1/", {"token": "t"}, format="json").status_code == 403
    adder = client_for("add_waybill")
    assert adder.post(WAYBILLS, {"waybill_id": "SF2", "order_id": "1"}, format="json").status_code == 201
    changer = client_for("change_waybill")
    assert changer.patch(f"{WAYBILLS}SF1/", {"token": "t"}, format="json").status_code == 200


def test_permission_classes_from_settings(client_for: Callable[..., APIClient]) -> None:
    nobody = client_for()
    with override_settings(
        WXLOGISTICS={"API_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"]}
    ):
        assert nobody.get(WAYBILLS).status_code == 200
    with override_settings(
        WXLOGISTICS={"API_PERMISSION_CLASSES": ["rest_framework.permissions.IsAdminUser"]}
    ):
        assert nobody.get(WAYBILLS).status_code == 403


def ids(value: Any) -> list[str]:
    with override_settings(WXLOGISTICS={"API_PERMISSION_CLASSES": value}):
        return [m.id or "" for m in check_api_settings()]


def test_checks_accept_good_values() -> None:
    assert ids(None) == []
    assert (
        ids(["rest_framework.permissions.IsAdminUser", "django_wxlogistics.api.permissions.ModelPermissions"])
        == []
    )


def test_e040_not_a_list() -> None:
    with override_settings(WXLOGISTICS={"API_PERMISSION_CLASSES": "rest_framework.permissions.IsAdminUser"}):
        [message] = check_api_settings()
    assert message.id == "wxlogistics.E040"
    assert "must be a list" in message.msg and "dotted paths" in (message.hint or "")


def test_e041_cannot_be_imported() -> None:
    with override_settings(WXLOGISTICS={"API_PERMISSION_CLASSES": ["rest_framework.permissions.IsAdmn"]}):
        [message] = check_api_settings()
    assert message.id == "wxlogistics.E041"
    assert "'rest_framework.permissions.IsAdmn'" in message.msg


def test_e042_not_a_permission_class() -> None:
    assert ids(["django_wxlogistics.models.Waybill"]) == ["wxlogistics.E042"]


def test_w040_empty_list_opens_the_api() -> None:
    assert ids([]) == ["wxlogistics.W040"]


def test_the_checks_run_with_manage_py_check() -> None:
    from django.core import checks

    with override_settings(WXLOGISTICS={"API_PERMISSION_CLASSES": []}):
        found = [m.id for m in checks.run_checks()]
    assert "wxlogistics.W040" in found


def test_basic_authentication_first_answers_401_with_a_challenge(db: None) -> None:
    from rest_framework.authentication import BasicAuthentication
    from rest_framework.test import APIRequestFactory

    from django_wxlogistics.api.views import WaybillViewSet

    view = WaybillViewSet.as_view({"get": "list"}, authentication_classes=[BasicAuthentication])
    response = view(APIRequestFactory().get(WAYBILLS))
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Basic")

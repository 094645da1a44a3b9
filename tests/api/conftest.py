"""Fixtures of the API tests: a DRF client and users holding exactly the permissions named."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient, APIRequestFactory, force_authenticate

# The merchant's side: the sandbox with fast retries, a payment it knows, the shop's paid order.
from tests.shipping.conftest import order, payment, sandbox  # noqa: F401


@pytest.fixture
def make_user(db: None, django_user_model: Any) -> Callable[..., Any]:
    """``make_user("view_waybill", "view_contact")``: an active staff user with those permissions."""
    counter = iter(range(1_000_000))

    def make(*codenames: str, **fields: Any) -> Any:
        user = django_user_model.objects.create_user(
            username=fields.pop("username", f"clerk{next(counter)}"), password="pw", **fields
        )
        perms = Permission.objects.filter(
            content_type__app_label="django_wxlogistics", codename__in=codenames
        )
        assert perms.count() == len(codenames), f"unknown permission among {codenames}"
        user.user_permissions.set(perms)
        return user

    return make


@pytest.fixture
def client_for(make_user: Callable[..., Any]) -> Callable[..., APIClient]:
    """``client_for("view_waybill")``: an APIClient logged in as a user with those permissions."""

    def make(*codenames: str) -> APIClient:
        client = APIClient()
        client.force_login(make_user(*codenames))
        return client

    return make


@pytest.fixture
def admin_client_api(db: None, django_user_model: Any) -> APIClient:
    client = APIClient()
    client.force_login(django_user_model.objects.create_superuser("root", "root@example.com", "pw"))
    return client


class ThrottleClock:
    """A throttle's clock (DRF's ``SimpleRateThrottle.timer``), moved by hand."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def stop_throttle_clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[type], ThrottleClock]:
    """``stop_throttle_clock(ContactRateThrottle)``: that throttle's clock, for the test to move."""

    def stop(throttle: type) -> ThrottleClock:
        clock = ThrottleClock()
        monkeypatch.setattr(throttle, "timer", clock)
        return clock

    return stop


def assert_no_token(response: Any, *secrets: str) -> None:
    """The waybill token (and any other secret named) is nowhere in the response."""
    body = response.content.decode()
    assert '"token"' not in body
    for secret in secrets:
        assert secret not in body


def schema_as_superuser(path: str = "/wxlogistics/api/schema/", **headers: Any) -> Any:
    """What ``api/schema/`` answers a superuser, without a database (the user is never saved)."""
    from django.contrib.auth import get_user_model

    from django_wxlogistics.api.openapi import schema_view

    request = APIRequestFactory().get(path, HTTP_HOST="localhost", **headers)
    force_authenticate(request, user=get_user_model()(username="docs", is_superuser=True, is_active=True))
    return schema_view(request).render()

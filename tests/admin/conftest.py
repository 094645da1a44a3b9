"""Staff users of the admin tests: each holds exactly the permissions its name says."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client


def _staff(username: str, *codenames: str) -> User:
    user = User.objects.create_user(username, password="pw", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="django_wxlogistics", codename__in=codenames)
    )
    return user


@pytest.fixture
def make_client(db) -> Callable[..., Client]:
    """``make_client("clerk", "view_waybill")``: a logged-in client of a new staff user."""

    def make(username: str, *codenames: str) -> Client:
        client = Client()
        client.force_login(_staff(username, *codenames))
        return client

    return make


@pytest.fixture
def clerk_client(make_client) -> Client:
    """Staff who may see and change waybills and add, retry and push their events, but see
    contacts only masked."""
    return make_client(
        "clerk", "view_waybill", "change_waybill", "view_traceevent", "add_traceevent", "change_traceevent"
    )


@pytest.fixture
def supervisor_client(make_client) -> Client:
    """Staff who may also reveal contacts."""
    return make_client(
        "supervisor",
        "view_waybill",
        "change_waybill",
        "view_traceevent",
        "add_traceevent",
        "change_traceevent",
        "view_contact",
        "view_contactaccess",
    )

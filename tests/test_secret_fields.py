"""Secret fields are no guessing oracle: no query parameter of the admin or the API selects,
orders or counts by one, and a right guess gets the same answer as a wrong one."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import django_filters
import pytest
from django.contrib import admin
from django.contrib.admin.sites import all_sites
from django.contrib.auth.models import Permission, User
from django.core.checks import Error
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from django_wxlogistics.admin import WaybillAdmin
from django_wxlogistics.admin.base import GuardedModelAdmin
from django_wxlogistics.api.filters import WaybillFilter
from django_wxlogistics.api.views import WaybillViewSet
from django_wxlogistics.checks.secrets import check_secret_fields
from django_wxlogistics.models import AccessToken, ContactAccess, TraceEvent, Waybill
from django_wxlogistics.secret_fields import secret_fields, secret_in_lookup, secret_values
from tests.factories import TraceEventFactory, WaybillFactory

pytestmark = pytest.mark.django_db

TOKEN = "WAYBILL-TOKEN-7f3a9c"
ACCESS_TOKEN = "ACCESS-TOKEN-19b2e4d"

#: Lookups that would answer "is the secret like this?": (lookup, right guess, wrong guess).
GUESSES = [
    ("token__startswith", "WAYBILL-T", "XAYBILL-T"),
    ("token", TOKEN, TOKEN + "x"),
    ("token__gt", "WAYBILL-S", "WAYBILL-U"),
    ("token__regex", "^WAY", "^XAY"),
    ("token__in", TOKEN, "nope"),
    ("token__isnull", "False", "True"),
]


def staff(*codenames: str) -> Client:
    user = User.objects.create_user(f"staff{User.objects.count()}", password="pw", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="django_wxlogistics", codename__in=codenames)
    )
    client = Client()
    client.force_login(user)
    return client


def api(*codenames: str) -> APIClient:
    user = User.objects.create_user(f"api{User.objects.count()}", password="pw")
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="django_wxlogistics", codename__in=codenames)
    )
    client = APIClient()
    client.force_login(user)
    return client


def assert_same_answer(right: Any, wrong: Any, status: int) -> None:
    assert (right.status_code, wrong.status_code) == (status, status)
    assert right.content == wrong.content


# --- the registry ----------------------------------------------------------------------------


def test_the_secret_fields_are_declared_on_the_models() -> None:
    assert secret_fields(Waybill) == {"token"}
    assert secret_fields(AccessToken) == {"token"}
    assert secret_fields(TraceEvent) == secret_fields(ContactAccess) == set()


def test_secret_values_are_read_from_the_declared_fields() -> None:
    waybill = WaybillFactory(token=TOKEN)
    event = TraceEventFactory(waybill=waybill)
    assert secret_values(event, waybill, None) == [TOKEN]
    assert secret_values(WaybillFactory(token="")) == []


@pytest.mark.parametrize(
    ("model", "lookup", "reached"),
    [
        (Waybill, "token", "Waybill.token"),
        (Waybill, "-token", "Waybill.token"),
        (Waybill, "token__startswith", "Waybill.token"),
        (Waybill, "token__lower__startswith", "Waybill.token"),
        (TraceEvent, "waybill__token__startswith", "Waybill.token"),
        (TraceEvent, "waybill_id__token", "Waybill.token"),
        (ContactAccess, "waybill__events__waybill__token", "Waybill.token"),
        (Waybill, "events__waybill__token__regex", "Waybill.token"),
        (AccessToken, "token__gte", "AccessToken.token"),
        (Waybill, "waybill_id__startswith", None),
        (Waybill, "has_failed", None),
        (TraceEvent, "waybill__waybill_id", None),
        (TraceEvent, "pk", None),
        (Waybill, "", None),
    ],
)
def test_a_lookup_reaching_a_secret_is_recognised(model: Any, lookup: str, reached: str | None) -> None:
    field = secret_in_lookup(model, lookup)
    assert (f"{field.model.__name__}.{field.name}" if field else None) == reached


# --- the admin ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("lookup", "right", "wrong"), GUESSES)
def test_waybill_changelist_answers_a_right_and_a_wrong_guess_alike(
    lookup: str, right: str, wrong: str
) -> None:
    waybill = WaybillFactory(token=TOKEN)
    client = staff("view_waybill")
    url = reverse("admin:django_wxlogistics_waybill_changelist")
    answers = [client.get(url, {"waybill_id": waybill.waybill_id, lookup: guess}) for guess in (right, wrong)]
    # Refused the way Django refuses any lookup it does not allow: 400, whatever the guess.
    assert_same_answer(*answers, status=400)


def test_access_token_changelist_answers_a_right_and_a_wrong_guess_alike() -> None:
    row = AccessToken.objects.create(
        appid="wxguess", token=ACCESS_TOKEN, expires_at=timezone.now() + timedelta(hours=2)
    )
    client = staff("view_accesstoken")
    url = reverse("admin:django_wxlogistics_accesstoken_changelist")
    assert row.appid in client.get(url).content.decode()
    answers = [
        client.get(url, {"appid": row.appid, "token__startswith": guess})
        for guess in ("ACCESS-T", "XCCESS-T")
    ]
    assert_same_answer(*answers, status=400)


@pytest.mark.parametrize(
    ("changelist", "lookup", "codename"),
    [
        ("traceevent", "waybill__token__startswith", "view_traceevent"),
        ("contactaccess", "waybill__token__startswith", "view_contactaccess"),
        ("waybill", "events__waybill__token__startswith", "view_waybill"),
    ],
)
def test_lookups_through_a_relation_into_a_secret_are_refused(
    changelist: str, lookup: str, codename: str
) -> None:
    waybill = WaybillFactory(token=TOKEN)
    TraceEventFactory(waybill=waybill)
    client = staff(codename)
    url = reverse(f"admin:django_wxlogistics_{changelist}_changelist")
    answers = [client.get(url, {lookup: guess}) for guess in ("WAYBILL-T", "XAYBILL-T")]
    assert_same_answer(*answers, status=400)


def test_a_popup_cannot_list_waybills_by_their_token() -> None:
    WaybillFactory(token=TOKEN)
    client = staff("view_waybill")
    url = reverse("admin:django_wxlogistics_waybill_changelist")
    response = client.get(url, {"_to_field": "token", "_popup": "1"})
    assert response.status_code == 400
    assert TOKEN not in response.content.decode()


def test_every_admin_of_the_package_refuses_secret_lookups(rf: Any, admin_user: Any) -> None:
    """Whatever admin a model of the package has, a query string cannot reach a secret."""
    request = rf.get("/")
    request.user = admin_user
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label != "django_wxlogistics":
            continue
        assert isinstance(model_admin, GuardedModelAdmin), model
        for lookup in ("token__startswith", "waybill__token", "events__waybill__token"):
            if secret_in_lookup(model, lookup):
                assert not model_admin.lookup_allowed(lookup, "x", request), (model, lookup)
        assert not any(model_admin.to_field_allowed(request, name) for name in secret_fields(model))


def test_ordinary_lookups_still_work() -> None:
    waybill = WaybillFactory(token=TOKEN)
    WaybillFactory()
    client = staff("view_waybill")
    url = reverse("admin:django_wxlogistics_waybill_changelist")
    page = client.get(url, {"waybill_id": waybill.waybill_id}).content.decode()
    assert "1 waybill" in page
    assert client.get(url, {"order_id__startswith": waybill.order_id}).status_code == 200


# --- the API -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("lookup", "right", "wrong"), GUESSES)
def test_waybill_list_refuses_a_secret_filter_naming_it(lookup: str, right: str, wrong: str) -> None:
    waybill = WaybillFactory(token=TOKEN)
    client = api("view_waybill")
    url = reverse("wxlogistics:waybill-list")
    answers = [client.get(url, {"order_id": waybill.order_id, lookup: guess}) for guess in (right, wrong)]
    assert_same_answer(*answers, status=400)
    assert lookup in answers[0].json()


@pytest.mark.parametrize("ordering", ["token", "-token", "waybill_id,-token", " token"])
def test_waybill_list_refuses_ordering_by_a_secret(ordering: str) -> None:
    WaybillFactory(token="AAAAAA-token")
    WaybillFactory(token="ZZZZZZ-token")
    response = api("view_waybill").get(reverse("wxlogistics:waybill-list"), {"ordering": ordering})
    assert response.status_code == 400
    assert "ordering" in response.json()


def test_event_list_refuses_a_lookup_through_the_waybill_into_its_token() -> None:
    waybill = WaybillFactory(token=TOKEN)
    TraceEventFactory(waybill=waybill)
    client = api("view_traceevent")
    url = reverse("wxlogistics:waybill-event-list", args=[waybill.waybill_id])
    answers = [client.get(url, {"waybill__token__startswith": guess}) for guess in ("WAYBILL-T", "XAYBILL-T")]
    assert_same_answer(*answers, status=400)
    assert "waybill__token__startswith" in answers[0].json()
    ordered = client.get(url, {"ordering": "waybill__token"})
    assert ordered.status_code == 400 and "ordering" in ordered.json()


# --- the configuration check -------------------------------------------------------------------


def test_the_check_names_an_admin_or_view_that_searches_filters_or_orders_on_a_secret() -> None:
    site = admin.AdminSite(name="probe")

    class Leaky(WaybillAdmin):
        search_fields = ["waybill_id", "token"]
        list_filter = ["token"]

    class Unguarded(admin.ModelAdmin):
        ordering = ["-token"]

    site.register(Waybill, Leaky)
    site.register(AccessToken, Unguarded)
    try:
        errors = [e for e in check_secret_fields(sites=[site]) if isinstance(e, Error)]
    finally:
        all_sites.discard(site)  # every AdminSite joins it; the next test checks the real ones
    text = "\n".join(f"{e.id} {e.msg} {e.hint}" for e in errors)
    assert {e.id for e in errors} == {"wxlogistics.E050"}
    assert "search_fields" in text and "list_filter" in text and "ordering" in text
    assert "AccessToken" in text and "GuardedModelAdmin" in text


def test_the_check_names_an_api_view_that_filters_or_orders_on_a_secret() -> None:
    class LeakyFilter(WaybillFilter):
        token = django_filters.CharFilter(lookup_expr="startswith")

    class LeakyView(WaybillViewSet):
        ordering_fields = ["created_at", "token"]
        filterset_class = LeakyFilter

    errors = check_secret_fields(sites=[], views=[LeakyView])
    assert {e.id for e in errors} == {"wxlogistics.E050"}
    assert len(errors) == 2
    assert "ordering_fields" in errors[0].msg and "LeakyFilter.token" in errors[1].msg


def test_the_package_passes_its_own_check() -> None:
    assert check_secret_fields() == []

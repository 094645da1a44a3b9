"""Bad query input to the admin is answered as such, never with a 500: NUL in filter values,
search terms and object URLs, years no date holds, forged selections, times WeChat refuses.

The NUL cases need PostgreSQL; the tests run on it whenever 127.0.0.1:5432 answers.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import timezone

from django_wxlogistics.enums import AccessChannel, ActionType, EventState
from django_wxlogistics.models import AccessToken, ContactAccess, TraceEvent, Waybill
from tests.factories import TraceEventFactory, WaybillFactory

pytestmark = pytest.mark.django_db

ADMIN = "/admin/django_wxlogistics/"


@pytest.fixture
def rows(db: None) -> Waybill:
    waybill = WaybillFactory(waybill_id="SF1", order_id="SO1")
    TraceEventFactory(waybill=waybill, state=EventState.FAILED)
    ContactAccess.objects.create(waybill=waybill, username="root", channel=AccessChannel.ADMIN)
    AccessToken.objects.create(appid="wx1", token="tok", expires_at=timezone.now() + timedelta(hours=1))
    return waybill


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("waybill/?waybill_id=SF1%00", 0),
        ("waybill/?waybill_id__in=SF1,SF1%00", 1),
        ("waybill/?order_id__icontains=%00", 0),
        ("waybill/?order_id__startswith=SO%00", 0),
        ("waybill/?created_at__year=99999999999", 0),
        ("waybill/?created_at__year__lt=99999999999", 1),
        ("traceevent/?state=%00", 0),
        ("traceevent/?state__exact=failed%00", 0),
        ("traceevent/?action_msg=%00", 0),
        ("contactaccess/?username=root%00", 0),
        ("contactaccess/?channel__exact=%00", 0),
        ("accesstoken/?appid=wx1%00", 0),
        ("waybill/?q=SF1%00", 1),  # Django's search form refuses the term and lists everything
    ],
)
def test_a_nul_or_an_impossible_year_in_a_filter_finds_nothing(
    admin_client: Client, rows: Waybill, query: str, found: int
) -> None:
    response = admin_client.get(ADMIN + query)
    assert response.status_code == 200
    assert response.context["cl"].result_count == found


@pytest.mark.parametrize(
    "query",
    [
        "traceevent/?action_time__year=99999999999",
        "traceevent/?action_time__year=2026&action_time__month=1&action_time__day=99999999999",
        "contactaccess/?accessed_at__year=99999999999",
        "waybill/?order_id__gt=%00",
        "waybill/?order_id__regex=%00",
    ],
)
def test_a_filter_no_query_can_answer_gets_the_admins_bad_filter_answer(
    admin_client: Client, rows: Waybill, query: str
) -> None:
    response = admin_client.get(ADMIN + query)
    assert response.status_code == 302
    assert response["Location"].endswith("?e=1")


def test_a_nul_in_an_autocomplete_term_finds_nothing(admin_client: Client, rows: Waybill) -> None:
    for model in ("traceevent", "contactaccess"):
        response = admin_client.get(
            "/admin/autocomplete/",
            {
                "app_label": "django_wxlogistics",
                "model_name": model,
                "field_name": "waybill",
                "term": "SF\x00",
            },
        )
        assert response.status_code == 200
        assert response.json()["results"] == []


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("get", "waybill/%00/change/", 302),  # Django: "doesn't exist. Perhaps it was deleted?"
        ("get", "waybill/%00/contact/", 404),
        ("post", "waybill/%00/contact/", 404),
        ("post", "waybill/%00/events/1/retry/", 404),
        ("get", "traceevent/99999999999999999999/change/", 302),
    ],
)
def test_a_nul_or_an_impossible_id_in_an_object_url_is_not_found(
    admin_client: Client, rows: Waybill, method: str, path: str, status: int
) -> None:
    assert getattr(admin_client, method)(ADMIN + path).status_code == status


@pytest.mark.parametrize("selected", ["1\x00", "SF1", "1.5"])
def test_a_forged_selection_is_refused_with_a_message(
    admin_client: Client, rows: Waybill, selected: str
) -> None:
    data = {"action": "retry_failed_events", ACTION_CHECKBOX_NAME: [selected]}
    response = admin_client.post(ADMIN + "waybill/", data)
    assert response.status_code == 302
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "The selection is not valid; no items have been changed."
    ]
    assert TraceEvent.objects.get().state == EventState.FAILED


@pytest.mark.parametrize(("day", "time"), [("0001-01-01", "00:00:00"), ("1970-01-01", "07:59:59")])
def test_the_add_event_form_refuses_a_time_wechat_refuses(
    admin_client: Client, rows: Waybill, day: str, time: str
) -> None:
    data = {
        "action": "add_trace_event",
        ACTION_CHECKBOX_NAME: [rows.pk],
        "apply": "1",
        "action_type": ActionType.SIGNED,
        "action_msg": "已签收",
        "action_time_0": day,
        "action_time_1": time,  # in Asia/Shanghai: before 1970-01-01 00:00:01 UTC
    }
    response = admin_client.post(ADMIN + "waybill/", data)
    assert response.status_code == 200
    assert "the times WeChat accepts" in response.context["form"].errors["action_time"][0]
    assert TraceEvent.objects.count() == 1


def test_the_waybill_form_keeps_the_apis_rules(admin_client: Client) -> None:
    response = admin_client.post(ADMIN + "waybill/add/", {"waybill_id": "SF 1/2", "order_id": "SO1"})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "waybill_id": ["Use only letters, digits, '_', '.' and '-', starting with a letter or digit."]
    }
    assert not Waybill.objects.exists()

"""An answer to a write shows only what the user may read: the whole object to readers, its ids
and state to users who may only write (create, update, retry)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from django_wxlogistics.enums import EventState
from django_wxlogistics.models import TraceEvent, Waybill
from tests.factories import TraceEventFactory, WaybillFactory

WAYBILLS = "/wxlogistics/api/waybills/"
SECRET_MESSAGE = "快递员 邓丽君 [18666666666] 正在派送"
SECRET_ERROR = "invalid action_msg rid: 1234-abcd"


@pytest.fixture
def failed_event(db: None) -> TraceEvent:
    waybill = WaybillFactory(waybill_id="SF1", order_id="SO-PRIVATE-42")
    return TraceEventFactory(
        waybill=waybill,
        action_msg=SECRET_MESSAGE,
        state=EventState.FAILED,
        attempts=10,
        last_errcode=47001,
        last_errmsg=SECRET_ERROR,
    )


def retry_url(event: TraceEvent) -> str:
    return f"{WAYBILLS}{event.waybill.waybill_id}/events/{event.pk}/retry/"


def test_retry_without_view_traceevent_answers_id_and_state(
    client_for: Callable[..., APIClient], failed_event: TraceEvent
) -> None:
    response = client_for("change_traceevent").post(retry_url(failed_event))
    assert response.status_code == 200
    assert response.json() == {"id": failed_event.pk, "state": "pending"}
    body = response.content.decode()
    assert "邓丽君" not in body and "rid: 1234" not in body and "47001" not in body
    failed_event.refresh_from_db()
    assert failed_event.state == EventState.PENDING  # retried all the same


def test_retry_with_view_traceevent_answers_the_whole_event(
    client_for: Callable[..., APIClient], failed_event: TraceEvent
) -> None:
    response = client_for("change_traceevent", "view_traceevent").post(retry_url(failed_event))
    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["state"], body["attempts"], body["action_msg"]) == (
        failed_event.pk,
        "pending",
        0,
        SECRET_MESSAGE,
    )


def test_adding_an_event_without_view_traceevent_answers_id_and_state(
    client_for: Callable[..., APIClient], failed_event: TraceEvent
) -> None:
    url = f"{WAYBILLS}SF1/events/"
    response = client_for("add_traceevent").post(
        url, {"action_type": 300003, "action_msg": "已签收"}, format="json"
    )
    assert response.status_code == 201
    event = TraceEvent.objects.latest("pk")
    assert response.json() == {"id": event.pk, "state": "pending"}

    reader = client_for("add_traceevent", "view_traceevent")
    whole = reader.post(url, {"action_type": 300003, "action_msg": "已签收"}, format="json").json()
    assert whole["action_msg"] == "已签收" and "attempts" in whole


def test_creating_a_waybill_without_view_waybill_answers_its_id(
    client_for: Callable[..., APIClient], db: None
) -> None:
    payload = {"waybill_id": "SF2", "order_id": "SO-2", "token": "t-secret"}
    response = client_for("add_waybill").post(WAYBILLS, payload, format="json")
    assert response.status_code == 201
    assert response.json() == {"waybill_id": "SF2"}
    assert Waybill.objects.get(waybill_id="SF2").token == "t-secret"

    whole = client_for("add_waybill", "view_waybill").post(
        WAYBILLS, {**payload, "waybill_id": "SF3"}, format="json"
    )
    assert (whole.json()["order_id"], whole.json()["has_token"]) == ("SO-2", True)


def test_changing_a_waybill_without_view_waybill_shows_nothing_else_of_it(
    client_for: Callable[..., APIClient], failed_event: TraceEvent
) -> None:
    changer = client_for("change_waybill")
    response = changer.patch(f"{WAYBILLS}SF1/", {"token": "new-secret"}, format="json")
    assert response.status_code == 200
    assert response.json() == {"waybill_id": "SF1"}  # not its order, its token state, its trace
    assert Waybill.objects.get(waybill_id="SF1").token == "new-secret"

    put = changer.put(f"{WAYBILLS}SF1/", {"waybill_id": "SF1", "order_id": "SO-NEW"}, format="json")
    assert (put.status_code, put.json()) == (200, {"waybill_id": "SF1"})

    whole = client_for("change_waybill", "view_waybill").patch(f"{WAYBILLS}SF1/", {}, format="json")
    assert (whole.json()["order_id"], whole.json()["delivery"]["failed"]) == ("SO-NEW", 1)


def test_the_browsable_api_fills_no_form_with_what_the_user_may_not_read(
    client_for: Callable[..., APIClient], failed_event: TraceEvent
) -> None:
    response = client_for("change_waybill").patch(
        f"{WAYBILLS}SF1/", {"token": "new-secret"}, format="json", HTTP_ACCEPT="text/html"
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "SF1" in html
    assert "SO-PRIVATE-42" not in html and "new-secret" not in html


def test_the_shops_own_permission_classes_decide_who_reads(
    django_user_model: Any, failed_event: TraceEvent
) -> None:
    # Staff hold no model permission here: IsAdminUser lets them read, so they get the whole event.
    staff = django_user_model.objects.create_user("staff", password="pw", is_staff=True)
    client = APIClient()
    client.force_login(staff)
    from django.conf import settings

    with override_settings(
        WXLOGISTICS={
            **settings.WXLOGISTICS,
            "API_PERMISSION_CLASSES": ["rest_framework.permissions.IsAdminUser"],
        }
    ):
        body = client.post(retry_url(failed_event)).json()
    assert body["action_msg"] == SECRET_MESSAGE

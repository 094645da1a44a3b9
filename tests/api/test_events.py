"""A waybill's trace events: list, add (validated as record_trace_event validates), retry."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from django_wxlogistics.enums import ACTION_MSG_MAX_LENGTH, ActionType, EventState
from django_wxlogistics.models import TraceEvent
from tests.factories import TraceEventFactory, WaybillFactory

EVENT_PERMS = ("view_traceevent", "add_traceevent", "change_traceevent")


def events_url(waybill_id: str) -> str:
    return f"/wxlogistics/api/waybills/{waybill_id}/events/"


@pytest.fixture
def clerk(client_for: Callable[..., APIClient]) -> APIClient:
    return client_for(*EVENT_PERMS)


def test_list_is_the_trace_oldest_first(clerk: APIClient) -> None:
    waybill = WaybillFactory(waybill_id="SF1")
    now = timezone.now()
    TraceEventFactory(waybill=waybill, action_type=ActionType.IN_TRANSIT, action_time=now)
    TraceEventFactory(
        waybill=waybill,
        action_type=ActionType.PICKED_UP,
        action_time=now - timedelta(hours=2),
        state=EventState.FAILED,
        last_errcode=9300507,
        last_errmsg="invalid token",
    )
    TraceEventFactory(waybill=WaybillFactory())  # another waybill's event
    response = clerk.get(events_url("SF1"))
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [row["action_type"] for row in rows] == [100001, 200001]
    assert rows[0]["action_type_label"] == "Picked up"
    assert (rows[0]["state"], rows[0]["last_errcode"], rows[0]["last_errmsg"]) == (
        "failed",
        9300507,
        "invalid token",
    )


def test_list_filters_by_state(clerk: APIClient) -> None:
    waybill = WaybillFactory(waybill_id="SF1")
    TraceEventFactory(waybill=waybill, state=EventState.FAILED)
    TraceEventFactory(waybill=waybill)
    rows = clerk.get(events_url("SF1") + "?state=failed").json()["results"]
    assert [row["state"] for row in rows] == ["failed"]


def test_list_of_an_unknown_waybill_is_404(clerk: APIClient) -> None:
    assert clerk.get(events_url("NOPE")).status_code == 404


@pytest.mark.parametrize("rows", [1, 25])
def test_list_runs_a_constant_number_of_queries(
    clerk: APIClient, django_assert_num_queries: Any, rows: int
) -> None:
    waybill = WaybillFactory(waybill_id="SF1")
    TraceEventFactory.create_batch(rows, waybill=waybill)
    # session, user, user permissions, group permissions, waybill, count, page
    with django_assert_num_queries(7):
        response = clerk.get(events_url("SF1"))
    assert response.json()["count"] == rows


def test_create_answers_201_with_the_pending_event_and_nudges_a_worker_on_commit(
    clerk: APIClient, django_capture_on_commit_callbacks: Any
) -> None:
    waybill = WaybillFactory(waybill_id="SF1")
    with django_capture_on_commit_callbacks() as callbacks:
        response = clerk.post(
            events_url("SF1"),
            {"action_type": 300002, "action_msg": "  快递员 邓丽君 [18666666666] 正在派送  "},
            format="json",
        )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["state"] == "pending" and body["attempts"] == 0 and body["sent_at"] is None
    assert body["action_msg"] == "快递员 邓丽君 [18666666666] 正在派送"  # trimmed, as record_trace_event does
    event = TraceEvent.objects.get(pk=body["id"])
    assert event.waybill == waybill and event.action_type == ActionType.OUT_FOR_DELIVERY
    assert len(callbacks) == 1  # the nudge, registered by record_trace_event


def test_create_with_an_action_time(clerk: APIClient) -> None:
    WaybillFactory(waybill_id="SF1")
    response = clerk.post(
        events_url("SF1"),
        {"action_type": 100001, "action_msg": "已揽收", "action_time": "2026-01-02T03:04:05+08:00"},
        format="json",
    )
    assert response.status_code == 201, response.content
    event = TraceEvent.objects.get(pk=response.json()["id"])
    assert event.action_time.timestamp() == 1767294245


@pytest.mark.parametrize(
    ("payload", "field", "words"),
    [
        ({"action_type": 123, "action_msg": "x"}, "action_type", "not an action type WeChat knows"),
        ({"action_type": "picked", "action_msg": "x"}, "action_type", "valid integer"),
        ({"action_msg": "x"}, "action_type", "required"),
        ({"action_type": 100001, "action_msg": ""}, "action_msg", "must not be empty"),
        ({"action_type": 100001, "action_msg": "   "}, "action_msg", "must not be empty"),
        ({"action_type": 100001}, "action_msg", "required"),
        (
            {"action_type": 100001, "action_msg": "x" * (ACTION_MSG_MAX_LENGTH + 1)},
            "action_msg",
            f"the most is {ACTION_MSG_MAX_LENGTH}",
        ),
        (
            {"action_type": 100001, "action_msg": "x", "action_time": "2999-01-01T00:00:00Z"},
            "action_time",
            "more than an hour in the future",
        ),
        ({"action_type": 100001, "action_msg": "x", "action_time": "yesterday"}, "action_time", "format"),
    ],
)
def test_create_validation_errors_name_the_field(
    clerk: APIClient, payload: dict[str, Any], field: str, words: str
) -> None:
    WaybillFactory(waybill_id="SF1")
    response = clerk.post(events_url("SF1"), payload, format="json")
    assert response.status_code == 400
    assert words in " ".join(response.json()[field])
    assert not TraceEvent.objects.exists()


def test_create_on_an_unknown_waybill_is_404(clerk: APIClient) -> None:
    response = clerk.post(events_url("NOPE"), {"action_type": 100001, "action_msg": "x"}, format="json")
    assert response.status_code == 404


def test_retrieve_one_event_only_under_its_own_waybill(clerk: APIClient) -> None:
    event = TraceEventFactory(waybill=WaybillFactory(waybill_id="SF1"))
    WaybillFactory(waybill_id="SF2")
    assert clerk.get(f"{events_url('SF1')}{event.pk}/").json()["id"] == event.pk
    assert clerk.get(f"{events_url('SF2')}{event.pk}/").status_code == 404


def test_retry_gives_a_failed_event_fresh_attempts(
    clerk: APIClient, django_capture_on_commit_callbacks: Any
) -> None:
    event = TraceEventFactory(
        waybill=WaybillFactory(waybill_id="SF1"), state=EventState.FAILED, attempts=10, last_errcode=-1
    )
    with django_capture_on_commit_callbacks() as callbacks:
        response = clerk.post(f"{events_url('SF1')}{event.pk}/retry/")
    assert response.status_code == 200, response.content
    assert (response.json()["state"], response.json()["attempts"]) == ("pending", 0)
    event.refresh_from_db()
    assert (event.state, event.attempts) == (EventState.PENDING, 0)
    assert len(callbacks) == 1


@pytest.mark.parametrize("state", [EventState.PENDING, EventState.SENT])
def test_retry_of_an_event_that_is_not_failed_is_409(clerk: APIClient, state: EventState) -> None:
    event = TraceEventFactory(
        waybill=WaybillFactory(waybill_id="SF1"),
        state=state,
        sent_at=timezone.now() if state == EventState.SENT else None,
    )
    response = clerk.post(f"{events_url('SF1')}{event.pk}/retry/")
    assert response.status_code == 409
    assert response.json() == {
        "detail": f"Only failed events can be retried; this one is {state.label}.",
        "errcode": None,
    }
    event.refresh_from_db()
    assert event.state == state


def test_retry_needs_change_permission(client_for: Callable[..., APIClient]) -> None:
    event = TraceEventFactory(waybill=WaybillFactory(waybill_id="SF1"), state=EventState.FAILED)
    url = f"{events_url('SF1')}{event.pk}/retry/"
    assert client_for("view_traceevent", "add_traceevent").post(url).status_code == 403
    assert client_for("change_traceevent").post(url).status_code == 200


def test_json_types_must_match_but_forms_carry_text(clerk: APIClient) -> None:
    WaybillFactory(waybill_id="SF1")
    as_json = clerk.post(events_url("SF1"), {"action_type": "100001", "action_msg": 42}, format="json")
    assert as_json.status_code == 400
    assert as_json.json() == {
        "action_type": ["A valid integer is required."],
        "action_msg": ["Not a valid string."],
    }
    as_form = clerk.post(events_url("SF1"), {"action_type": "100001", "action_msg": "已揽收"})
    assert as_form.status_code == 201, as_form.content

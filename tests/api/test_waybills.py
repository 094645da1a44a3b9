"""The waybill endpoints: list with filters, ordering and pagination; create; show; update."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import pytest
from django.db import connection
from django.test import modify_settings, override_settings
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from django_wxlogistics.enums import ActionType, EventState
from django_wxlogistics.models import Waybill
from tests.factories import TraceEventFactory, WaybillFactory

from .conftest import assert_no_token

URL = "/wxlogistics/api/waybills/"
EDITOR = ("view_waybill", "add_waybill", "change_waybill")


@pytest.fixture
def editor(client_for: Callable[..., APIClient]) -> APIClient:
    return client_for(*EDITOR)


def test_create_answers_201_and_never_returns_the_token(editor: APIClient) -> None:
    response = editor.post(
        URL, {"waybill_id": "SF1234567890", "order_id": "SO42", "token": "tok-secret-1"}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json() == {
        "waybill_id": "SF1234567890",
        "order_id": "SO42",
        "has_token": True,
        "latest_action_type": None,
        "latest_action_type_label": None,
        "delivery": {"pending": 0, "sending": 0, "sent": 0, "failed": 0},
        "biz_id": "",
        "wechat_order_id": "",
        "cancelled_at": None,
        "created_at": response.json()["created_at"],
        "updated_at": response.json()["updated_at"],
    }
    assert_no_token(response, "tok-secret-1")
    assert Waybill.objects.get(waybill_id="SF1234567890").token == "tok-secret-1"


def test_retrieve_by_waybill_id_with_delivery_counts(editor: APIClient) -> None:
    waybill = WaybillFactory(waybill_id="YT0001", latest_action_type=ActionType.IN_TRANSIT)
    TraceEventFactory.create_batch(2, waybill=waybill, state=EventState.FAILED, last_errcode=40199)
    TraceEventFactory(waybill=waybill, state=EventState.PENDING)
    response = editor.get(f"{URL}YT0001/")
    assert response.status_code == 200
    body = response.json()
    assert body["delivery"] == {"pending": 1, "sending": 0, "sent": 0, "failed": 2}
    assert body["latest_action_type"] == 200001
    assert body["latest_action_type_label"] == "In transit"
    assert body["has_token"] is True
    assert_no_token(response, waybill.token)


def test_unknown_waybill_is_404(editor: APIClient) -> None:
    assert editor.get(f"{URL}NOPE/").status_code == 404


def test_patch_sets_and_clears_the_token_write_only(editor: APIClient) -> None:
    waybill = WaybillFactory(waybill_id="JD77", token="")
    response = editor.patch(f"{URL}JD77/", {"token": "fresh-token-9"}, format="json")
    assert response.status_code == 200
    assert response.json()["has_token"] is True
    assert_no_token(response, "fresh-token-9")
    waybill.refresh_from_db()
    assert waybill.token == "fresh-token-9"
    response = editor.patch(f"{URL}JD77/", {"token": ""}, format="json")
    assert response.json()["has_token"] is False


def test_put_keeps_the_token_unless_given(editor: APIClient) -> None:
    waybill = WaybillFactory(waybill_id="JD78", token="keep-me")
    response = editor.put(f"{URL}JD78/", {"waybill_id": "JD78", "order_id": "SO9"}, format="json")
    assert response.status_code == 200, response.content
    waybill.refresh_from_db()
    assert (waybill.order_id, waybill.token) == ("SO9", "keep-me")


def test_waybill_id_cannot_change(editor: APIClient) -> None:
    WaybillFactory(waybill_id="JD79")
    response = editor.patch(f"{URL}JD79/", {"waybill_id": "JD80"}, format="json")
    assert response.status_code == 400
    assert "cannot be changed" in response.json()["waybill_id"][0]


@pytest.mark.parametrize(
    ("payload", "field", "words"),
    [
        ({"order_id": "SO1"}, "waybill_id", "required"),
        ({"waybill_id": "SF/1", "order_id": "SO1"}, "waybill_id", "letters, digits"),
        ({"waybill_id": "", "order_id": "SO1"}, "waybill_id", "1 to 64 characters"),
        ({"waybill_id": "x" * 65, "order_id": "SO1"}, "waybill_id", "64"),
        ({"waybill_id": "SF2"}, "order_id", "required"),
        ({"waybill_id": "SF2", "order_id": "SO\x001"}, "order_id", "Null characters"),
        ('{"waybill_id": "SF2", "order_id": "SO\\ud800"}', "order_id", "Surrogate characters"),
        ({"waybill_id": "SF2", "order_id": "   "}, "order_id", "only spaces"),
        ({"waybill_id": "SF2", "order_id": "SO1", "token": "t" * 257}, "token", "256"),
    ],
)
def test_create_validation_errors_name_the_field(
    editor: APIClient, payload: dict[str, Any] | str, field: str, words: str
) -> None:
    if isinstance(payload, str):  # raw JSON: a lone surrogate escape cannot be encoded by the client
        response = editor.post(URL, payload, content_type="application/json")
    else:
        response = editor.post(URL, payload, format="json")
    assert response.status_code == 400
    assert words in " ".join(response.json()[field])
    assert not Waybill.objects.exists()


def test_duplicate_waybill_id_is_400_and_the_error_does_not_echo_the_token(editor: APIClient) -> None:
    WaybillFactory(waybill_id="SF1")
    response = editor.post(
        URL, {"waybill_id": "SF1", "order_id": "SO1", "token": "tok-dup-secret"}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"waybill_id": ["A waybill with this ID exists already."]}
    assert_no_token(response, "tok-dup-secret")


def test_browsable_api_does_not_echo_the_token_in_a_rejected_form(editor: APIClient) -> None:
    WaybillFactory(waybill_id="SF1")
    response = editor.post(
        URL,
        {"waybill_id": "SF1", "order_id": "SO1", "token": "tok-html-secret"},
        format="multipart",
        HTTP_ACCEPT="text/html",
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "exists already" in html
    assert (
        '<input name="token" class="form-control" type="password"  value="" >' in html
    )  # a form to set it ...
    assert "tok-html-secret" not in html  # ... but never filled with one


def test_browsable_api_detail_page_shows_no_token(editor: APIClient) -> None:
    WaybillFactory(waybill_id="SF5", token="tok-page-secret")
    response = editor.get(f"{URL}SF5/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert "tok-page-secret" not in response.content.decode()


def test_filters(editor: APIClient) -> None:
    failed = WaybillFactory(order_id="SO1", latest_action_type=ActionType.PICKED_UP)
    TraceEventFactory(waybill=failed, state=EventState.FAILED)
    fine = WaybillFactory(order_id="SO1", latest_action_type=ActionType.SIGNED)
    TraceEventFactory(waybill=fine, state=EventState.SENT, sent_at="2026-01-01T00:00:00Z")
    WaybillFactory(order_id="SO2")

    def ids(query: str) -> set[str]:
        response = editor.get(f"{URL}?{query}")
        assert response.status_code == 200, response.content
        return {row["waybill_id"] for row in response.json()["results"]}

    assert ids("order_id=SO1") == {failed.waybill_id, fine.waybill_id}
    assert ids("latest_action_type=300003") == {fine.waybill_id}
    assert ids("has_failed=true") == {failed.waybill_id}
    assert failed.waybill_id not in ids("has_failed=false")
    assert ids("order_id=SO1&has_failed=false") == {fine.waybill_id}


def test_bad_filter_value_is_400(editor: APIClient) -> None:
    response = editor.get(f"{URL}?latest_action_type=42")
    assert response.status_code == 400
    assert "latest_action_type" in response.json()


def test_ordering(editor: APIClient) -> None:
    for waybill_id in ("B2", "A1", "C3"):
        WaybillFactory(waybill_id=waybill_id)
    rows = editor.get(f"{URL}?ordering=waybill_id").json()["results"]
    assert [row["waybill_id"] for row in rows] == ["A1", "B2", "C3"]
    rows = editor.get(URL).json()["results"]  # newest first by default
    assert [row["waybill_id"] for row in rows] == ["C3", "A1", "B2"]


def test_pagination_has_a_default_page_size_and_a_cap(editor: APIClient) -> None:
    WaybillFactory.create_batch(55)
    body = editor.get(URL).json()
    assert body["count"] == 55 and len(body["results"]) == 50 and body["next"]
    assert len(editor.get(f"{URL}?page_size=10").json()["results"]) == 10
    assert len(editor.get(f"{URL}?page_size=100000").json()["results"]) == 55
    assert editor.get(f"{URL}?page=9").status_code == 404


@override_settings(REST_FRAMEWORK={"PAGE_SIZE": 7})
def test_the_host_page_size_wins(editor: APIClient) -> None:
    WaybillFactory.create_batch(8)
    assert len(editor.get(URL).json()["results"]) == 7


@pytest.mark.parametrize("rows", [1, 30])
def test_list_runs_a_constant_number_of_queries(
    editor: APIClient, django_assert_num_queries: Any, rows: int
) -> None:
    for waybill in WaybillFactory.create_batch(rows):
        TraceEventFactory(waybill=waybill, state=EventState.FAILED)
        TraceEventFactory(waybill=waybill)
    # session, user, user permissions, group permissions, count, page
    with django_assert_num_queries(6):
        response = editor.get(URL)
    assert len(response.json()["results"]) == rows
    assert all(row["delivery"]["failed"] == 1 for row in response.json()["results"])


def test_the_page_count_does_not_read_events(editor: APIClient) -> None:
    TraceEventFactory.create_batch(3, waybill=WaybillFactory())
    with CaptureQueriesContext(connection) as queries:
        assert editor.get(URL).status_code == 200
    [count] = [q["sql"] for q in queries.captured_queries if "COUNT(*)" in q["sql"]]
    assert "traceevent" not in count  # counting pages must not scan every waybill's events


def test_a_number_is_not_an_order_id(editor: APIClient) -> None:
    response = editor.post(URL, {"waybill_id": "SF1", "order_id": 6.7e58}, format="json")
    assert response.status_code == 400
    assert response.json() == {"order_id": ["Not a valid string."]}


@pytest.mark.parametrize(
    "query", ["has_failed=", "has_failed=maybe", "latest_action_type=", "page_size=0", "page=x"]
)
def test_an_unreadable_filter_is_400_not_ignored(editor: APIClient, query: str) -> None:
    response = editor.get(f"{URL}?{query}")
    assert response.status_code == 400
    [field] = response.json()
    assert query.startswith(field)


def test_filter_form_shows_only_where_django_filters_templates_are_installed(editor: APIClient) -> None:
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    from django_wxlogistics.api.filters import FilterBackend
    from django_wxlogistics.api.views import WaybillViewSet

    view = WaybillViewSet(action="list", format_kwarg=None)
    request = Request(APIRequestFactory().get(URL))
    assert "has_failed" in str(FilterBackend().to_html(request, Waybill.objects.all(), view))
    with modify_settings(INSTALLED_APPS={"remove": "django_filters"}):
        assert FilterBackend().to_html(request, Waybill.objects.all(), view) is None


def test_what_wechats_order_events_set_is_shown_and_read_only(editor: APIClient) -> None:
    cancelled = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    WaybillFactory(waybill_id="SF-WX-1", biz_id="biz-7", wechat_order_id="WX-OID-9", cancelled_at=cancelled)
    body = editor.get(f"{URL}SF-WX-1/").json()
    assert (body["biz_id"], body["wechat_order_id"]) == ("biz-7", "WX-OID-9")
    assert datetime.fromisoformat(body["cancelled_at"]) == cancelled
    patched = editor.patch(
        f"{URL}SF-WX-1/",
        {"biz_id": "other", "wechat_order_id": "forged", "cancelled_at": None, "order_id": "SO-2"},
        format="json",
    )
    assert patched.status_code == 200, patched.content
    waybill = Waybill.objects.get(waybill_id="SF-WX-1")
    assert (waybill.biz_id, waybill.wechat_order_id, waybill.cancelled_at) == ("biz-7", "WX-OID-9", cancelled)
    assert waybill.order_id == "SO-2"

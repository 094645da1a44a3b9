"""Bad input to the API gets a clear JSON 4xx, never a 500: NUL in paths, JSON nested too deeply,
out-of-range times, blank ids, unknown orderings, bodies over the size cap.

The NUL cases need PostgreSQL; the tests run on it whenever 127.0.0.1:5432 answers.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from django_wxlogistics.api.parsers import MAX_JSON_DEPTH
from django_wxlogistics.enums import EventState
from django_wxlogistics.models import TraceEvent, Waybill
from django_wxlogistics.services import InvalidWaybill, register_waybill
from tests.factories import TraceEventFactory, WaybillFactory

pytestmark = pytest.mark.django_db

API = "/wxlogistics/api/"


@pytest.fixture
def api(admin_client_api: APIClient) -> APIClient:
    WaybillFactory(waybill_id="SF1", order_id="SO1")
    return admin_client_api


def assert_json_error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == "application/json"
    return response.json()


# --- 4: a NUL in a path -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "waybills/SF%00X/"),
        ("patch", "waybills/SF%00X/"),
        ("get", "waybills/SF%00X/contact/"),
        ("get", "waybills/SF%00X/events/"),
        ("post", "waybills/SF%00X/events/"),
        ("get", "waybills/SF%00X/events/1/"),
        ("post", "waybills/SF%00X/events/1/retry/"),
        ("post", "waybills/SF1/events/1%00/retry/"),
        ("get", "waybills/SF1/events/99999999999999999999/"),
    ],
)
def test_a_nul_or_an_impossible_id_in_the_path_is_a_404(api: APIClient, method: str, path: str) -> None:
    event = TraceEventFactory(waybill=Waybill.objects.get(), state=EventState.FAILED)
    body = {"action_type": 300002, "action_msg": "x"} if method != "get" else None
    response = getattr(api, method)(API + path.replace("/1/", f"/{event.pk}/"), body, format="json")
    assert_json_error(response, 404)
    assert TraceEvent.objects.get().state == EventState.FAILED  # the retry never ran


@pytest.mark.parametrize(
    "query",
    ["waybills/?order_id=SO%00", "waybills/?has_failed=%00", "waybills/SF1/events/?state=%00"],
)
def test_a_nul_in_a_filter_is_a_400_naming_it(api: APIClient, query: str) -> None:
    body = assert_json_error(api.get(API + query), 400)
    assert list(body) == [query.split("?")[1].split("=")[0]]


# --- 5: JSON nested too deeply ------------------------------------------------------------------

WRITES = [
    ("post", "waybills/"),
    ("put", "waybills/SF1/"),
    ("patch", "waybills/SF1/"),
    ("post", "waybills/SF1/events/"),
]


@pytest.mark.parametrize(("method", "path"), WRITES)
@pytest.mark.parametrize("depth", [5_000, 100_000, MAX_JSON_DEPTH + 1])
def test_json_nested_too_deeply_is_a_400_on_every_write(
    api: APIClient, method: str, path: str, depth: int
) -> None:
    body = '{"order_id": ' + "[" * (depth - 1) + "]" * (depth - 1) + "}"
    response = getattr(api, method)(API + path, body, content_type="application/json")
    detail = assert_json_error(response, 400)["detail"]
    assert detail == f"JSON parse error - arrays and objects are nested more than {MAX_JSON_DEPTH} deep."
    assert Waybill.objects.get().order_id == "SO1" and not TraceEvent.objects.exists()


def test_json_nested_up_to_the_limit_is_read_and_validated(api: APIClient) -> None:
    body = '{"order_id": ' + "[" * (MAX_JSON_DEPTH - 1) + "]" * (MAX_JSON_DEPTH - 1) + "}"
    response = api.patch(API + "waybills/SF1/", body, content_type="application/json")
    assert assert_json_error(response, 400) == {"order_id": ["Not a valid string."]}


def test_the_browsable_api_shows_a_deep_body_as_an_error_page(api: APIClient) -> None:
    body = '{"order_id": ' + "[" * 900 + "]" * 900 + "}"  # Python parses this, but cannot print it
    response = api.post(API + "waybills/", body, content_type="application/json", HTTP_ACCEPT="text/html")
    assert response.status_code == 400
    assert b"nested more than" in response.content


# --- 6: action_time outside what WeChat takes ----------------------------------------------------


@pytest.mark.parametrize(
    "action_time",
    ["0001-01-01T00:00:00Z", "1969-12-31T23:59:59Z", "1970-01-01T00:00:00Z", "1970-01-01T07:59:59+08:00"],
)
def test_an_action_time_wechat_refuses_is_a_400_and_nothing_is_stored(
    api: APIClient, action_time: str
) -> None:
    payload = {"action_type": 300002, "action_msg": "x", "action_time": action_time}
    body = assert_json_error(api.post(API + "waybills/SF1/events/", payload, format="json"), 400)
    assert list(body) == ["action_time"]
    assert "the times WeChat accepts" in body["action_time"][0]
    assert not TraceEvent.objects.exists()


def test_the_first_second_wechat_takes_is_accepted(api: APIClient) -> None:
    payload = {"action_type": 300002, "action_msg": "x", "action_time": "1970-01-01T00:00:01Z"}
    assert api.post(API + "waybills/SF1/events/", payload, format="json").status_code == 201


# --- 7: one set of rules for the API and register_waybill --------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("order_id", "   "),
        ("order_id", ""),
        ("order_id", "S" * 65),
        ("waybill_id", ""),
        ("waybill_id", "SF 1"),
        ("waybill_id", "SF/1"),
        ("waybill_id", "x" * 65),
        ("token", "t" * 257),
    ],
)
def test_the_api_and_register_waybill_refuse_the_same_fields_in_the_same_words(
    api: APIClient, field: str, value: str
) -> None:
    fields = {"waybill_id": "SF2", "order_id": "SO2", "token": "wb-token", field: value}
    response = api.post(API + "waybills/", fields, format="json")
    from_the_api = assert_json_error(response, 400)
    with pytest.raises(InvalidWaybill) as excinfo:
        register_waybill(fields["order_id"], fields["waybill_id"], fields["token"])
    assert from_the_api == excinfo.value.message_dict
    assert not Waybill.objects.exclude(waybill_id="SF1").exists()


def test_a_patch_of_only_spaces_is_refused(api: APIClient) -> None:
    assert_json_error(api.patch(API + "waybills/SF1/", {"order_id": "  "}, format="json"), 400)
    assert Waybill.objects.get().order_id == "SO1"


@pytest.mark.parametrize(
    ("path", "ordering", "allowed"),
    [
        ("waybills/", "bogus", "created_at, updated_at, waybill_id, order_id"),
        ("waybills/", "-created_at,bogus", "created_at, updated_at, waybill_id, order_id"),
        ("waybills/", "", "created_at, updated_at, waybill_id, order_id"),
        ("waybills/", "--created_at", "created_at, updated_at, waybill_id, order_id"),
        ("waybills/SF1/events/", "state", "action_time, created_at, id"),
        ("waybills/SF1/events/", "%00", "action_time, created_at, id"),
    ],
)
def test_an_ordering_the_list_does_not_have_is_a_400_listing_those_it_has(
    api: APIClient, path: str, ordering: str, allowed: str
) -> None:
    body = assert_json_error(api.get(f"{API}{path}?ordering={ordering}"), 400)
    assert list(body) == ["ordering"]
    assert f"Sort by {allowed};" in body["ordering"][0]


def test_a_known_ordering_still_sorts(api: APIClient) -> None:
    WaybillFactory(waybill_id="SF0")
    rows = api.get(f"{API}waybills/?ordering=waybill_id, -created_at").json()["results"]
    assert [row["waybill_id"] for row in rows] == ["SF0", "SF1"]


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000, DATA_UPLOAD_MAX_NUMBER_FIELDS=5)
@pytest.mark.parametrize(("method", "path"), WRITES)
@pytest.mark.parametrize(
    ("content_type", "body", "words"),
    [
        ("application/json", '{"order_id": "' + "x" * 2000 + '"}', "DATA_UPLOAD_MAX_MEMORY_SIZE, 1000 bytes"),
        (
            "application/x-www-form-urlencoded",
            "&".join(f"f{i}=1" for i in range(6)),
            "DATA_UPLOAD_MAX_NUMBER_FIELDS",
        ),
    ],
)
def test_a_body_over_djangos_limits_is_a_json_400(
    api: APIClient, method: str, path: str, content_type: str, body: str, words: str
) -> None:
    response = getattr(api, method)(API + path, body, content_type=content_type)
    assert words in assert_json_error(response, 400)["detail"]
    assert Waybill.objects.get().order_id == "SO1"


# --- the same class of defect in the parameters ---------------------------------------------------


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("waybills/?page=-1", 400),
        ("waybills/?page=%00", 400),
        ("waybills/?page_size=1%00", 400),
        ("waybills/?page=99999999999999999999", 404),
        ("waybills/?latest_action_type=99999999999999999999", 400),
        ("waybills/SF1/events/?action_type=-99999999999999999999", 400),
        ("waybills/%FF%FE/", 404),
    ],
)
def test_bad_parameters_are_json_4xx(api: APIClient, query: str, status: int) -> None:
    assert_json_error(api.get(API + query), status)


def test_non_utf8_bytes_in_a_filter_find_nothing(api: APIClient) -> None:
    response = api.get(API + "waybills/?order_id=%FF%FE")
    assert response.status_code == 200 and response.json()["count"] == 0

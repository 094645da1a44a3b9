"""The OpenAPI schema: generated without warnings, and the API keeps to it under schemathesis."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
import yaml
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import positive_data_acceptance
from werkzeug.test import Client

from django_wxlogistics.models import Payment
from django_wxlogistics.sandbox.control import SandboxControl
from tests.api.conftest import schema_as_superuser
from tests.factories import TraceEventFactory, WaybillFactory

SCHEMA_URL = "/wxlogistics/api/schema/"


@pytest.fixture
def keep_db_connection() -> Iterator[None]:
    """As Django's test client does: a request must not close the test's transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


# Loaded at collection, as a superuser that needs no database; every case logs in as "root".
schema = schemathesis.openapi.from_dict(
    yaml.safe_load(schema_as_superuser(SCHEMA_URL).content),
    config=SchemathesisConfig.from_dict(
        {"auth": {"openapi": {"basicAuth": {"username": "root", "password": "pw"}}}}
    ),
)
schema.app = get_wsgi_application()
schema.location = SCHEMA_URL


def test_schema_has_no_warnings(tmp_path: Any) -> None:
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "openapi.yaml"))
    text = (tmp_path / "openapi.yaml").read_text()
    assert "/wxlogistics/api/waybills/{waybill_id}/contact/" in text
    assert "token:\n          type: string\n          writeOnly: true" in text


@pytest.fixture
def superuser(db: None, django_user_model: Any) -> Any:
    return django_user_model.objects.create_superuser("root", "root@example.com", "pw")


@pytest.fixture
def known_waybill(superuser: Any, wechat_sandbox: SandboxControl, keep_db_connection: None) -> Any:
    waybill = WaybillFactory(waybill_id="SF1", token="t1")
    wechat_sandbox.register_waybill("SF1", "t1")
    TraceEventFactory(waybill=waybill)
    return waybill


@schema.parametrize()
@settings(max_examples=20, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_api_keeps_to_its_schema(case: Any, known_waybill: Any) -> None:
    # Not positive_data_acceptance: the schema cannot say "unique" or "at most an hour ahead",
    # and those documented 400s are not bugs. Every other check runs (no 500, statuses, bodies, auth).
    case.call_and_validate(excluded_checks=[positive_data_acceptance])


def api_get(path: str) -> Any:
    client = Client(schema.app)
    auth = "Basic " + base64.b64encode(b"root:pw").decode()
    return client.get(path, headers={"Authorization": auth, "Host": "localhost"})


def contact_response(waybill_id: str) -> Any:
    return api_get(f"/wxlogistics/api/waybills/{waybill_id}/contact/")


def test_every_contact_answer_matches_the_schema(
    superuser: Any, wechat_sandbox: SandboxControl, keep_db_connection: None
) -> None:
    """The fuzzer rarely hits a known waybill: each documented answer of the contact endpoint, once."""
    operation = schema["/wxlogistics/api/waybills/{waybill_id}/contact/"]["GET"]
    WaybillFactory(waybill_id="SF1", token="t1")
    wechat_sandbox.register_waybill("SF1", "t1")
    WaybillFactory(waybill_id="SF2", token="")  # no token: 409
    WaybillFactory(waybill_id="SF3", token="t3")  # unknown to WeChat: 404 with errcode
    WaybillFactory(waybill_id="SF4", token="wrong")  # WeChat refuses the token: 409 with errcode
    wechat_sandbox.register_waybill("SF4", "right")
    seen = {}
    for waybill_id in ("SF1", "SF2", "SF3", "SF4", "NOPE"):
        response = contact_response(waybill_id)
        operation.validate_response(response)
        seen[waybill_id] = response.status_code
    wechat_sandbox.set_faults(error_rate=1.0, kinds=["http502"], apis=["logistics.getContact"])
    response = contact_response("SF1")
    operation.validate_response(response)
    seen["SF1 (WeChat down)"] = response.status_code
    assert seen == {"SF1": 200, "SF2": 409, "SF3": 404, "SF4": 409, "NOPE": 404, "SF1 (WeChat down)": 502}


def test_every_wechat_order_answer_matches_the_schema(
    superuser: Any, wechat_sandbox: SandboxControl, keep_db_connection: None
) -> None:
    """Each documented answer of WeChat's view of a payment, once: known, unknown (yet), failing."""
    operation = schema["/wxlogistics/api/payments/{payment_id}/wechat-order/"]["GET"]
    known = Payment.objects.create(
        order_id="SO1", transaction_id=wechat_sandbox.create_payment()["transaction_id"]
    )
    later = wechat_sandbox.create_payment(unknown_for=3600)["transaction_id"]
    unknown = Payment.objects.create(order_id="SO2", transaction_id=later)
    seen = {}
    for name, pk in (("known", known.pk), ("unknown", unknown.pk), ("missing", 999999)):
        response = api_get(f"/wxlogistics/api/payments/{pk}/wechat-order/")
        operation.validate_response(response)
        seen[name] = response.status_code
    wechat_sandbox.set_faults(error_rate=1.0, kinds=["http502"], apis=["get_order"])
    response = api_get(f"/wxlogistics/api/payments/{known.pk}/wechat-order/")
    operation.validate_response(response)
    seen["known (WeChat down)"] = response.status_code
    assert seen == {"known": 200, "unknown": 404, "missing": 404, "known (WeChat down)": 502}


def test_example_project_serves_swagger_ui_over_the_schema(client: Any, superuser: Any) -> None:
    response = client.get("/api/docs/", HTTP_HOST="localhost")
    assert response.status_code == 200
    assert "/wxlogistics/api/schema/" in response.content.decode()
    client.force_login(superuser)  # Swagger UI fetches the schema with the page's session
    schema_response = client.get("/wxlogistics/api/schema/", HTTP_HOST="localhost")
    assert schema_response.status_code == 200
    # Only this app's operations: the schema view filters out the host's own DRF views.
    ours = tuple(
        f"/wxlogistics/api/{part}/" for part in ("waybills", "payments", "shipping-info", "carriers")
    )
    assert all(path.startswith(ours) for path in schema.raw_schema["paths"])

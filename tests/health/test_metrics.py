"""``metrics/``: the health figures in Prometheus' format, to staff or the metrics token only;
without prometheus_client, a 501 that says what to install."""

from __future__ import annotations

import sys
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core.checks import Error
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from django_wxlogistics import delivery
from django_wxlogistics.checks import check_settings
from django_wxlogistics.enums import EventState
from django_wxlogistics.models import AccessToken
from tests.factories import TraceEventFactory, WaybillFactory
from tests.pipeline import helpers as pipeline

pytestmark = [pytest.mark.django_db]

METRICS_TOKEN = "metrics-token-0123456789abcdef"
ACCESS_TOKEN = "ACCESS-TOKEN-never-in-metrics-77"


@pytest.fixture
def url() -> str:
    return reverse("wxlogistics:metrics")


@pytest.fixture
def with_token(settings):
    settings.WXLOGISTICS = {
        **settings.WXLOGISTICS,
        "METRICS_TOKEN": METRICS_TOKEN,
        "APPID": "wxmetrics",
        "ACCESS_TOKEN": "stable",
    }


@pytest.fixture
def staff(client: Client) -> Client:
    client.force_login(User.objects.create_user("ops", password="pw", is_staff=True))
    return client


def samples(response) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Each sample of a metrics page: (name, sorted labels) → value."""
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    found = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def events(state: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    return ("wxlogistics_outbox_items", (("kind", "trace_event"), ("state", state)))


@pytest.mark.usefixtures("with_token")
def test_a_backlog_for_the_holder_of_the_token(client, url):
    now = timezone.now()
    for minutes in (5, 1):
        TraceEventFactory(next_attempt_at=now - timedelta(minutes=minutes))
    TraceEventFactory(state=EventState.SENT, sent_at=now - timedelta(seconds=30))
    AccessToken.objects.create(appid="wxmetrics", token=ACCESS_TOKEN, expires_at=now + timedelta(hours=1))

    response = client.get(url, HTTP_AUTHORIZATION=f"Bearer {METRICS_TOKEN}")

    found = samples(response)
    assert (found[events("pending")], found[events("sending")], found[events("failed")]) == (2, 0, 0)
    assert 300 <= found[("wxlogistics_outbox_lag_seconds", (("kind", "trace_event"),))] < 400
    assert found[("wxlogistics_outbox_pushes_per_minute", (("kind", "trace_event"),))] == 0.2
    life = found[("wxlogistics_access_token_seconds_left", (("appid", "wxmetrics"), ("mode", "stable")))]
    assert 3000 < life <= 3600
    assert ("wxlogistics_health_collect_seconds", ()) in found
    assert ACCESS_TOKEN not in response.content.decode()
    assert METRICS_TOKEN not in response.content.decode()
    assert "no-cache" in response["Cache-Control"]


def test_failures_made_for_real_for_staff(staff, url, wechat_sandbox, settings):
    settings.WXLOGISTICS = {**settings.WXLOGISTICS, "RETRY_BACKOFF_BASE": 60.0, "RETRY_BACKOFF_CAP": 60.0}
    waybill = WaybillFactory()
    wechat_sandbox.register_waybill(waybill.waybill_id, waybill.token)
    retried, failed = TraceEventFactory(waybill=waybill), TraceEventFactory(waybill=WaybillFactory())
    wechat_sandbox.set_faults(error_rate=1.0, kinds=["errcode"], errcode=-1)
    assert pipeline.deliver(retried.pk) is delivery.Outcome.RETRY
    wechat_sandbox.clear_faults()
    assert pipeline.deliver(failed.pk) is delivery.Outcome.FAILED  # 40199: the sandbox knows not its waybill

    found = samples(staff.get(url))

    assert found[events("failed")] == 1 and found[events("pending")] == 1
    refused = "wxlogistics_outbox_refused_last_hour"
    kind = ("kind", "trace_event")
    assert found[(refused, (("errcode", "40199"), kind, ("outcome", "failed")))] == 1
    assert found[(refused, (("errcode", "-1"), kind, ("outcome", "retrying")))] == 1
    assert found[(refused, (("errcode", "-1"), kind, ("outcome", "failed")))] == 0


@pytest.mark.usefixtures("with_token")
def test_anonymous_is_asked_for_credentials(client, url):
    response = client.get(url)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="wxlogistics"'
    assert "metrics token" in response.content.decode()
    assert "wxlogistics_outbox" not in response.content.decode()


@pytest.mark.usefixtures("with_token")
@pytest.mark.parametrize(
    "header",
    [
        f"Bearer {METRICS_TOKEN[:-1]}x",  # one character off
        f"Bearer {METRICS_TOKEN}0",
        f"Bearer {METRICS_TOKEN[:8]}",
        "Bearer ",
        f"bearer {METRICS_TOKEN.upper()}",
    ],
)
def test_a_wrong_token_is_refused(client, url, header):
    response = client.get(url, HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert 'error="invalid_token"' in response["WWW-Authenticate"]
    assert METRICS_TOKEN not in response.content.decode()


@pytest.mark.usefixtures("with_token")
@pytest.mark.parametrize("header", [f"Basic {METRICS_TOKEN}", METRICS_TOKEN])
def test_the_token_counts_only_as_a_bearer_token(client, url, header):
    response = client.get(url, HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="wxlogistics"'


@pytest.mark.usefixtures("with_token")
def test_staff_behind_a_proxys_basic_auth_still_get_in(staff, url):
    assert staff.get(url, HTTP_AUTHORIZATION="Basic b3BzOnB3").status_code == 200


def test_no_token_is_accepted_when_none_is_configured(client, url):
    assert client.get(url, HTTP_AUTHORIZATION="Bearer ").status_code == 401
    assert client.get(url, HTTP_AUTHORIZATION="Bearer x" * 3).status_code == 401


def test_a_user_who_is_not_staff_is_refused(client, url):
    client.force_login(User.objects.create_user("customer", password="pw"))
    response = client.get(url)
    assert response.status_code == 403
    assert "Only staff" in response.content.decode()


def test_openmetrics_for_a_scraper_that_asks(staff, url):
    TraceEventFactory()
    response = staff.get(url, HTTP_ACCEPT="application/openmetrics-text; version=1.0.0")
    assert response["Content-Type"].startswith("application/openmetrics-text")
    text = response.content.decode()
    assert 'wxlogistics_outbox_items{kind="trace_event",state="pending"} 1.0' in text
    assert text.endswith("# EOF\n")


def test_only_reads(staff, url):
    assert staff.post(url).status_code == 405
    assert staff.head(url).status_code == 200


def test_without_prometheus_client_it_says_what_to_install(staff, url, monkeypatch):
    monkeypatch.setitem(sys.modules, "prometheus_client", None)  # as if not installed
    response = staff.get(url)
    assert response.status_code == 501
    assert 'pip install "django-wxlogistics[prometheus]"' in response.content.decode()


def test_the_refusals_speak_chinese(client, url, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    assert "工作人员" in client.get(url).content.decode()


# --- the checks -------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["short", 12345, "x" * 15, "é" * 20, "tab\there-0123456789"])
def test_e080_a_weak_or_malformed_token(value):
    with override_settings(WXLOGISTICS={"APPID": "wx1", "APPSECRET": "s", "METRICS_TOKEN": value}):
        [message] = [m for m in check_settings() if m.id == "wxlogistics.E080"]
    assert isinstance(message, Error)
    assert "METRICS_TOKEN" in message.msg and "secrets.token_urlsafe" in message.hint


def test_w080_a_token_without_prometheus_client(monkeypatch):
    settings = {"APPID": "wx1", "APPSECRET": "s", "METRICS_TOKEN": METRICS_TOKEN}
    with override_settings(WXLOGISTICS=settings):
        assert [m.id for m in check_settings()] == []
        monkeypatch.setitem(sys.modules, "prometheus_client", None)
        [message] = check_settings()
    assert message.id == "wxlogistics.W080"
    assert "django-wxlogistics[prometheus]" in message.hint

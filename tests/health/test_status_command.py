"""``manage.py wxlogistics_status``: the figures for people (in English and Chinese) and for
machines (``--json``), and the exit status of ``--max-lag`` on an injected clock."""

from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone, translation

from django_wxlogistics import delivery, health
from django_wxlogistics.enums import EventState
from django_wxlogistics.management.commands.wxlogistics_status import Command
from django_wxlogistics.models import AccessToken
from tests.factories import TraceEventFactory, WaybillFactory
from tests.pipeline import helpers as pipeline

pytestmark = [pytest.mark.django_db]

TOKEN = "ACCESS-TOKEN-not-for-your-eyes-42"


@pytest.fixture
def now(monkeypatch):
    """The command's clock, stopped."""
    moment = timezone.now().replace(microsecond=0)
    monkeypatch.setattr(health, "clock", lambda: moment)
    return moment


@pytest.fixture
def backlog(now, settings):
    """Three due events, the oldest due for 2 minutes; one failed (40199); two sent lately; a
    stored access token with an hour and a half to live."""
    settings.WXLOGISTICS = {**settings.WXLOGISTICS, "APPID": "wxstatus", "ACCESS_TOKEN": "stable"}
    waybill = WaybillFactory()
    for seconds in (120, 60, 30):
        TraceEventFactory(waybill=waybill, next_attempt_at=now - timedelta(seconds=seconds))
    TraceEventFactory(
        waybill=waybill,
        state=EventState.FAILED,
        last_errcode=40199,
        last_errmsg="waybill not exist",
        attempts=1,
    )
    for seconds in (30, 90):
        TraceEventFactory(waybill=waybill, state=EventState.SENT, sent_at=now - timedelta(seconds=seconds))
    AccessToken.objects.create(appid="wxstatus", token=TOKEN, expires_at=now + timedelta(minutes=90))


def status(*args: str) -> str:
    out = StringIO()
    call_command("wxlogistics_status", *args, stdout=out, no_color=True)
    return out.getvalue()


@pytest.mark.usefixtures("backlog")
def test_the_figures_for_people():
    text = status()
    assert "Trace events" in text
    assert "pending: 3 · sending: 0 · failed: 1" in text
    assert "lag: 2 min 0 s" in text
    assert "pushed: 0.4 a minute over the last 5 minutes" in text
    assert "40199 · waybill not found: 1 failed for good" in text
    assert "Access token (stable mode, AppID wxstatus): 1 h 30 min left" in text
    assert TOKEN not in text


@pytest.mark.usefixtures("backlog")
def test_the_figures_in_chinese():
    with translation.override("zh-hans"):
        text = status()
    for words in (
        "轨迹事件",
        "待推送：3",
        "推送失败：1",
        "延迟：2 分 0 秒",
        "40199 · 运单不存在：1 条永久失败",
        "剩余 1 小时 30 分",
    ):
        assert words in text, words
    assert TOKEN not in text


@pytest.mark.usefixtures("backlog")
def test_json_for_machines(now):
    data = json.loads(status("--json"))
    assert data["healthy"] is True and data["max_lag_seconds"] is None
    assert data["now"] == now.isoformat()
    assert data["lag_seconds"] == 120.0
    events = data["kinds"]["trace_event"]
    assert {k: events[k] for k in ("pending", "sending", "failed", "lag_seconds", "sent_recently")} == {
        "pending": 3,
        "sending": 0,
        "failed": 1,
        "lag_seconds": 120.0,
        "sent_recently": 2,
    }
    assert events["oldest_due_at"] == (now - timedelta(seconds=120)).isoformat()
    assert events["failures_last_hour"] == [{"errcode": 40199, "failed": 1, "retrying": 0}]
    assert (events["rate_window_seconds"], events["pushes_per_minute"]) == (300, 0.4)
    assert data["access_token"] == {
        "mode": "stable",
        "appid": "wxstatus",
        "expires_at": (now + timedelta(minutes=90)).isoformat(),
        "seconds_left": 5400,
    }
    assert TOKEN not in json.dumps(data)


@pytest.mark.usefixtures("backlog")
def test_max_lag_is_a_health_probe(now, monkeypatch):
    # 120 s of lag: within 300, beyond 60.
    assert "lag: 2 min 0 s" in status("--max-lag", "300")
    with pytest.raises(
        CommandError, match=r"The lag is 2 min 0 s, longer than --max-lag 1 min 0 s"
    ) as caught:
        status("--max-lag", "60")
    assert caught.value.returncode == 1
    # The clock moves on; the lag with it.
    monkeypatch.setattr(health, "clock", lambda: now + timedelta(minutes=10))
    with pytest.raises(CommandError, match="12 min 0 s"):
        status("--max-lag", "300")
    # As a probe calls it: the process's exit status, JSON still on stdout (last: it closes
    # the database connection as manage.py does).
    out = StringIO()
    command = Command(stdout=out, stderr=StringIO())
    with pytest.raises(SystemExit) as exited:
        command.run_from_argv(["manage.py", "wxlogistics_status", "--json", "--max-lag", "719"])
    assert exited.value.code == 1
    assert json.loads(out.getvalue())["healthy"] is False


def test_an_idle_pipeline_passes_any_max_lag(now):
    TraceEventFactory(next_attempt_at=now + timedelta(minutes=1))  # a retry, not due yet
    text = status("--max-lag", "0")
    assert "lag: none (nothing is due)" in text
    assert "refused in the last hour: none" in text
    assert "Access token" in text


@pytest.mark.parametrize("value", ["-1", "soon", "nan", "inf"])
def test_max_lag_must_be_seconds(value):
    with pytest.raises(CommandError, match="is not a number of seconds"):
        status("--max-lag", value)


def test_a_failure_made_for_real_shows_up(wechat_sandbox, settings):
    settings.WXLOGISTICS = {**settings.WXLOGISTICS, "RETRY_BACKOFF_BASE": 60.0, "RETRY_BACKOFF_CAP": 60.0}
    waybill = WaybillFactory()
    wechat_sandbox.register_waybill(waybill.waybill_id, waybill.token)
    first, second = TraceEventFactory(waybill=waybill), TraceEventFactory(waybill=WaybillFactory())
    wechat_sandbox.set_faults(error_rate=1.0, kinds=["errcode"], errcode=45009)
    assert pipeline.deliver(first.pk) is delivery.Outcome.RETRY
    wechat_sandbox.clear_faults()
    assert pipeline.deliver(second.pk) is delivery.Outcome.FAILED  # the sandbox knows not its waybill

    text = status()

    assert "pending: 1 · sending: 0 · failed: 1" in text
    assert "40199 · waybill not found: 1 failed for good" in text
    assert "45009 · rate limited: 1 to be retried" in text

"""The delivery health dashboard at the top of the waybill list, in English and in Chinese, for
staff who may see trace events."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from django_wxlogistics import health
from django_wxlogistics.enums import EventState, ShippingCall
from django_wxlogistics.models import AccessToken, Payment, ShippingInfo
from tests.factories import TraceEventFactory, WaybillFactory

pytestmark = [pytest.mark.django_db]

ACCESS_TOKEN = "ACCESS-TOKEN-not-on-the-page-1234"
LIST = "admin:django_wxlogistics_waybill_changelist"


@pytest.fixture
def backlog(monkeypatch, settings):
    """Two due events (the oldest for 3 minutes), one failed with 40199, one retrying after -1,
    six sent in the last five minutes, and an access token with 40 minutes left."""
    now = timezone.now()
    monkeypatch.setattr(health, "clock", lambda: now)
    settings.WXLOGISTICS = {**settings.WXLOGISTICS, "APPID": "wxdash", "ACCESS_TOKEN": "stable"}
    waybill = WaybillFactory()
    for minutes in (3, 1):
        TraceEventFactory(waybill=waybill, next_attempt_at=now - timedelta(minutes=minutes))
    TraceEventFactory(waybill=waybill, state=EventState.FAILED, last_errcode=40199, last_errmsg="no")
    TraceEventFactory(
        waybill=waybill, next_attempt_at=now + timedelta(minutes=1), last_errcode=-1, last_errmsg="busy"
    )
    for seconds in range(6):
        TraceEventFactory(waybill=waybill, state=EventState.SENT, sent_at=now - timedelta(seconds=seconds))
    AccessToken.objects.create(appid="wxdash", token=ACCESS_TOKEN, expires_at=now + timedelta(minutes=40))


def dashboard(client) -> str:
    page = client.get(reverse(LIST))
    assert page.status_code == 200
    html = page.content.decode()
    assert ACCESS_TOKEN not in html
    found = re.search(r'<section class="wxl-dashboard".*?</section>', html, re.S)
    assert found, "no dashboard on the waybill list"
    # Above the list itself.
    assert html.index('class="wxl-dashboard"') < html.index('id="changelist"')
    return found.group(0)


def figure(html: str, name: str) -> str:
    found = re.search(rf'data-figure="{name}">(.*?)</div>', html, re.S)
    assert found, name
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(1))).strip()


@pytest.mark.usefixtures("backlog")
def test_the_figures_in_english(clerk_client):
    html = dashboard(clerk_client)
    assert "Trace events" in html
    assert figure(html, "pending") == "Pending 3"
    assert figure(html, "sending") == "Sending 0"
    assert figure(html, "failed") == "Failed 1"
    assert figure(html, "lag") == "Lag 3 min 0 s"
    assert figure(html, "rate") == "Pushes a minute 1.2"
    assert figure(html, "token") == "Time left 40 min 0 s"
    refusals = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html.split('data-figure="refusals"')[1]))
    assert "40199 · waybill not found: 1 failed for good" in refusals
    assert "-1 · WeChat busy: 1 to be retried" in refusals
    # The failed count links to those events, for staff who may see them.
    failed_list = reverse("admin:django_wxlogistics_traceevent_changelist") + "?state__exact=failed"
    assert f'href="{failed_list}"' in html
    assert "wxl-figure-bad" in html and "wxl-figure-warn" in html  # failures; 3 minutes of lag


@pytest.mark.usefixtures("backlog")
def test_the_figures_in_chinese(clerk_client, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    html = dashboard(clerk_client)
    assert "轨迹事件" in html
    assert figure(html, "pending") == "待推送 3"
    assert figure(html, "failed") == "推送失败 1"
    assert figure(html, "lag") == "延迟 3 分 0 秒"
    assert figure(html, "rate") == "每分钟推送 1.2"
    assert figure(html, "token") == "剩余有效期 40 分 0 秒"
    assert "40199 · 运单不存在：1 条永久失败" in html
    assert "-1 · 微信系统繁忙：1 条待重试" in html
    assert "最近一小时被拒绝" in html


def test_a_quiet_pipeline(clerk_client):
    html = dashboard(clerk_client)
    assert "Trace events" in html
    assert "Shipping information" not in html  # nothing to show: no row of zeros
    assert figure(html, "lag") == "Lag –"
    assert "wxl-figure-bad" not in html and "wxl-figure-warn" not in html
    assert "none" in html.split('data-figure="refusals"')[1]


def test_shipping_information_when_there_is_some(clerk_client):
    payment = Payment.objects.create(order_id="SO1", transaction_id="4200000001")
    ShippingInfo.objects.create(
        payment=payment,
        order_id="SO1",
        call=ShippingCall.UPLOAD,
        request={},
        state=EventState.FAILED,
        last_errcode=10060001,
        last_errmsg="payment not yet known",
    )
    html = dashboard(clerk_client)
    shipping = html.split('data-kind="shipping_info"')[1]
    assert "Shipping information" in html
    assert figure(shipping, "failed") == "Failed 1"
    assert "10060001" in shipping


@pytest.mark.usefixtures("backlog")
def test_only_for_staff_who_may_see_trace_events(make_client):
    client = make_client("waybills-only", "view_waybill")
    html = client.get(reverse(LIST)).content.decode()
    assert 'id="changelist"' in html
    assert "wxl-dashboard" not in html

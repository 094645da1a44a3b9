"""The state and last-error columns the trace event and shipping information lists share."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from django_wxlogistics.enums import EventState, ShippingCall
from django_wxlogistics.models import Payment, ShippingInfo
from tests.factories import TraceEventFactory

pytestmark = pytest.mark.django_db

CALLS = "admin:django_wxlogistics_shippinginfo_changelist"
EVENTS = "admin:django_wxlogistics_traceevent_changelist"


def _call(n: int, **fields) -> ShippingInfo:
    payment = Payment.objects.create(order_id=f"SO{n}", transaction_id=f"420000000{n}")
    return ShippingInfo.objects.create(
        payment=payment, order_id=payment.order_id, call=ShippingCall.UPLOAD, request={}, **fields
    )


def test_wechats_last_answer_reads_the_same_in_both_lists(make_client):
    client = make_client("staff", "view_shippinginfo", "view_traceevent")
    _call(1, state=EventState.FAILED, last_errcode=-1, last_errmsg="system error")
    _call(2, state=EventState.FAILED, last_errcode=10060004, last_errmsg="支付单已退款" + "。" * 100)
    _call(3, state=EventState.PENDING, last_errmsg="Read timed out")
    _call(4, state=EventState.SENT, sent_at=timezone.now())
    html = client.get(reverse(CALLS)).content.decode()
    assert "-1 · WeChat busy" in html and "system error" not in html  # a code with a name: its name
    assert "10060004 · 支付单已退款" in html and "。" * 100 not in html  # WeChat's words, cut short
    assert "Read timed out" in html  # no answer from WeChat: what went wrong
    assert html.count('class="wxl-state wxl-state-failed"') == 2 and "wxl-state-sent" in html
    TraceEventFactory(state=EventState.FAILED, last_errcode=-1, last_errmsg="system error")
    TraceEventFactory(state=EventState.FAILED, last_errcode=9300999, last_errmsg="something new")
    html = client.get(reverse(EVENTS)).content.decode()
    assert "-1 · WeChat busy" in html and "9300999 · something new" in html
    assert 'class="wxl-state wxl-state-failed"' in html

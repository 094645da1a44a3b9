"""A shipped and delivered order through a real Celery worker and beat, to WeChat's order states in
the sandbox, right after the payment (while WeChat does not know it yet)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import transaction

from django_wxlogistics.enums import EventState
from django_wxlogistics.models import ShippingInfo
from tests.pipeline.processes import wait_until
from tests.shipping.test_status_changes import ACTIONS, PaidOrder, send
from tests.workers import celery_worker

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

SHIPPED, CONFIRMED = 2, 3


@pytest.fixture
def worker_and_beat(wechat_sandbox, tmp_path) -> Iterator[None]:
    """redis-server, one Celery worker and beat (the sweeper every second); this process
    publishes to the same broker."""
    with celery_worker(wechat_sandbox.url, tmp_path, beat=True):
        yield


@pytest.mark.timeout(120)
@pytest.mark.usefixtures("worker_and_beat")
def test_a_shipped_order_becomes_shipped_at_wechat_and_its_receipt_is_confirmed(wechat_sandbox, settings):
    settings.WXLOGISTICS = {**settings.WXLOGISTICS, "SHIPPING_ACTIONS": ACTIONS, "ORDER_ID_ATTR": "number"}
    wechat_sandbox.configure_merchant(confirm_on_reminder=True)
    # Paid a moment ago: WeChat does not know the payment for its first seconds.
    payment = wechat_sandbox.create_payment(unknown_for=2)
    tid = payment["transaction_id"]
    order = PaidOrder("SO-E2E", wechat_transaction_id=tid, payer_openid=payment["openid"])

    with transaction.atomic():
        send(order, "paid", "shipped")
        send(order, "shipped", "delivered")
    assert [i.state for i in ShippingInfo.objects.order_by("pk")] == [EventState.PENDING] * 2

    wait_until(lambda: wechat_sandbox.payment(tid)["order_state"] == CONFIRMED, timeout=60)
    calls = [(c["api"], (c["reply"] or {}).get("errcode")) for c in wechat_sandbox.payment_calls(tid)]
    # The upload met the unknown payment first (10060001), then went; the confirmation after it.
    assert calls[0] == ("upload_shipping_info", 10060001)
    assert [api for api, errcode in calls if errcode == 0] == [
        "upload_shipping_info",
        "notify_confirm_receive",
    ]
    wait_until(lambda: not ShippingInfo.objects.exclude(state=EventState.SENT).exists())

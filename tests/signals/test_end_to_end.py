"""From the example shop's admin to the sandbox's trace page, through a real Celery worker."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import requests
from django.db import transaction
from django.urls import reverse

from django_wxlogistics.enums import ActionType, EventState
from django_wxlogistics.models import TraceEvent
from example_project.shop.models import Order
from tests.factories import OrderFactory, WaybillFactory
from tests.workers import celery_worker

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker(wechat_sandbox, tmp_path) -> Iterator[None]:
    """redis-server and one Celery worker on it; this process publishes to the same broker."""
    with celery_worker(wechat_sandbox.url, tmp_path):
        yield


def wait_until(condition, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise TimeoutError(f"not true after {timeout} s")


@pytest.mark.timeout(120)
def test_an_admin_status_change_reaches_the_sandbox_and_a_rollback_does_not(
    worker, wechat_sandbox, admin_client
):
    order = OrderFactory(courier_name="邓丽君", courier_phone="18666666666")
    waybills = [WaybillFactory(order_id=order.number) for _ in range(2)]
    for waybill in waybills:
        wechat_sandbox.register_waybill(waybill.waybill_id, waybill.token)

    with pytest.raises(RuntimeError), transaction.atomic():
        order.set_status(Order.Status.DELIVERED)
        raise RuntimeError("the shop's transaction fails")

    admin_client.post(
        reverse("admin:shop_order_changelist"),
        {"action": "mark_out_for_delivery", "_selected_action": [order.pk]},
    )
    wait_until(lambda: len(wechat_sandbox.calls(api="logistics.updatePath")) >= 2)
    time.sleep(0.5)  # anything else the worker might still push would arrive now
    pushed = wechat_sandbox.calls(api="logistics.updatePath")
    message = "快递员 邓丽君 [18666666666] 正在派送您的包裹"
    assert sorted(
        (c["body"]["waybill_id"], c["body"]["action_type"], c["body"]["action_msg"]) for c in pushed
    ) == [(w.waybill_id, ActionType.OUT_FOR_DELIVERY, message) for w in waybills]
    wait_until(lambda: not TraceEvent.objects.exclude(state=EventState.SENT).exists())
    assert TraceEvent.objects.count() == 2  # the rolled-back "delivered" left nothing
    page = requests.get(wechat_sandbox.trace_url(waybills[0].waybill_id), timeout=5)
    assert message in page.text

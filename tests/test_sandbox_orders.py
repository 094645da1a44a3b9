"""An order placed in the sandbox becomes a waybill with its Token through the real events
endpoint (a live server), and the shop's status changes reach the sandbox with that Token."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.urls import reverse

from django_wxlogistics.enums import ActionType
from django_wxlogistics.models import InboundEvent, Waybill
from django_wxlogistics.sandbox import SandboxControl, SandboxControlError
from example_project.shop.models import Order

pytestmark = pytest.mark.django_db(transaction=True)

MODES = [("json", "safe"), ("xml", "safe"), ("json", "plain"), ("xml", "plain")]


@pytest.fixture
def shop(wechat_sandbox: SandboxControl, live_server, settings) -> Iterator[SandboxControl]:
    """The example shop's events URL, served for real; its order hook on; pushes run here."""
    from django_wxlogistics.tasks import push_trace_event

    settings.WXLOGISTICS = {
        **settings.WXLOGISTICS,
        "WAYBILL_ORDER_HANDLER": "example_project.shop.wechat_orders.order_from_wechat",
    }
    wechat_sandbox.configure_push(url=live_server.url + reverse("wxlogistics:events"))
    push_trace_event.app.conf.task_always_eager = True
    try:
        yield wechat_sandbox
    finally:
        push_trace_event.app.conf.task_always_eager = False


@pytest.mark.parametrize(("fmt", "mode"), MODES)
def test_an_order_placed_in_the_sandbox_is_pushed_along(shop, settings, fmt, mode):
    shop.configure_push(format=fmt, mode=mode)
    assert shop.push_config()["token"] == "***"  # the fixture took the settings' PUSH_TOKEN
    placed = shop.place_order("SO-E2E-1", receiver={"Name": "李雷", "Mobile": "13800000000"})

    waybill = Waybill.objects.get(waybill_id=placed["waybill_id"])
    assert waybill.token == placed["token"]
    order = Order.objects.get(number="SO-E2E-1")
    assert waybill.order_id == order.number and order.customer_name == "李雷"
    assert order.status == Order.Status.PAID

    order.set_status(Order.Status.SHIPPED)
    [call] = shop.calls(api="logistics.updatePath", waybill_id=waybill.waybill_id)
    assert call["body"]["token"] == placed["token"]
    assert call["reply"] == {"errcode": 0, "errmsg": "ok"}
    assert [e["action_type"] for e in shop.trace(waybill.waybill_id)] == [ActionType.PICKED_UP]


def test_a_duplicate_push_creates_nothing_new(shop):
    placed = shop.place_order("SO-E2E-D", fault="concurrent_duplicate")
    assert placed["waybill_ids"] == [placed["waybill_id"]]
    again = shop.repeat_order("SO-E2E-D")
    assert again["waybill_id"] == placed["waybill_id"]
    assert Waybill.objects.count() == 1 and Order.objects.filter(number="SO-E2E-D").count() == 1
    assert len(shop.pushes(order_id="SO-E2E-D")) == 3


def test_a_cancelled_order_reaches_the_trace(shop):
    placed = shop.place_order("SO-E2E-C")
    cancelled = shop.cancel_order("SO-E2E-C")
    assert cancelled["state"] == "cancelled"
    assert Waybill.objects.get(waybill_id=placed["waybill_id"]).is_cancelled
    trace = shop.trace(placed["waybill_id"])
    assert [e["action_type"] for e in trace] == [ActionType.CANCELLED]


@pytest.mark.parametrize("fault", ["bad_signature", "wrong_appid", "stale_timestamp"])
def test_the_endpoint_refuses_what_it_cannot_trust(shop, fault):
    with pytest.raises(SandboxControlError, match="HTTP 403") as refused:
        shop.place_order("SO-E2E-F", fault=fault)
    assert refused.value.data["order"]["state"] == "failed"
    assert not Waybill.objects.exists() and not Order.objects.exists()
    assert InboundEvent.objects.count() == 1  # stored, judged, nothing processed


def test_the_shop_s_hook_refuses_an_order_number_it_cannot_keep(shop):
    with pytest.raises(SandboxControlError, match="ResultCode -1") as refused:
        shop.place_order("SO-" + "9" * 40)
    assert refused.value.data["order"]["result_msg"] == "The order number is longer than the shop keeps."
    assert not Waybill.objects.exists() and not Order.objects.exists()

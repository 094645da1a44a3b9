"""WeChat places an order, the shop moves it along, WeChat sees each step: the whole path on real HTTP.

The sandbox pushes ``add_waybill`` to the shop's events URL (a live server), the waybill is
registered with the order's Token, the shop's staff change the order's status, a Celery
worker pushes the trace event, and the sandbox receives ``updatePath`` with that Token.
"""

from __future__ import annotations

import pytest

from django_wxlogistics.enums import ActionType, PushVerdict
from django_wxlogistics.models import InboundEvent, Waybill
from example_project.shop.models import Order
from tests.events.pushes import APPID, KEY, TOKEN, push_settings
from tests.signals.test_end_to_end import wait_until, worker  # noqa: F401 (the worker fixture)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.mark.timeout(120)
@pytest.mark.parametrize(("fmt", "mode"), [("json", "safe"), ("xml", "plain")])
def test_an_order_placed_on_wechat_reaches_wechat_again_with_its_token(
    worker,  # noqa: F811
    wechat_sandbox,
    live_server,
    settings,
    fmt,
    mode,
):
    settings.WXLOGISTICS = push_settings(
        API_BASE_URL=wechat_sandbox.url,
        WAYBILL_ORDER_HANDLER="example_project.shop.wechat_orders.order_from_wechat",
    )
    wechat_sandbox.configure_push(
        url=f"{live_server.url}/wxlogistics/events/",
        token=TOKEN,
        aes_key=KEY,
        appid=APPID,
        format=fmt,
        mode=mode,
    )

    placed = wechat_sandbox.place_order("SO-E2E-0001")

    waybill = Waybill.objects.get(waybill_id=placed["waybill_id"])
    assert waybill.token == placed["token"] and waybill.order_id == "SO-E2E-0001"
    inbound = InboundEvent.objects.get()
    assert (inbound.verdict, inbound.safe_mode, inbound.body_format) == (PushVerdict.OK, mode == "safe", fmt)

    Order.objects.get(number="SO-E2E-0001").set_status(Order.Status.SHIPPED)

    [call] = wait_until(lambda: wechat_sandbox.calls(api="logistics.updatePath"))
    assert call["body"]["waybill_id"] == placed["waybill_id"]
    assert call["body"]["token"] == placed["token"]
    assert call["body"]["action_type"] == ActionType.PICKED_UP
    assert call["status"] == 200
    assert wechat_sandbox.trace(placed["waybill_id"])[0]["action_type"] == ActionType.PICKED_UP

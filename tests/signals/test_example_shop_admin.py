"""The example shop's admin: its status changes reach WeChat through our signal."""

from __future__ import annotations

import pytest
from django.urls import reverse

from django_wxlogistics.enums import ActionType
from django_wxlogistics.models import TraceEvent
from example_project.shop.models import Order
from tests.factories import OrderFactory, WaybillFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(admin_client):
    return admin_client


def change_form_data(order, **changes):
    data = {
        "number": order.number,
        "status": order.status,
        "customer_name": order.customer_name,
        "courier_name": order.courier_name,
        "courier_phone": order.courier_phone,
    }
    return {**data, **changes}


@pytest.mark.parametrize(
    ("action", "action_type"),
    [
        ("mark_shipped", ActionType.PICKED_UP),
        ("mark_out_for_delivery", ActionType.OUT_FOR_DELIVERY),
        ("mark_delivered", ActionType.SIGNED),
    ],
)
def test_admin_actions_record_an_event_per_waybill(staff, order, waybills, action, action_type):
    bare = OrderFactory()  # no waybill: its status changes, nothing is pushed
    response = staff.post(
        reverse("admin:shop_order_changelist"),
        {"action": action, "_selected_action": [order.pk, bare.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert "2 orders marked" in response.content.decode()
    assert set(TraceEvent.objects.values_list("waybill_id", "action_type")) == {
        (w.pk, action_type) for w in waybills
    }


def test_an_action_on_orders_already_in_that_status_does_nothing(staff, order, waybills):
    order.set_status(Order.Status.SHIPPED)
    staff.post(
        reverse("admin:shop_order_changelist"), {"action": "mark_shipped", "_selected_action": [order.pk]}
    )
    assert TraceEvent.objects.count() == 2


def test_changing_the_status_in_the_change_form(staff, order, waybills):
    url = reverse("admin:shop_order_change", args=[order.pk])
    response = staff.post(url, change_form_data(order, status="out_for_delivery"))
    assert response.status_code == 302
    assert set(TraceEvent.objects.values_list("action_msg", flat=True)) == {
        f"快递员 {order.courier_name} [{order.courier_phone}] 正在派送您的包裹"
    }
    staff.post(url, change_form_data(order, status="out_for_delivery", customer_name="Han Meimei"))
    assert TraceEvent.objects.count() == 2  # saved again, status unchanged: nothing new


def test_the_change_form_lists_the_waybills(staff, order, waybills):
    html = staff.get(reverse("admin:shop_order_change", args=[order.pk])).content.decode()
    for waybill in waybills:
        assert reverse("admin:django_wxlogistics_waybill_change", args=[waybill.pk]) in html
        assert waybill.waybill_id in html
        assert waybill.token not in html


def test_the_list_links_to_the_orders_waybills(staff, order, waybills):
    WaybillFactory(order_id="someone-else")
    html = staff.get(reverse("admin:shop_order_changelist")).content.decode()
    link = reverse("admin:django_wxlogistics_waybill_changelist") + f"?order_id={order.number}"
    assert f'<a href="{link}">2</a>' in html
    listing = staff.get(link).content.decode()
    assert all(w.waybill_id in listing for w in waybills)
    assert "someone-else" not in listing

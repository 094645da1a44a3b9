"""The example shop's order page: the payer's openid and the receiver's phone masked as the app
masks personal data, shown whole to holders of the app's ``view_contact`` permission, and each
such reveal recorded as a contact access of the order's waybill."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client

from django_wxlogistics.enums import AccessChannel
from django_wxlogistics.models import ContactAccess
from example_project.shop.models import Order
from tests.factories import OrderFactory, WaybillFactory

pytestmark = pytest.mark.django_db

OPENID, PHONE = "oPayer0000000000000000000001", "18610000000"
MASKED_OPENID, MASKED_PHONE = "oPa****0001", "186****0000"


def _staff(*codenames: str) -> Client:
    user = User.objects.create_user("clerk", password="pw", is_staff=True)
    for codename in ("view_order", "change_order", *codenames):
        user.user_permissions.add(Permission.objects.get(codename=codename))
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def _order(*, with_waybill: bool = True) -> Order:
    order = OrderFactory(
        payer_openid=OPENID,
        receiver_phone=PHONE,
        wechat_transaction_id="4200000000000000000000000001",
        tracking_number="SF1000000000001",
        carrier_code="SF",
        item_desc="茶叶*1",
    )
    if with_waybill:
        WaybillFactory(order_id=order.number, waybill_id="SF1000000000001")
    return order


def test_without_the_contact_permission_the_openid_and_phone_are_masked_and_kept_on_save() -> None:
    order = _order()
    client = _staff()
    page = client.get(f"/admin/shop/order/{order.pk}/change/").content.decode()
    assert MASKED_OPENID in page and MASKED_PHONE in page
    assert OPENID not in page and PHONE not in page
    assert not ContactAccess.objects.exists()  # nothing revealed, nothing recorded

    # The masked fields are read-only: saving the page changes the status, not them.
    reply = client.post(
        f"/admin/shop/order/{order.pk}/change/",
        {
            "number": order.number,
            "status": Order.Status.SHIPPED,
            "customer_name": order.customer_name,
            "courier_name": order.courier_name,
            "courier_phone": order.courier_phone,
            "wechat_transaction_id": order.wechat_transaction_id,
            "tracking_number": order.tracking_number,
            "carrier_code": order.carrier_code,
            "item_desc": order.item_desc,
            "_save": "1",
        },
    )
    assert reply.status_code == 302, reply.content.decode()[-2000:]
    order.refresh_from_db()
    assert (order.status, order.payer_openid, order.receiver_phone) == (Order.Status.SHIPPED, OPENID, PHONE)


def test_with_the_contact_permission_they_are_shown_whole_and_the_reveal_is_recorded() -> None:
    order = _order()
    client = _staff("view_contact")
    page = client.get(f"/admin/shop/order/{order.pk}/change/").content.decode()
    assert f'value="{OPENID}"' in page and f'value="{PHONE}"' in page
    access = ContactAccess.objects.get()
    assert (access.waybill.order_id, access.username, access.channel) == (
        order.number,
        "clerk",
        AccessChannel.ADMIN,
    )


def test_an_order_with_no_waybill_to_record_a_reveal_against_stays_masked() -> None:
    order = _order(with_waybill=False)
    page = _staff("view_contact").get(f"/admin/shop/order/{order.pk}/change/").content.decode()
    assert MASKED_OPENID in page and MASKED_PHONE in page
    assert OPENID not in page and PHONE not in page
    assert not ContactAccess.objects.exists()


def test_a_new_orders_form_takes_the_openid_and_phone() -> None:
    page = _staff("add_order").get("/admin/shop/order/add/").content.decode()
    assert 'name="payer_openid"' in page and 'name="receiver_phone"' in page

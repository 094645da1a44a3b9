from __future__ import annotations

import pytest

from example_project.shop.models import Order
from tests.factories import OrderFactory, WaybillFactory


@pytest.fixture
def order(db) -> Order:
    return OrderFactory(status=Order.Status.PAID)


@pytest.fixture
def waybills(order):
    """A split shipment: two waybills for the order."""
    return [WaybillFactory(order_id=order.number), WaybillFactory(order_id=order.number)]

from __future__ import annotations

import factory
from django.utils import timezone

from django_wxlogistics.enums import ActionType, EventState
from django_wxlogistics.models import TraceEvent, Waybill
from example_project.shop.models import Order


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    number = factory.Sequence(lambda n: f"SO{n:08d}")
    status = Order.Status.PAID
    customer_name = factory.Faker("name")
    courier_name = "邓丽君"
    courier_phone = "18666666666"


class WaybillFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Waybill

    waybill_id = factory.Sequence(lambda n: f"SF{n:012d}")
    token = factory.Sequence(lambda n: f"wbtoken-{n:06d}-secret")
    order_id = factory.Sequence(lambda n: f"SO{n:08d}")


class TraceEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TraceEvent

    waybill = factory.SubFactory(WaybillFactory)
    action_type = ActionType.PICKED_UP
    action_msg = "您的包裹已揽收"
    action_time = factory.LazyFunction(timezone.now)
    state = EventState.PENDING

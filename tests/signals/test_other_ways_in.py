"""The two ways in for shops that send no signal of ours: LISTEN_TO and ORDER_MODEL."""

from __future__ import annotations

import pytest
from django.core.checks import run_checks
from django.db import transaction
from django.test import override_settings

from django_wxlogistics.enums import ActionType
from django_wxlogistics.models import TraceEvent
from django_wxlogistics.signals import order_status_changed
from example_project.shop.models import Order
from tests.factories import OrderFactory, WaybillFactory
from tests.signals import shop_signals

from .test_messages import integration_ids

pytestmark = pytest.mark.django_db

SETTINGS = {
    "APPID": "wxtest",
    "APPSECRET": "s",
    "ORDER_ID_ATTR": "number",
    "STATUS_ACTIONS": {"shipped": 100001, "delivered": 300003},
}


def wx(**extra):
    return override_settings(WXLOGISTICS={**SETTINGS, **extra})


class TestListenTo:
    def test_the_shops_own_signal_records_events(self, order, waybills):
        with wx(LISTEN_TO=["tests.signals.shop_signals.order_status_changed"]):
            shop_signals.order_status_changed.send(
                sender=Order, order=order, old_status="paid", new_status="shipped"
            )
        assert TraceEvent.objects.filter(action_type=ActionType.PICKED_UP).count() == 2

    def test_it_is_disconnected_when_the_setting_goes(self, order, waybills):
        with wx(LISTEN_TO=["tests.signals.shop_signals.order_status_changed"]):
            pass
        shop_signals.order_status_changed.send(
            sender=Order, order=order, old_status="paid", new_status="shipped"
        )
        assert not TraceEvent.objects.exists()

    def test_our_own_signal_in_listen_to_is_not_heard_twice(self, order, waybills):
        with wx(LISTEN_TO=["django_wxlogistics.signals.order_status_changed"]):
            order_status_changed.send(sender=Order, order=order, old_status="paid", new_status="delivered")
        assert TraceEvent.objects.count() == 2

    def test_an_unimportable_path_is_a_check_error_with_a_hint(self):
        with wx(LISTEN_TO=["oscar.apps.order.signals.order_status_changed"]):
            (error,) = [m for m in run_checks() if m.id == "wxlogistics.E035"]
        assert "cannot be imported" in error.msg
        assert "dotted path of a Signal" in error.hint

    def test_a_path_to_something_else_is_a_check_error(self):
        with wx(LISTEN_TO=["tests.signals.shop_signals.not_a_signal"]):
            assert integration_ids(run_checks()) == ["wxlogistics.E035"]

    def test_a_string_instead_of_a_list_is_a_check_error(self):
        with wx(LISTEN_TO="tests.signals.shop_signals.order_status_changed"):
            assert integration_ids(run_checks()) == ["wxlogistics.E034"]


@pytest.fixture
def watched():
    with wx(ORDER_MODEL="shop.Order", STATUS_FIELD="status"):
        yield


@pytest.mark.usefixtures("watched")
class TestOrderModel:
    def test_a_changed_status_records_events(self, order, waybills):
        order.status = Order.Status.SHIPPED
        order.save()
        assert TraceEvent.objects.filter(action_type=ActionType.PICKED_UP).count() == 2

    def test_our_signal_is_sent_for_the_shops_own_receivers(self, order):
        heard = []

        def receiver(sender, order, old_status, new_status, **kwargs):
            heard.append((sender, order, old_status, new_status))

        order_status_changed.connect(receiver)
        try:
            order.status = Order.Status.DELIVERED
            order.save()
        finally:
            order_status_changed.disconnect(receiver)
        assert heard == [(Order, order, "paid", "delivered")]

    def test_a_save_without_a_change_does_nothing(self, order, waybills, django_assert_num_queries):
        order.status = Order.Status.SHIPPED
        order.save()
        order.customer_name = "Li Lei"
        with django_assert_num_queries(2):  # our SELECT of the stored status, the shop's UPDATE
            order.save()
        assert TraceEvent.objects.count() == 2

    def test_update_fields_without_the_status_costs_no_query(
        self, order, waybills, django_assert_num_queries
    ):
        order.status = Order.Status.SHIPPED  # not saved: update_fields leaves it out
        with django_assert_num_queries(1):
            order.save(update_fields=["customer_name"])
        assert not TraceEvent.objects.exists()

    def test_the_stored_value_counts_not_the_loaded_one(self, order, waybills):
        stale = Order.objects.get(pk=order.pk)
        Order.objects.filter(pk=order.pk).update(status=Order.Status.SHIPPED)  # sends no signal
        assert not TraceEvent.objects.exists()
        stale.status = Order.Status.SHIPPED
        stale.save()  # the database already says shipped: no change, no event
        assert not TraceEvent.objects.exists()

    def test_a_new_order_with_a_mapped_status_and_a_registered_waybill(self, db):
        WaybillFactory(order_id="SO-IMPORTED")
        OrderFactory(number="SO-IMPORTED", status=Order.Status.SHIPPED)
        assert TraceEvent.objects.get().action_type == ActionType.PICKED_UP

    def test_a_new_order_without_waybill_does_nothing(self, db):
        OrderFactory(status=Order.Status.SHIPPED)
        assert not TraceEvent.objects.exists()

    def test_the_shop_sending_the_signal_too_records_one_event(self, order, waybills):
        order.set_status(Order.Status.SHIPPED)  # saves (watched) and sends our signal
        assert TraceEvent.objects.count() == 2

    def test_a_rollback_leaves_no_event_and_no_push(
        self, order, waybills, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks() as nudges:
            with pytest.raises(RuntimeError), transaction.atomic():
                order.status = Order.Status.SHIPPED
                order.save()
                raise RuntimeError("payment capture failed")
        assert not TraceEvent.objects.exists()
        assert nudges == []

    def test_fixtures_loaded_raw_do_nothing(self, order, waybills):
        from django.db.models.signals import post_save, pre_save

        order.status = Order.Status.SHIPPED
        pre_save.send(sender=Order, instance=order, raw=True, using="default", update_fields=None)
        post_save.send(
            sender=Order, instance=order, created=False, raw=True, using="default", update_fields=None
        )
        assert not TraceEvent.objects.exists()


class TestOrderModelChecks:
    def test_unknown_model(self):
        with wx(ORDER_MODEL="shop.Orders"):
            (error,) = [m for m in run_checks() if m.id == "wxlogistics.E036"]
        assert "'shop.Orders'" in error.msg
        assert "app_label.ModelName" in error.hint

    def test_unknown_status_field(self):
        with wx(ORDER_MODEL="shop.Order", STATUS_FIELD="state"):
            (error,) = [m for m in run_checks() if m.id == "wxlogistics.E037"]
        assert "'state'" in error.msg
        assert "status" in error.hint

    def test_unknown_order_id_attr(self):
        with wx(ORDER_MODEL="shop.Order", ORDER_ID_ATTR="reference"):
            assert integration_ids(run_checks()) == ["wxlogistics.W031"]

    def test_a_bad_status_field_watches_nothing(self, order, waybills):
        with wx(ORDER_MODEL="shop.Order", STATUS_FIELD="state"):
            order.status = Order.Status.SHIPPED
            order.save()
        assert not TraceEvent.objects.exists()

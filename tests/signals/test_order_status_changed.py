"""The shop sends our ``order_status_changed``: one trace event per waybill, or nothing."""

from __future__ import annotations

import logging

import pytest
from django.db import connection, transaction
from django.test import override_settings
from django.utils.translation import gettext_lazy

from django_wxlogistics.enums import ActionType, EventState
from django_wxlogistics.models import TraceEvent
from django_wxlogistics.signals import order_status_changed
from example_project.shop.models import Order
from tests.factories import OrderFactory, WaybillFactory

pytestmark = pytest.mark.django_db


def send(order, old_status, new_status):
    order_status_changed.send(sender=Order, order=order, old_status=old_status, new_status=new_status)


def test_each_waybill_of_the_order_gets_the_event(order, waybills, django_capture_on_commit_callbacks):
    other = WaybillFactory(order_id="another-order")
    with django_capture_on_commit_callbacks() as nudges:
        send(order, "paid", "shipped")
    events = list(TraceEvent.objects.order_by("waybill_id"))
    assert [e.waybill for e in events] == waybills
    assert {e.action_type for e in events} == {ActionType.PICKED_UP}
    assert {e.action_msg for e in events} == {"Your parcel has been picked up by the courier."}
    assert {e.state for e in events} == {EventState.PENDING}
    assert events[0].action_time == events[1].action_time
    assert not other.events.exists()
    # One nudge for the shop's transaction, once it commits, naming both events.
    assert len(nudges) == 1
    assert sorted(pk for _, pk in nudges[0].first.values()) == sorted(e.pk for e in events)


def test_the_template_shows_the_courier_and_the_waybill(order, waybills):
    order.courier_name, order.courier_phone = "邓丽君", "18666666666"
    send(order, "shipped", "out_for_delivery")
    assert [e.action_msg for e in TraceEvent.objects.order_by("waybill_id")] == [
        "快递员 邓丽君 [18666666666] 正在派送您的包裹",
        "快递员 邓丽君 [18666666666] 正在派送您的包裹",
    ]
    assert {e.action_type for e in TraceEvent.objects.all()} == {ActionType.OUT_FOR_DELIVERY}


@override_settings(
    WXLOGISTICS={
        "STATUS_ACTIONS": {
            "shipped": {"action_type": 100001, "message": "{waybill} of order {order}: {status}"}
        },
        "ORDER_ID_ATTR": "number",
    }
)
def test_a_template_can_show_each_waybill(order, waybills):
    send(order, "paid", "shipped")
    assert sorted(TraceEvent.objects.values_list("action_msg", flat=True)) == sorted(
        f"{w.waybill_id} of order {order.number}: shipped" for w in waybills
    )


def test_an_unmapped_status_does_nothing(order, waybills, caplog, django_assert_num_queries):
    caplog.set_level(logging.DEBUG, logger="django_wxlogistics")
    with django_assert_num_queries(0):
        send(order, "pending", "paid")
    assert not TraceEvent.objects.exists()
    assert "'paid' is not in WXLOGISTICS['STATUS_ACTIONS']" in caplog.text


def test_an_order_without_waybill_does_nothing(order, caplog):
    caplog.set_level(logging.DEBUG, logger="django_wxlogistics")
    send(order, "paid", "shipped")
    assert not TraceEvent.objects.exists()
    assert f"Order {order.number} has no waybill" in caplog.text


def test_an_unchanged_status_does_nothing(order, waybills, django_assert_num_queries):
    with django_assert_num_queries(0):
        send(order, "shipped", "shipped")
    assert not TraceEvent.objects.exists()


def test_the_same_new_status_twice_records_one_event(order, waybills, caplog):
    caplog.set_level(logging.DEBUG, logger="django_wxlogistics")
    send(order, "paid", "shipped")
    send(order, "paid", "shipped")  # e.g. the shop's signal and ORDER_MODEL both fire
    assert TraceEvent.objects.count() == 2
    assert "already has this" in caplog.text


def test_the_same_status_again_after_another_is_recorded(order, waybills):
    send(order, "paid", "shipped")
    send(order, "shipped", "delayed")
    send(order, "delayed", "shipped")
    assert list(TraceEvent.objects.filter(waybill=waybills[0]).values_list("action_type", flat=True)) == [
        ActionType.PICKED_UP,
        ActionType.DELAYED,
        ActionType.PICKED_UP,
    ]


def test_a_new_courier_is_news_for_the_same_action(order, waybills):
    order.courier_name, order.courier_phone = "邓丽君", "18666666666"
    send(order, "shipped", "out_for_delivery")
    order.courier_name, order.courier_phone = "王菲", "13900000000"
    send(order, "out_for_delivery", "out_for_delivery_again")  # unmapped: nothing
    send(order, "delivery_failed", "out_for_delivery")
    msgs = list(TraceEvent.objects.filter(waybill=waybills[0]).values_list("action_msg", flat=True))
    assert msgs == [
        "快递员 邓丽君 [18666666666] 正在派送您的包裹",
        "快递员 王菲 [13900000000] 正在派送您的包裹",
    ]


def test_a_rollback_of_the_shops_transaction_leaves_no_event_and_no_push(
    order, waybills, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as nudges:
        with pytest.raises(RuntimeError), transaction.atomic():
            order.set_status(Order.Status.SHIPPED)
            assert TraceEvent.objects.count() == 2  # recorded inside the shop's transaction
            raise RuntimeError("the shop's save fails after the status change")
    assert not TraceEvent.objects.exists()
    assert nudges == []
    order.refresh_from_db()
    assert order.status == Order.Status.PAID


def test_an_error_never_breaks_the_shops_save_and_is_logged(waybills, caplog):
    class Shipment:  # an order object without the ORDER_ID_ATTR attribute ("number")
        pk = 7

    with transaction.atomic():
        send(Shipment(), "paid", "shipped")
        assert Order.objects.count() == 1  # the shop's transaction is still usable
    record = next(r for r in caplog.records if r.levelno == logging.ERROR)
    assert "was NOT recorded" in record.getMessage()
    assert "Shipment(pk=7)" in record.getMessage()
    assert record.exc_info is not None
    assert "ORDER_ID_ATTR" in str(record.exc_info[1])


@pytest.fixture
def failing_event_insert(db):
    """A real database error on every TraceEvent INSERT."""
    table = TraceEvent._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "CREATE FUNCTION wxl_test_refuse() RETURNS trigger AS $$ BEGIN "
                "RAISE EXCEPTION 'disk full'; END; $$ LANGUAGE plpgsql"
            )
            cursor.execute(
                f"CREATE TRIGGER wxl_test_refuse BEFORE INSERT ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION wxl_test_refuse()"
            )
        else:
            cursor.execute(
                f"CREATE TRIGGER wxl_test_refuse BEFORE INSERT ON {table} "
                "BEGIN SELECT RAISE(ABORT, 'disk full'); END"
            )


def test_a_database_error_rolls_back_only_our_savepoint(order, waybills, failing_event_insert, caplog):
    with transaction.atomic():
        order.set_status(Order.Status.SHIPPED)
        order.customer_name = "still saved"
        order.save()  # the shop's transaction goes on after our failed INSERT
    order.refresh_from_db()
    assert (order.status, order.customer_name) == ("shipped", "still saved")
    assert not TraceEvent.objects.exists()
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert f"order {order.number} from 'paid' to 'shipped' was NOT recorded" in errors[0].getMessage()
    assert "disk full" in str(errors[0].exc_info[1])


def test_no_secret_reaches_the_error_log(order, waybills, failing_event_insert, caplog):
    caplog.set_level(logging.DEBUG)
    order.set_status(Order.Status.SHIPPED)
    assert caplog.records
    for waybill in waybills:
        assert waybill.token not in caplog.text


@override_settings(LANGUAGE_CODE="zh-hans")
def test_messages_are_rendered_in_the_shops_language(order, waybills):
    # The staff member reads English; the customer reads the shop's language.
    from django.utils import translation

    order.courier_name = gettext_lazy("Yes")  # translated by Django's own catalog
    order.courier_phone = "18666666666"
    with translation.override("en"):
        send(order, "shipped", "out_for_delivery")
    assert TraceEvent.objects.first().action_msg == "快递员 是 [18666666666] 正在派送您的包裹"


def test_an_order_that_is_not_saved_yet_is_logged_not_raised(caplog):
    send(Order(number=""), "pending", "shipped")
    assert "The order's number is empty" in caplog.text


def test_oscar_style_integer_order_ids(db):
    with override_settings(WXLOGISTICS={"STATUS_ACTIONS": {"shipped": 100001}}):
        order = OrderFactory()
        WaybillFactory(order_id=str(order.pk))
        send(order, "paid", "shipped")
    assert TraceEvent.objects.get().waybill.order_id == str(order.pk)

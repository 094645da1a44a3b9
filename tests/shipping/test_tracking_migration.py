"""Migration 0008: the ``trace_waybill`` call and the ``waybill_token`` column, applied over 0007's
tables and unapplied again."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from django_wxlogistics.enums import ShippingCall
from django_wxlogistics.models import Payment, ShippingInfo

APP = "django_wxlogistics"


def _migrate(target: str) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([(APP, target)])


def _columns(table: str) -> set[str]:
    with connection.cursor() as cursor:
        return {column.name for column in connection.introspection.get_table_description(cursor, table)}


@pytest.mark.django_db(transaction=True)
def test_0008_adds_the_tracking_call_and_its_token():
    table = ShippingInfo._meta.db_table
    assert "waybill_token" in _columns(table)
    try:
        _migrate("0007_admin_list_indexes")
        assert "waybill_token" not in _columns(table)
    finally:
        _migrate("0008_waybill_tracking")
    assert "waybill_token" in _columns(table)

    payment = Payment.objects.create(order_id="SO-M1", transaction_id="4200000001")
    tracked = ShippingInfo.objects.create(
        payment=payment, order_id="SO-M1", call=ShippingCall.TRACE_WAYBILL, request={}, waybill_token="o_1"
    )
    assert ShippingInfo.objects.get(pk=tracked.pk).waybill_token == "o_1"
    # A token belongs to a tracking registration only; unknown calls stay refused.
    for fields in ({"call": ShippingCall.UPLOAD, "waybill_token": "o_2"}, {"call": "trace"}):
        with pytest.raises(IntegrityError), transaction.atomic():
            ShippingInfo.objects.create(payment=payment, order_id="SO-M1", request={}, **fields)

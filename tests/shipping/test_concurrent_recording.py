"""Two callers recording the same one-time call of a payment at once (PostgreSQL): the receipt
confirmation and the one re-upload, as the upload in test_records, are recorded once and the
other caller is refused saying why."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections, transaction

from django_wxlogistics import delivery, services
from django_wxlogistics.enums import ShippingCall
from django_wxlogistics.models import ShippingInfo
from tests.pipeline.processes import wait_until
from tests.shipping.helpers import deliver, upload_fields

pytestmark = pytest.mark.django_db(transaction=True)


def _confirm(payment: dict[str, Any], order: Any) -> ShippingInfo:
    return services.confirm_receipt(order)


def _reupload(payment: dict[str, Any], order: Any) -> ShippingInfo:
    parcel = {"tracking_no": "YT9876543210", "express_company": "YTO", "item_desc": "茶叶*1"}
    return services.record_shipping_info(
        order, reupload=True, **upload_fields(payment, shipping_list=[parcel])
    )


@pytest.mark.parametrize(
    ("record", "call", "field", "code"),
    [
        (_confirm, ShippingCall.CONFIRM_RECEIPT, "order", "confirmed_already"),
        (_reupload, ShippingCall.REUPLOAD, "order_key", "reupload_used"),
    ],
    ids=["confirm_receipt", "reupload"],
)
def test_two_callers_at_once_record_the_call_once(
    sandbox,
    payment,
    order,
    record: Callable[[dict[str, Any], Any], ShippingInfo],
    call: str,
    field: str,
    code: str,
):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has one writer at a time: the callers cannot overlap")
    upload = services.record_shipping_info(order, **upload_fields(payment))
    assert deliver(upload.pk, follow=False) is delivery.Outcome.SENT
    outcome: dict[str, object] = {}

    def other_caller() -> None:
        try:
            outcome["info"] = record(payment, order)
        except Exception as exc:
            outcome["error"] = exc
        finally:
            connections.close_all()

    with transaction.atomic():
        record(payment, order)
        thread = threading.Thread(target=other_caller)
        thread.start()
        with connection.cursor() as cursor:

            def waiting() -> bool:
                cursor.execute("SELECT pg_stat_clear_snapshot()")
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = %s",
                    [connection.settings_dict["NAME"]],
                )
                return cursor.fetchone()[0] > 0 or not thread.is_alive()

            wait_until(waiting, timeout=30)
        assert thread.is_alive(), outcome  # it waits for this transaction's lock on the payment
    thread.join(timeout=30)
    error = outcome.get("error")
    assert isinstance(error, ValidationError), outcome
    assert error.error_dict[field][0].code == code
    assert ShippingInfo.objects.filter(call=call).count() == 1

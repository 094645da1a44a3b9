"""A shipped order with ``TRACK_WAYBILLS`` through a real Celery worker: WeChat gets the upload,
then the parcel's registration, and the shop gets a ``waybill_token`` WeChat's tracking
component knows."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import transaction

from django_wxlogistics import services
from django_wxlogistics.client import get_client
from django_wxlogistics.enums import EventState, ShippingCall
from django_wxlogistics.models import ShippingInfo
from tests.pipeline.processes import Process, wait_until
from tests.shipping.test_status_changes import ACTIONS, send
from tests.shipping.test_tracking_registration import PHONE, TrackedOrder
from tests.workers import celery_worker

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker(wechat_sandbox, tmp_path) -> Iterator[Process]:
    """redis-server, one Celery worker and beat (the sweeper every second); this process
    publishes to the same broker."""
    with celery_worker(wechat_sandbox.url, tmp_path, beat=True) as process:
        yield process


@pytest.mark.timeout(120)
def test_a_shipped_order_is_uploaded_then_tracked_by_a_worker(wechat_sandbox, worker, settings):
    settings.WXLOGISTICS = {
        **settings.WXLOGISTICS,
        "SHIPPING_ACTIONS": ACTIONS,
        "ORDER_ID_ATTR": "number",
        "TRACK_WAYBILLS": True,
    }
    # Paid a moment ago: WeChat does not know the payment for its first second, and the
    # registration waits behind the upload's retry.
    payment = wechat_sandbox.create_payment(unknown_for=1)
    tid = payment["transaction_id"]
    order = TrackedOrder("SO-TE2E", wechat_transaction_id=tid, payer_openid=payment["openid"])
    with transaction.atomic():
        send(order, "paid", "shipped")
    assert list(ShippingInfo.objects.order_by("pk").values_list("call", "state")) == [
        (ShippingCall.UPLOAD, EventState.PENDING),
        (ShippingCall.TRACE_WAYBILL, EventState.PENDING),
    ]

    parcels = wait_until(lambda: services.waybill_tokens(order), timeout=60)
    calls = [(c["api"], (c["reply"] or {}).get("errcode")) for c in wechat_sandbox.payment_calls(tid)]
    assert calls[0] == ("upload_shipping_info", 10060001)
    assert [api for api, errcode in calls if errcode == 0] == ["upload_shipping_info", "trace_waybill"]
    (registered,) = wechat_sandbox.payment_calls(tid, api="trace_waybill")
    (parcel,) = parcels
    assert parcel.waybill_token == registered["reply"]["waybill_token"]
    assert get_client().query_trace(waybill_token=parcel.waybill_token).waybill_id == order.tracking_number
    assert PHONE not in worker.log_path.read_text(errors="replace")

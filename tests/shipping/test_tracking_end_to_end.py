"""A shipped order with ``TRACK_WAYBILLS`` through a real Celery worker: WeChat gets the upload,
then the parcel's registration, and the shop gets a ``waybill_token`` WeChat's tracking
component knows."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from django.db import connection, transaction

from django_wxlogistics import services
from django_wxlogistics.client import get_client
from django_wxlogistics.enums import EventState, ShippingCall
from django_wxlogistics.models import ShippingInfo
from tests.pipeline.processes import (
    ROOT,
    Process,
    celery_argv,
    free_port,
    redis_server,
    running,
    wait_for_log,
    wait_for_port,
    wait_until,
)
from tests.shipping.test_status_changes import ACTIONS, send
from tests.shipping.test_tracking_registration import PHONE, TrackedOrder

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


def _use_broker(app, url: str) -> None:
    # Fresh connection and producer pools, built from the new URL on first use.
    app.conf.broker_url = url
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def worker(wechat_sandbox, tmp_path) -> Iterator[Process]:
    """redis-server, one Celery worker and beat (the sweeper every second); this process
    publishes to the same broker."""
    from django_wxlogistics.tasks import push_shipping_info

    if connection.vendor != "postgresql":
        pytest.fail("this test needs PostgreSQL: the worker shares the test database")
    port = free_port()
    broker = f"redis://127.0.0.1:{port}/0"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.pipeline.worker_settings",
        "DATABASE_URL": _database_url(),
        "WXL_BROKER_URL": broker,
        "WXL_API_BASE_URL": wechat_sandbox.url,
        "WXL_SWEEP_INTERVAL": "1",
        "PYTHONPATH": str(ROOT),
    }
    argv = celery_argv("worker", "-P", "solo", "-l", "INFO", "--without-gossip", "--without-mingle")
    app = push_shipping_info.app
    old_broker = app.conf.broker_url
    started: list[Process] = []
    with running(started):
        started.append(redis_server(port, tmp_path).start())
        wait_for_port(port)
        started.append(Process("worker", argv, env, tmp_path).start())
        wait_for_log(started[-1], "ready.")
        beat = celery_argv("beat", "-l", "INFO", "-s", str(tmp_path / "beat-schedule"))
        started.append(Process("beat", beat, env, tmp_path).start())
        _use_broker(app, broker)
        try:
            yield started[1]
        finally:
            app.pool.force_close_all()
            _use_broker(app, old_broker)


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

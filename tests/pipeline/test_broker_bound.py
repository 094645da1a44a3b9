"""The shop's save never waits on the broker: real sockets that refuse, stay silent, drop
connection attempts or answer slowly, with the Redis and the AMQP transport.

The shop's Celery settings here carry long timeouts, as many do: the nudge's bound must not
depend on them. Bounds are asserted generously (the save used to wait 30 to 120 s and more).
"""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from django_wxlogistics.enums import ActionType, EventState
from django_wxlogistics.models import TraceEvent, Waybill
from django_wxlogistics.nudges import nudge_connection
from django_wxlogistics.services import nudge, record_trace_event
from django_wxlogistics.tasks import push_trace_event, sweep_due_events
from tests.factories import WaybillFactory
from tests.pipeline import brokers
from tests.pipeline.processes import free_port, redis_server, running, wait_for_port

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(120)]

#: Far more than the save may wait, far less than it used to.
BOUND = 10.0

#: What a shop's settings may already say: long timeouts and retries on timeout.
SHOP_TIMEOUT = 30
SHOP_TRANSPORT_OPTIONS = {
    "visibility_timeout": 3600,
    "socket_timeout": SHOP_TIMEOUT,
    "socket_connect_timeout": SHOP_TIMEOUT,
    "retry_on_timeout": True,
    "connect_timeout": SHOP_TIMEOUT,
    "read_timeout": SHOP_TIMEOUT,
    "write_timeout": SHOP_TIMEOUT,
}


def broker_url(transport: str, port: int) -> str:
    if transport == "redis":
        return f"redis://127.0.0.1:{port}/0"
    return f"pyamqp://guest:guest@127.0.0.1:{port}//"


@pytest.fixture
def use_broker() -> Iterator[Callable[[str], None]]:
    """Point the app at a broker URL, with the shop's long timeouts; restored afterwards."""
    app = push_trace_event.app
    conf = app.conf
    old = (conf.broker_url, conf.broker_transport_options, conf.broker_connection_timeout)

    def use(url: str) -> None:
        # New pools for the new URL; the old ones stay open for whoever holds them.
        app._pool = None
        app.amqp._producer_pool = None
        conf.broker_url = url
        conf.broker_transport_options = dict(SHOP_TRANSPORT_OPTIONS)
        conf.broker_connection_timeout = SHOP_TIMEOUT

    yield use
    app._pool = None
    app.amqp._producer_pool = None
    conf.broker_url, conf.broker_transport_options, conf.broker_connection_timeout = old


@pytest.fixture
def sandbox(wechat_sandbox, settings):
    settings.WXLOGISTICS = {**settings.WXLOGISTICS, "TIMEOUT": (1.0, 2.0), "LEASE_SECONDS": 10}
    return wechat_sandbox


@pytest.fixture
def waybill(sandbox) -> Waybill:
    waybill = WaybillFactory()
    sandbox.register_waybill(waybill.waybill_id, waybill.token)
    return waybill


def save_and_time(waybill: Waybill) -> tuple[TraceEvent, float]:
    """The shop's save: record an event and commit, which nudges; how long it took."""
    started = time.monotonic()
    with transaction.atomic():
        event = record_trace_event(waybill, ActionType.PICKED_UP, "已揽收")
    return event, time.monotonic() - started


def assert_the_sweeper_pushes(event: TraceEvent, sandbox) -> None:
    """The event stayed pending; a sweep interval later the sweeper's nudge gets it pushed."""
    event.refresh_from_db()
    assert event.state == EventState.PENDING
    assert event.attempts == 0
    # A sweep interval later (the sweep leaves events touched within one alone).
    TraceEvent.objects.filter(pk=event.pk).update(updated_at=timezone.now() - timedelta(minutes=1))
    app = push_trace_event.app
    app.conf.task_always_eager = True  # the sweeper's nudge runs the push here
    try:
        result = sweep_due_events()
    finally:
        app.conf.task_always_eager = False
    assert result["nudged"] == 1
    event.refresh_from_db()
    assert event.state == EventState.SENT
    assert [t["action_msg"] for t in sandbox.trace(event.waybill.waybill_id)] == ["已揽收"]


@pytest.mark.parametrize("transport", ["redis", "pyamqp"])
@pytest.mark.parametrize("behaviour", ["refusing", "silent", "dropping"])
def test_a_save_never_waits_on_the_broker(transport, behaviour, use_broker, waybill, sandbox, caplog):
    with brokers.BROKERS[behaviour]() as port:
        use_broker(broker_url(transport, port))
        with caplog.at_level(logging.WARNING, logger="django_wxlogistics"):
            event, waited = save_and_time(waybill)
    assert waited < BOUND
    assert "the sweeper will push them" in caplog.text
    assert_the_sweeper_pushes(event, sandbox)


@pytest.mark.parametrize(
    "delay",
    [
        pytest.param(3.0, id="each-answer-later-than-the-bound"),
        # Each answer within the socket timeout, a publish's dozen of them far beyond the bound:
        # only the wall clock bounds this one.
        pytest.param(0.75, id="each-answer-within-the-bound"),
    ],
)
def test_a_save_never_waits_on_a_slow_broker(delay, use_broker, waybill, sandbox, caplog):
    with brokers.slow_redis(delay) as port:
        use_broker(broker_url("redis", port))
        with caplog.at_level(logging.WARNING, logger="django_wxlogistics"):
            event, waited = save_and_time(waybill)
    assert waited < BOUND / 2  # a publish takes a dozen commands: 9 s and more without the bound
    assert "the sweeper will push them" in caplog.text
    assert_the_sweeper_pushes(event, sandbox)


@pytest.mark.parametrize(
    ("transport", "behaviour"),
    [
        ("redis", "silent"),
        ("redis", "dropping"),
        ("redis", "slow"),
        ("pyamqp", "silent"),
        ("pyamqp", "dropping"),
    ],
)
def test_the_nudge_connection_gives_up_by_itself(transport, behaviour, use_broker):
    """The socket timeouts, not only the caller's wait, end an attempt: the next nudge gets its turn.

    The shop's own settings, which the worker's connections use, stay as they are.
    """
    server = brokers.slow_redis(3.0) if behaviour == "slow" else brokers.BROKERS[behaviour]()
    with server as port:
        use_broker(broker_url(transport, port))
        app = push_trace_event.app
        connection = nudge_connection(app)
        started = time.monotonic()
        try:
            with pytest.raises(Exception):  # noqa: B017 (each transport raises its own)
                connection.ensure_connection(max_retries=0)
        finally:
            connection.release()
        assert time.monotonic() - started < BOUND
    assert app.conf.broker_transport_options == SHOP_TRANSPORT_OPTIONS
    assert app.conf.broker_connection_timeout == SHOP_TIMEOUT
    shop_connection = app.connection_for_write()
    assert shop_connection.transport_options["socket_timeout"] == SHOP_TIMEOUT
    assert shop_connection.connect_timeout == SHOP_TIMEOUT
    shop_connection.release()


def queued_event_ids(port: int) -> list[list[int]]:
    """The event ids each message in the Redis broker's queue names."""
    import redis

    client = redis.Redis(host="127.0.0.1", port=port)
    try:
        messages = [json.loads(raw) for raw in client.lrange("celery", 0, -1)]
    finally:
        client.close()
    named = []
    for message in messages:
        args = json.loads(base64.b64decode(message["body"]))[0][0]
        named.append(args if isinstance(args, list) else [args])
    return named


@pytest.mark.integration
def test_a_nudge_reaches_a_broker_that_answers(use_broker, waybill, tmp_path):
    port = free_port()
    with running([redis_server(port, tmp_path).start()]):
        wait_for_port(port)
        use_broker(broker_url("redis", port))
        event, _ = save_and_time(waybill)
        assert queued_event_ids(port) == [[event.pk]]


@pytest.mark.integration
def test_nudges_go_out_again_once_the_broker_answers(use_broker, waybill, tmp_path, caplog):
    port = free_port()
    with brokers.silent(port):
        use_broker(broker_url("redis", port))
        with caplog.at_level(logging.WARNING, logger="django_wxlogistics"):
            event, waited = save_and_time(waybill)
        assert waited < BOUND
        assert "the sweeper will push them" in caplog.text
    with running([redis_server(port, tmp_path).start()]):
        wait_for_port(port)
        # The attempt on the silent broker ends by its own timeouts; then nudges go out again.
        deadline = time.monotonic() + 60
        while nudge([event.pk]) == 0 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert queued_event_ids(port) == [[event.pk]]

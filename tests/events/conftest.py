from __future__ import annotations

import pytest

from django_wxlogistics.events import inbound
from django_wxlogistics.signals import (
    wechat_api_access_reminder,
    wechat_order_settled,
    wechat_shipping_reminder,
)
from tests.events.pushes import NOW, WeChat, push_settings


@pytest.fixture
def push_clock(monkeypatch):
    """The endpoint's clock, stopped at the pushes' timestamp."""
    monkeypatch.setattr(inbound, "clock", lambda: float(NOW))


@pytest.fixture
def wechat(db, client, settings, push_clock) -> WeChat:
    settings.WXLOGISTICS = push_settings()
    return WeChat(client)


@pytest.fixture
def received():
    """Every (signal name, arguments) sent while the test runs (by any thread, the live server's too)."""
    calls: list[tuple[str, dict]] = []
    signals = {
        "settled": wechat_order_settled,
        "shipping": wechat_shipping_reminder,
        "access": wechat_api_access_reminder,
    }
    receivers = {}
    for name, signal in signals.items():

        def receiver(sender, name=name, **kwargs):
            calls.append((name, kwargs))

        receivers[name] = receiver
        signal.connect(receiver, weak=False)
    yield calls
    for name, signal in signals.items():
        signal.disconnect(receivers[name])

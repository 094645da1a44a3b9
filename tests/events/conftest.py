from __future__ import annotations

import pytest

from django_wxlogistics.events import inbound
from tests.events.pushes import NOW, WeChat, push_settings


@pytest.fixture
def push_clock(monkeypatch):
    """The endpoint's clock, stopped at the pushes' timestamp."""
    monkeypatch.setattr(inbound, "clock", lambda: float(NOW))


@pytest.fixture
def wechat(db, client, settings, push_clock) -> WeChat:
    settings.WXLOGISTICS = push_settings()
    return WeChat(client)

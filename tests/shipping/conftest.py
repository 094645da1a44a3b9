"""Fixtures of the merchant's side: a payment WeChat knows (the sandbox's), the shop's order it
paid for, the fields of its upload."""

from __future__ import annotations

from typing import Any

import pytest

from example_project.shop.models import Order
from tests.factories import OrderFactory
from tests.pipeline.conftest import both_paths  # noqa: F401  (the delivery tests run on both paths)


@pytest.fixture
def sandbox(wechat_sandbox, settings):
    """The sandbox, with fast retries so that a test can make a call due again at once."""
    settings.WXLOGISTICS = {
        **settings.WXLOGISTICS,
        "RETRY_BACKOFF_BASE": 0.001,
        "RETRY_BACKOFF_CAP": 0.001,
        "TIMEOUT": (1.0, 1.0),
        "LEASE_SECONDS": 10,
    }
    return wechat_sandbox


@pytest.fixture
def payment(sandbox) -> dict[str, Any]:
    """A payment the sandbox knows, paid a moment ago."""
    return sandbox.create_payment()


@pytest.fixture
def order(db) -> Order:
    return OrderFactory(status=Order.Status.PAID)

"""System checks of the delivery settings (wxlogistics.W020-W022)."""

from __future__ import annotations

import pytest
from celery import current_app

from django_wxlogistics.checks.delivery import check_delivery_settings


def _ids(settings, **wx):
    settings.WXLOGISTICS = {**settings.WXLOGISTICS, **wx}
    return [m.id for m in check_delivery_settings()]


def test_defaults_pass(settings):
    assert _ids(settings) == []


def test_cap_smaller_than_base(settings):
    assert _ids(settings, RETRY_BACKOFF_BASE=10, RETRY_BACKOFF_CAP=5) == ["wxlogistics.W020"]


def test_cap_over_an_hour(settings):
    assert _ids(settings, RETRY_BACKOFF_CAP=7200) == ["wxlogistics.W021"]


@pytest.fixture
def visibility_timeout():
    old = current_app.conf.broker_transport_options

    def set_(seconds):
        current_app.conf.broker_transport_options = {"visibility_timeout": seconds}

    yield set_
    current_app.conf.broker_transport_options = old


def test_visibility_timeout_shorter_than_the_lease(settings, visibility_timeout):
    visibility_timeout(30)
    assert _ids(settings, LEASE_SECONDS=60) == ["wxlogistics.W022"]
    [message] = check_delivery_settings()
    assert "visibility_timeout" in message.hint


def test_visibility_timeout_longer_than_the_lease(settings, visibility_timeout):
    visibility_timeout(3600)
    assert _ids(settings, LEASE_SECONDS=60) == []

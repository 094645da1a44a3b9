"""A contact lookup never waits forever on the cache's server: the W060 check, and the bound
its hint gives against real sockets that stay silent or drop connection attempts."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings
from rest_framework.test import APIClient

from django_wxlogistics.checks import check_settings
from django_wxlogistics.models import ContactAccess
from django_wxlogistics.sandbox.control import SandboxControl
from tests.factories import WaybillFactory
from tests.pipeline import brokers

REDIS = "django.core.cache.backends.redis.RedisCache"
DJANGO_REDIS = "django_redis.cache.RedisCache"
PYMEMCACHE = "django.core.cache.backends.memcached.PyMemcacheCache"
BOUNDED = {"socket_timeout": 1, "socket_connect_timeout": 1}


def w060(cache: dict[str, Any], **wxlogistics: Any) -> bool:
    with override_settings(CACHES={"default": cache}, WXLOGISTICS={**settings.WXLOGISTICS, **wxlogistics}):
        return any(message.id == "wxlogistics.W060" for message in check_settings())


@pytest.mark.parametrize(
    ("cache", "warned"),
    [
        ({"BACKEND": REDIS, "LOCATION": "redis://r:6379/0", "OPTIONS": {"socket_timeout": None}}, True),
        ({"BACKEND": REDIS, "LOCATION": "redis://r:6379/0", "OPTIONS": BOUNDED}, False),
        ({"BACKEND": REDIS, "LOCATION": "redis://r:6379/0?socket_timeout=1&socket_connect_timeout=1"}, False),
        (
            {
                "BACKEND": DJANGO_REDIS,
                "LOCATION": "redis://r:6379/0",
                "OPTIONS": {"CONNECTION_POOL_KWARGS": {"socket_timeout": None}},
            },
            True,
        ),
        (
            {
                "BACKEND": DJANGO_REDIS,
                "LOCATION": "redis://r:6379/0",
                "OPTIONS": {"SOCKET_TIMEOUT": 1, "SOCKET_CONNECT_TIMEOUT": 1},
            },
            False,
        ),
        ({"BACKEND": PYMEMCACHE, "LOCATION": "m:11211"}, True),
        ({"BACKEND": PYMEMCACHE, "LOCATION": "m:11211", "OPTIONS": {"timeout": 1}}, True),
        (
            {"BACKEND": PYMEMCACHE, "LOCATION": "m:11211", "OPTIONS": {"timeout": 1, "connect_timeout": 1}},
            False,
        ),
        ({"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}, False),
    ],
)
def test_a_cache_server_without_timeouts_is_reported(cache: dict[str, Any], warned: bool) -> None:
    assert w060(cache) is warned


def test_the_cache_is_left_alone_when_contact_lookups_do_not_use_it() -> None:
    unbounded = {"BACKEND": PYMEMCACHE, "LOCATION": "m:11211"}
    assert w060(unbounded, CONTACT_RATE=None, CONTACT_CACHE_SECONDS=0) is False
    assert w060(unbounded, CONTACT_RATE=None, CONTACT_CACHE_SECONDS=30) is True


@pytest.mark.timeout(120)
@pytest.mark.parametrize("behaviour", ["silent", "dropping"])
def test_a_lookup_with_the_hints_timeouts_never_waits_long_on_the_cache(
    behaviour: str,
    client_for: Callable[..., APIClient],
    wechat_sandbox: SandboxControl,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from django.core.cache import cache as default_cache

    from django_wxlogistics.throttling import ContactRateThrottle

    # The counter in Django's default cache, as in production (the tests' conftest gives it its own).
    monkeypatch.setattr(ContactRateThrottle, "cache", default_cache)
    waybill = WaybillFactory()
    wechat_sandbox.register_waybill(waybill.waybill_id, waybill.token)
    client = client_for("view_waybill", "view_contact")
    with brokers.BROKERS[behaviour]() as port:
        cache = {"BACKEND": REDIS, "LOCATION": f"redis://127.0.0.1:{port}/0", "OPTIONS": BOUNDED}
        contact_cache = {**settings.WXLOGISTICS, "CONTACT_CACHE_SECONDS": 60}
        with override_settings(CACHES={"default": cache}, WXLOGISTICS=contact_cache):
            assert w060(cache) is False
            started = time.monotonic()
            response = client.get(f"/wxlogistics/api/waybills/{waybill.waybill_id}/contact/")
            waited = time.monotonic() - started
    assert waited < 10.0  # about a second; without timeouts it waits as long as the server does
    assert response.status_code == 502
    assert ContactAccess.objects.count() == 0
    assert wechat_sandbox.calls(api="logistics.getContact") == []

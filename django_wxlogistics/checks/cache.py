"""Whether the cache each contact lookup uses can hold it up for good: W060."""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from django.core.checks import CheckMessage, Warning

from ..conf import wx_settings

REDIS_CACHES = ("django.core.cache.backends.redis.RedisCache", "django_redis.cache.RedisCache")
PYMEMCACHE_CACHE = "django.core.cache.backends.memcached.PyMemcacheCache"


def check_cache() -> list[CheckMessage]:
    """W060: each contact lookup uses the default cache, whose server must not hold it forever."""
    if not wx_settings.valid("CONTACT_RATE") and not wx_settings.valid("CONTACT_CACHE_SECONDS"):
        return []
    cache = getattr(settings, "CACHES", {}).get("default", {})
    backend, options = cache.get("BACKEND", ""), cache.get("OPTIONS") or {}
    if backend in REDIS_CACHES:
        read, connect = _redis_timeouts(cache.get("LOCATION", ""), options)
        hint = '{"socket_timeout": 1, "socket_connect_timeout": 1}'
        if backend == REDIS_CACHES[1]:
            hint = '{"SOCKET_TIMEOUT": 1, "SOCKET_CONNECT_TIMEOUT": 1}'
    elif backend == PYMEMCACHE_CACHE:
        read, connect = options.get("timeout"), options.get("connect_timeout")
        hint = '{"timeout": 1, "connect_timeout": 1}'
    else:
        return []  # in memory, on disk, in the database, or a backend this check does not know
    if read is not None and connect is not None:
        return []
    return [
        Warning(
            "Each contact lookup uses the default cache (CONTACT_RATE's counter, "
            "CONTACT_CACHE_SECONDS), and calls to its server have no timeout: a cache server that "
            "stops answering would hold the admin's and the API's contact lookups for good.",
            hint=f'Bound them, in seconds: CACHES["default"]["OPTIONS"] = {hint}.',
            id="wxlogistics.W060",
        )
    ]


def _redis_timeouts(location: str | Sequence[str], options: dict[str, Any]) -> tuple[Any, Any]:
    """The (read, connect) timeouts redis-py will use: from the URL, the OPTIONS, or its defaults."""
    given: dict[str, Any] = {}
    for url in [location] if isinstance(location, str) else location:
        given.update({k: v[0] for k, v in parse_qs(urlsplit(url).query).items()})
    given.update(options.get("CONNECTION_POOL_KWARGS") or {})  # django-redis
    given.update({k: v for k, v in options.items() if k in ("socket_timeout", "socket_connect_timeout")})
    for name in ("SOCKET_TIMEOUT", "SOCKET_CONNECT_TIMEOUT"):  # django-redis leaves out a None
        if options.get(name) is not None:
            given[name.lower()] = options[name]
    read = given.get("socket_timeout", _redis_default("socket_timeout"))
    connect = given.get("socket_connect_timeout", _redis_default("socket_connect_timeout"))
    return read, read if connect is None else connect  # redis-py connects within the read timeout


def _redis_default(name: str) -> Any:
    """redis-py's default: a few seconds in recent versions, None (wait forever) in older ones."""
    try:
        from redis.connection import AbstractConnection
    except ImportError:  # an older redis-py, or none: assume the older default
        return None
    default = inspect.signature(AbstractConnection.__init__).parameters.get(name)
    return None if default is None or default.default is inspect.Parameter.empty else default.default

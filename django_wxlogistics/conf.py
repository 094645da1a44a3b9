"""The ``WXLOGISTICS`` settings dict: one table of defaults, one accessor.

Usage::

    from django_wxlogistics.conf import wx_settings
    wx_settings.MAX_ATTEMPTS           # the shop's value or the default
    wx_settings.require("APPID")       # raises ConfigurationError naming the key if unset

Values are read from ``settings.WXLOGISTICS`` on each access, so ``override_settings``
works in tests. Validation with hints lives in :mod:`django_wxlogistics.checks`.
"""

from __future__ import annotations

import difflib
from typing import Any

from django.conf import settings

from .exceptions import ConfigurationError

DEFAULTS: dict[str, Any] = {
    # Credentials of the Mini Program / Official Account that calls WeChat.
    "APPID": "",
    "APPSECRET": "",
    # The only place the WeChat host is named; the sandbox and tests point it elsewhere.
    "API_BASE_URL": "https://api.weixin.qq.com",
    # How access tokens are obtained: "stable", "classic", "cloud" or a dotted path.
    "ACCESS_TOKEN": "stable",
    # Refresh a token when fewer than this many seconds remain before it expires.
    "ACCESS_TOKEN_REFRESH_MARGIN": 300,
    # (connect, read) timeout in seconds for every call to WeChat; never None.
    "TIMEOUT": (3.05, 5.0),
    # Connections kept open to WeChat per process: at least the threads calling at once.
    "HTTP_POOL_MAXSIZE": 64,
    # new_status -> action_type, or -> {"action_type": ..., "message": "template"}.
    "STATUS_ACTIONS": {},
    # The order attribute that Waybill.order_id stores (as a string).
    "ORDER_ID_ATTR": "pk",
    # Dotted paths of signals, sent with order/old_status/new_status, to listen to.
    "LISTEN_TO": [],
    # "app_label.Model" whose STATUS_FIELD is watched through pre_save/post_save.
    "ORDER_MODEL": "",
    "STATUS_FIELD": "status",
    # Delivery: attempts before an event is failed, backoff (seconds) and the lease.
    "MAX_ATTEMPTS": 10,
    "RETRY_BACKOFF_BASE": 2.0,
    "RETRY_BACKOFF_CAP": 600.0,
    "LEASE_SECONDS": 60,
    "SWEEP_INTERVAL": 5.0,
    # Calls to WeChat one task makes at once (one broker message names four times as many events).
    "PUSH_CONCURRENCY": 8,
    # Let a task's free slots take any due event, of any waybill: faster on a backlog and
    # over a far link, more copies when a worker is killed mid-push.
    "PUSH_DRAIN": False,
    # How many events of one waybill a task leases together and pushes one after the other,
    # each once the one before is recorded (1: one at a time).
    "PUSH_CHAIN": 4,
    # Contacts are never stored; this optionally caches them for a few seconds.
    "CONTACT_CACHE_SECONDS": 0,
    # Contact lookups one user may make (admin and API together), a DRF rate; None: no limit.
    "CONTACT_RATE": "30/min",
    # Inbound event pushes from WeChat (message push token and AES key).
    "PUSH_TOKEN": "",
    "ENCODING_AES_KEY": "",
    # DRF permission classes (dotted paths) for the REST API; None: model permissions.
    "API_PERMISSION_CLASSES": None,
}


class WXLogisticsSettings:
    """Attribute access to ``settings.WXLOGISTICS`` merged over :data:`DEFAULTS`."""

    def user_settings(self) -> dict[str, Any]:
        value = getattr(settings, "WXLOGISTICS", {})
        if not isinstance(value, dict):
            raise ConfigurationError(f"settings.WXLOGISTICS must be a dict, not {type(value).__name__}.")
        return value

    def __getattr__(self, key: str) -> Any:
        if key not in DEFAULTS:
            close = difflib.get_close_matches(key, DEFAULTS, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise AttributeError(f"WXLOGISTICS has no setting {key!r}.{hint}")
        return self.user_settings().get(key, DEFAULTS[key])

    def require(self, key: str) -> Any:
        """The value of ``key``; a ConfigurationError naming the key if it is empty."""
        value = getattr(self, key)
        if value in (None, "", [], {}):
            raise ConfigurationError(
                f"WXLOGISTICS[{key!r}] is not set. Add it to the WXLOGISTICS dict in your "
                "Django settings (run 'manage.py check' for every missing key).",
                setting=key,
            )
        return value

    def unknown_keys(self) -> list[str]:
        return sorted(set(self.user_settings()) - set(DEFAULTS))


wx_settings = WXLogisticsSettings()

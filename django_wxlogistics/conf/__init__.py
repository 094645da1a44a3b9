"""What each ``WXLOGISTICS`` setting is: its default, its type, when a value is wrong, and its value now.

Usage::

    from django_wxlogistics.conf import wx_settings
    wx_settings.PUSH_CONCURRENCY        # the shop's value or the default, coerced (an int)
    wx_settings.require("APPID")        # raises ConfigurationError naming the key if unset

:data:`SETTINGS` is the one table: for each key its default, the rule that says when a value
cannot be used (a system check's id, message and hint) and how a usable value is coerced.
Reading a key returns the coerced value, or raises a :class:`ConfigurationError` naming the
key; :mod:`django_wxlogistics.checks` reports the same problems, from the same rules.

Values are read lazily and checked once: each key's result is kept until ``setting_changed``
says ``WXLOGISTICS`` changed (``override_settings`` in tests) or the shop's value for it is
another object.
"""

from __future__ import annotations

import difflib
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.signals import setting_changed

from ..exceptions import ConfigurationError
from . import push_rules, rules
from .rules import ACCESS_TOKEN_MODES, Problem, parse_contact_rate

__all__ = [
    "ACCESS_TOKEN_MODES",
    "DEFAULTS",
    "SETTINGS",
    "Problem",
    "Setting",
    "WXLogisticsSettings",
    "parse_contact_rate",
    "wx_settings",
]


def _same(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class Setting:
    """One row of the table: the default, the rule a value must pass, and how it is coerced."""

    default: Any
    rule: rules.Rule = rules.usable
    coerce: Callable[[Any], Any] = _same


# --- the table --------------------------------------------------------------------------------

SETTINGS: dict[str, Setting] = {
    # Credentials of the Mini Program / Official Account that calls WeChat.
    "APPID": Setting(""),
    "APPSECRET": Setting(""),
    # The only place the WeChat host is named; the sandbox and tests point it elsewhere.
    "API_BASE_URL": Setting("https://api.weixin.qq.com", rules.api_base_url),
    # How access tokens are obtained: "stable", "classic", "cloud" or a dotted path.
    "ACCESS_TOKEN": Setting("stable", rules.access_token),
    # Refresh a token when fewer than this many seconds remain before it expires.
    "ACCESS_TOKEN_REFRESH_MARGIN": Setting(300, rules.number(0)),
    # (connect, read) timeout in seconds for every call to WeChat (or one number for both);
    # never None.
    "TIMEOUT": Setting((3.05, 5.0), rules.timeout, rules.seconds),
    # Connections kept open to WeChat per process: at least the threads calling at once.
    "HTTP_POOL_MAXSIZE": Setting(
        64,
        rules.whole_number(
            11, "Use at least the number of threads that call WeChat at once (the default is 64)."
        ),
    ),
    # new_status -> action_type, or -> {"action_type": ..., "message": "template"}.
    "STATUS_ACTIONS": Setting({}, rules.status_actions),
    # new_status -> "upload" (shipping information to WeChat) or "confirm_receipt".
    "SHIPPING_ACTIONS": Setting({}, rules.shipping_actions),
    # adapter(order) -> upload_shipping_info's fields, or None (not paid with WeChat Pay).
    # Read: the function.
    "SHIPPING_ADAPTER": Setting(
        "django_wxlogistics.shipping_orders.shipping_fields",
        push_rules.function_path(
            91, "Give the dotted path of a function adapter(order) -> dict | None (see docs/merchant.md)."
        ),
        push_rules.imported_function,
    ),
    # Register each parcel of an express upload with the tracking component (trace_waybill),
    # on the payment's line after its upload, and keep the waybill_token WeChat answers.
    "TRACK_WAYBILLS": Setting(False, rules.boolean),
    # adapter(order, parcel) -> trace_waybill's fields for one parcel of the upload, or None
    # (not tracked). Read: the function.
    "TRACKING_ADAPTER": Setting(
        "django_wxlogistics.shipping_orders.trace_fields",
        push_rules.function_path(
            92,
            "Give the dotted path of a function adapter(order, parcel) -> dict | None "
            "(see docs/merchant.md).",
        ),
        push_rules.imported_function,
    ),
    # The order attribute that Waybill.order_id stores (as a string).
    "ORDER_ID_ATTR": Setting("pk"),
    # Dotted paths of signals, sent with order/old_status/new_status, to listen to.
    "LISTEN_TO": Setting([], rules.dotted_paths),
    # "app_label.Model" whose STATUS_FIELD is watched through pre_save/post_save.
    "ORDER_MODEL": Setting(""),
    "STATUS_FIELD": Setting("status"),
    # Delivery: attempts before an event is failed, backoff (seconds) and the lease.
    "MAX_ATTEMPTS": Setting(10, rules.number(1)),
    "RETRY_BACKOFF_BASE": Setting(2.0, rules.number(0), float),
    "RETRY_BACKOFF_CAP": Setting(600.0, rules.number(0), float),
    "LEASE_SECONDS": Setting(60, rules.number(1)),
    "SWEEP_INTERVAL": Setting(5.0, rules.number(0), float),
    # Calls to WeChat one task makes at once (one broker message names four times as many events).
    "PUSH_CONCURRENCY": Setting(8, rules.number(1), int),
    # Let a task's free slots take any due event, of any waybill: faster on a backlog and
    # over a far link, more copies when a worker is killed mid-push.
    "PUSH_DRAIN": Setting(False, rules.boolean),
    # How many events of one waybill a task leases together and pushes one after the other,
    # each once the one before is recorded (1: one at a time).
    "PUSH_CHAIN": Setting(
        4,
        rules.whole_number(7, "Remove it to use the default, 4; 1 pushes one event at a time."),
    ),
    # Contacts are never stored; this optionally caches them for a few seconds.
    "CONTACT_CACHE_SECONDS": Setting(0, rules.number(0)),
    # Contact lookups one user may make (admin and API together), a DRF rate; None: no limit.
    "CONTACT_RATE": Setting("30/min", rules.contact_rate),
    # Inbound event pushes from WeChat (events/): the console's Token and EncodingAESKey
    # (43 characters; needed for safe mode, where pushes are encrypted for APPID).
    "PUSH_TOKEN": Setting("", push_rules.push_token),
    "ENCODING_AES_KEY": Setting("", push_rules.encoding_aes_key),
    # Refuse pushes whose timestamp is further than this many seconds from now (replays);
    # None: no window.
    "PUSH_MAX_AGE": Setting(300, push_rules.optional_seconds),
    # Refuse push bodies larger than this many bytes.
    "PUSH_MAX_BYTES": Setting(
        128 * 1024, rules.whole_number(7, "Remove it to use the default, 131072 (128 KiB).")
    ),
    # generate(order) -> str: the waybill ID of an order placed with WayBillID "0".
    # Read: the function.
    "WAYBILL_ID_GENERATOR": Setting(
        "django_wxlogistics.events.waybill_ids.random_waybill_id",
        push_rules.function_path(72, "Give the dotted path of a function generate(order) -> str."),
        push_rules.imported_function,
    ),
    # handler(order, result) -> the shop's order (or its id) for an order placement event;
    # None: the waybill's order_id is WeChat's OrderID (receivers of waybill_order_received
    # can answer instead). Read: the function, or None.
    "WAYBILL_ORDER_HANDLER": Setting(
        None,
        push_rules.function_path(
            73, "Give the dotted path of a function handler(order, result), or None.", optional=True
        ),
        push_rules.imported_function,
    ),
    # Event type -> dotted path of handler(message) -> EventResult: takes over that event.
    # Read: the functions, by lower-case event type.
    "EVENT_HANDLERS": Setting({}, push_rules.event_handlers, push_rules.imported_handlers),
    # The bearer token Prometheus sends to metrics/ ("": staff only). A secret.
    "METRICS_TOKEN": Setting("", rules.metrics_token),
    # DRF permission classes (dotted paths) for the REST API; None: model permissions.
    # Read: the classes themselves (a tuple), or None.
    "API_PERMISSION_CLASSES": Setting(None, rules.permission_classes, rules.imported),
}

#: Each key's default, as the shop would write it.
DEFAULTS: dict[str, Any] = {key: setting.default for key, setting in SETTINGS.items()}


# --- the accessor -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Checked:
    raw: Any
    value: Any
    problems: tuple[Problem, ...]


class WXLogisticsSettings:
    """Attribute access to ``settings.WXLOGISTICS`` merged over the defaults, each value checked
    against its rule once and coerced."""

    if TYPE_CHECKING:  # what each key reads as; Any where no rule narrows it
        APPID: Any
        APPSECRET: Any
        API_BASE_URL: str
        ACCESS_TOKEN: str
        ACCESS_TOKEN_REFRESH_MARGIN: float
        TIMEOUT: float | tuple[float, float]
        HTTP_POOL_MAXSIZE: int
        STATUS_ACTIONS: dict[Any, Any]
        SHIPPING_ACTIONS: dict[Any, str]
        SHIPPING_ADAPTER: Callable[[Any], dict[str, Any] | None]
        TRACK_WAYBILLS: bool
        TRACKING_ADAPTER: Callable[[Any, dict[str, Any]], dict[str, Any] | None]
        ORDER_ID_ATTR: Any
        LISTEN_TO: Sequence[str]
        ORDER_MODEL: Any
        STATUS_FIELD: Any
        MAX_ATTEMPTS: float
        RETRY_BACKOFF_BASE: float
        RETRY_BACKOFF_CAP: float
        LEASE_SECONDS: float
        SWEEP_INTERVAL: float
        PUSH_CONCURRENCY: int
        PUSH_DRAIN: bool
        PUSH_CHAIN: int
        CONTACT_CACHE_SECONDS: float
        CONTACT_RATE: str | None
        PUSH_TOKEN: str
        ENCODING_AES_KEY: str
        PUSH_MAX_AGE: float | None
        PUSH_MAX_BYTES: int
        WAYBILL_ID_GENERATOR: Callable[..., str]
        WAYBILL_ORDER_HANDLER: Callable[..., Any] | None
        EVENT_HANDLERS: dict[str, Callable[..., Any]]
        API_PERMISSION_CLASSES: tuple[Any, ...] | None
        METRICS_TOKEN: str

    def __init__(self) -> None:
        self._checked: dict[str, _Checked] = {}
        self._lock = threading.Lock()

    def user_settings(self) -> dict[str, Any]:
        value = getattr(settings, "WXLOGISTICS", {})
        if not isinstance(value, dict):
            raise ConfigurationError(f"settings.WXLOGISTICS must be a dict, not {type(value).__name__}.")
        return value

    def __getattr__(self, key: str) -> Any:
        if key not in SETTINGS:
            close = difflib.get_close_matches(key, SETTINGS, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise AttributeError(f"WXLOGISTICS has no setting {key!r}.{hint}")
        checked = self._check(key)
        if checked.problems:
            problem = checked.problems[0]
            raise ConfigurationError(f"{problem.message} {problem.hint}", setting=key)
        return checked.value

    def problems(self, key: str) -> list[Problem]:
        """What makes the shop's value for ``key`` unusable; [] when it is usable."""
        return list(self._check(key).problems)

    def valid(self, key: str) -> Any:
        """The coerced value of ``key``, or None when it is unusable (its problems say why)."""
        checked = self._check(key)
        return None if checked.problems else checked.value

    def raw(self, key: str) -> Any:
        """The value as the shop wrote it (or the default), unchecked: for messages."""
        return self.user_settings().get(key, SETTINGS[key].default)

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
        return sorted(set(self.user_settings()) - set(SETTINGS))

    def reload(self) -> None:
        """Forget every checked value: the next read checks the settings again."""
        with self._lock:
            self._checked = {}

    def _check(self, key: str) -> _Checked:
        raw = self.raw(key)
        checked = self._checked.get(key)
        # The same object as last time: already checked (a changed dict is a new object).
        if checked is not None and checked.raw is raw:
            return checked
        setting = SETTINGS[key]
        problems = tuple(setting.rule(key, raw, setting.default))
        checked = _Checked(raw, None if problems else setting.coerce(raw), problems)
        with self._lock:
            self._checked[key] = checked
        return checked


wx_settings = WXLogisticsSettings()


def _reload(setting: str, **kwargs: Any) -> None:
    if setting == "WXLOGISTICS":
        wx_settings.reload()


setting_changed.connect(_reload, dispatch_uid="django_wxlogistics.conf.reload")

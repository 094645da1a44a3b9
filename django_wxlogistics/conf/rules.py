"""When a value of a ``WXLOGISTICS`` setting cannot be used: the rules of the settings' table.

Each rule returns the problems of one value, each with the number, message and hint of its
system check (``wxlogistics.E0xx``); a value with none is usable. Beside the rules, how a
usable value is coerced where it needs to be.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.utils.module_loading import import_string

from ..enums import ActionType

#: The built-in ways of ``ACCESS_TOKEN`` (any other value is the dotted path of a provider).
ACCESS_TOKEN_MODES = ("stable", "classic", "cloud")


@dataclass(frozen=True)
class Problem:
    """Why a value cannot be used: the number of its check (``7``: ``wxlogistics.E007``), what is
    wrong and what to change."""

    id: int
    message: str
    hint: str


#: A rule: (key, value, default) -> what makes the value unusable ([] when it is usable).
Rule = Callable[[str, Any, Any], list[Problem]]


def usable(key: str, value: Any, default: Any) -> list[Problem]:
    """The rule of a setting that takes any value."""
    return []


# --- the rules --------------------------------------------------------------------------------


def number(minimum: int) -> Rule:
    """A number (not a bool) of at least ``minimum``: E007."""

    def rule(key: str, value: Any, default: Any) -> list[Problem]:
        if not isinstance(value, bool) and isinstance(value, (int, float)) and not value < minimum:
            return []
        return [
            Problem(
                7,
                f"WXLOGISTICS[{key!r}] is {value!r}; it must be a number of at least {minimum}.",
                f"Remove it to use the default, {default!r}.",
            )
        ]

    return rule


def whole_number(id: int, hint: str) -> Rule:
    """A whole number (not a bool) of at least 1."""

    def rule(key: str, value: Any, default: Any) -> list[Problem]:
        if not isinstance(value, bool) and isinstance(value, int) and value >= 1:
            return []
        message = f"WXLOGISTICS[{key!r}] is {value!r}; it must be a whole number of at least 1."
        return [Problem(id, message, hint)]

    return rule


def boolean(key: str, value: Any, default: Any) -> list[Problem]:
    if isinstance(value, bool):
        return []
    return [
        Problem(
            7,
            f"WXLOGISTICS[{key!r}] is {value!r}; it must be True or False.",
            f"Remove it to use the default, {default!r}.",
        )
    ]


def timeout(key: str, value: Any, default: Any) -> list[Problem]:
    parts = value if isinstance(value, (tuple, list)) else (value,)
    if 0 < len(parts) <= 2 and all(
        not isinstance(p, bool) and isinstance(p, (int, float)) and p > 0 for p in parts
    ):
        return []
    return [
        Problem(
            7,
            f"WXLOGISTICS['TIMEOUT'] is {value!r}; it must be a positive number of seconds "
            "or a (connect, read) pair.",
            "Calls to WeChat always need a timeout, e.g. (3.05, 5).",
        )
    ]


def seconds(value: Any) -> float | tuple[float, float]:
    """A timeout as requests takes it: seconds, or a (connect, read) pair."""
    if isinstance(value, (tuple, list)):
        return (float(value[0]), float(value[1])) if len(value) == 2 else float(value[0])
    return float(value)


_TOKEN_HINT = f"Use one of {', '.join(ACCESS_TOKEN_MODES)} or the dotted path of your own provider."


def access_token(key: str, value: Any, default: Any) -> list[Problem]:
    if not isinstance(value, str) or not value:
        return [Problem(6, f"WXLOGISTICS['ACCESS_TOKEN'] must be a string, not {value!r}.", _TOKEN_HINT)]
    if value not in ACCESS_TOKEN_MODES:
        try:
            import_string(value)
        except ImportError as exc:
            message = f"WXLOGISTICS['ACCESS_TOKEN'] is {value!r}, which cannot be imported ({exc})."
            return [Problem(6, message, _TOKEN_HINT)]
    return []


def api_base_url(key: str, value: Any, default: Any) -> list[Problem]:
    parts = urlsplit(value) if isinstance(value, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        return [
            Problem(
                4,
                f"WXLOGISTICS['API_BASE_URL'] is {value!r}, which is not an absolute http(s) URL.",
                "Leave it unset for WeChat (https://api.weixin.qq.com), or point it at the sandbox, "
                "e.g. 'http://127.0.0.1:8900'.",
            )
        ]
    if parts.path not in ("", "/") or parts.query:
        return [
            Problem(
                4,
                f"WXLOGISTICS['API_BASE_URL'] is {value!r}; it must not have a path or query.",
                "Give only the scheme and host, e.g. 'https://api.weixin.qq.com'.",
            )
        ]
    return []


def status_actions(key: str, value: Any, default: Any) -> list[Problem]:
    if not isinstance(value, dict):
        return [
            Problem(
                5,
                f"WXLOGISTICS['STATUS_ACTIONS'] must be a dict, not {type(value).__name__}.",
                'Map each order status to an action type, e.g. {"shipped": 300002}.',
            )
        ]
    valid = ", ".join(f"{v} ({ActionType(v).name})" for v in ActionType.values)
    problems = []
    for status, action in value.items():
        action_type = action.get("action_type") if isinstance(action, dict) else action
        if action_type not in ActionType.values:
            message = (
                f"WXLOGISTICS['STATUS_ACTIONS'][{status!r}] has action_type {action_type!r}, "
                "which WeChat does not know."
            )
            problems.append(Problem(5, message, f"Use one of {valid}."))
    return problems


#: What SHIPPING_ACTIONS may map a status to (shipping_orders.SHIPPING_ACTIONS).
SHIPPING_CALLS = ("upload", "confirm_receipt")
_SHIPPING_HINT = 'Map each order status to "upload" or "confirm_receipt", e.g. {"shipped": "upload"}.'


def shipping_actions(key: str, value: Any, default: Any) -> list[Problem]:
    if not isinstance(value, dict):
        return [
            Problem(
                90,
                f"WXLOGISTICS['SHIPPING_ACTIONS'] must be a dict, not {type(value).__name__}.",
                _SHIPPING_HINT,
            )
        ]
    return [
        Problem(
            90,
            f"WXLOGISTICS['SHIPPING_ACTIONS'][{status!r}] is {action!r}, which is not a shipping call.",
            _SHIPPING_HINT,
        )
        for status, action in value.items()
        if action not in SHIPPING_CALLS
    ]


def dotted_paths(key: str, value: Any, default: Any) -> list[Problem]:
    if not isinstance(value, (list, tuple)) or not all(isinstance(p, str) for p in value):
        return [
            Problem(
                34,
                f"WXLOGISTICS['LISTEN_TO'] must be a list of dotted paths, not {value!r}.",
                'e.g. ["oscar.apps.order.signals.order_status_changed"]',
            )
        ]
    return []


#: The period words DRF's rates use, each in seconds.
PERIODS = {
    **dict.fromkeys(("s", "sec", "second", "seconds"), 1),
    **dict.fromkeys(("m", "min", "minute", "minutes"), 60),
    **dict.fromkeys(("h", "hour", "hours"), 3600),
    **dict.fromkeys(("d", "day", "days"), 86400),
}
_RATE = re.compile(r"(?P<count>[0-9]+)/(?P<period>[a-z]+)")


def parse_contact_rate(rate: Any) -> tuple[int, int] | None:
    """``"30/min"`` → ``(30, 60)``; ``None`` (no limit) → None. A ValueError says what is wrong."""
    if rate is None:
        return None
    if not isinstance(rate, str):
        raise ValueError(f"it must be a string such as '30/min' or None, not {type(rate).__name__}")
    found = _RATE.fullmatch(rate.strip())
    if found is None or found.group("period") not in PERIODS:
        raise ValueError(f"{rate!r} is not a number of lookups per s, min, hour or day")
    count = int(found.group("count"))
    if count < 1:
        raise ValueError(f"{rate!r} allows no lookup at all")
    return count, PERIODS[found.group("period")]


def contact_rate(key: str, value: Any, default: Any) -> list[Problem]:
    try:
        parse_contact_rate(value)
    except ValueError as exc:
        return [
            Problem(
                43,
                f"WXLOGISTICS['CONTACT_RATE'] is not a rate: {exc}.",
                'Give lookups per user and period, e.g. "30/min" (periods: s, min, hour, day), '
                "or None for no limit.",
            )
        ]
    return []


_PERMISSIONS_HINT = (
    'List dotted paths of DRF permission classes, e.g. ["rest_framework.permissions.IsAdminUser"], '
    "or remove the key to use Django model permissions."
)


def permission_classes(key: str, value: Any, default: Any) -> list[Problem]:
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        return [
            Problem(
                40,
                f"WXLOGISTICS['API_PERMISSION_CLASSES'] must be a list or None, not {type(value).__name__}.",
                _PERMISSIONS_HINT,
            )
        ]
    # DRF is imported only by the projects that read this setting (those serving the API).
    from rest_framework.permissions import BasePermission, OperationHolderMixin

    problems = []
    for item in value:
        try:
            target = import_string(item) if isinstance(item, str) else item
        except ImportError as exc:
            message = (
                f"WXLOGISTICS['API_PERMISSION_CLASSES'] names {item!r}, which cannot be imported ({exc})."
            )
            problems.append(Problem(41, message, _PERMISSIONS_HINT))
            continue
        is_class = isinstance(target, type) and issubclass(target, BasePermission)
        if not is_class and not isinstance(target, OperationHolderMixin):
            problems.append(
                Problem(
                    42,
                    f"WXLOGISTICS['API_PERMISSION_CLASSES'] holds {item!r}, which is not a DRF "
                    "permission class.",
                    "Each entry must name a subclass of rest_framework.permissions.BasePermission.",
                )
            )
    return problems


def imported(value: Any) -> tuple[Any, ...] | None:
    if value is None:
        return None
    return tuple(import_string(item) if isinstance(item, str) else item for item in value)


#: The shortest ``METRICS_TOKEN`` accepted: it guards the metrics endpoint alone.
METRICS_TOKEN_MIN_LENGTH = 16


def metrics_token(key: str, value: Any, default: Any) -> list[Problem]:
    """Empty (staff only), or text of at least :data:`METRICS_TOKEN_MIN_LENGTH` characters: E080."""
    if value == "" or (
        isinstance(value, str)
        and len(value) >= METRICS_TOKEN_MIN_LENGTH
        and value.isascii()
        and value.isprintable()
    ):
        return []
    shape = f"{len(value)} characters" if isinstance(value, str) else type(value).__name__
    return [
        Problem(
            80,
            f"WXLOGISTICS['METRICS_TOKEN'] must be empty or printable ASCII text of at least "
            f"{METRICS_TOKEN_MIN_LENGTH} characters (it is {shape}).",
            "Generate one with: python -c 'import secrets; print(secrets.token_urlsafe(32))', and read "
            "it from the environment.",
        )
    ]

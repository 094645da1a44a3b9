"""When a setting of inbound pushes (``events/``) cannot be used, and what a usable one reads as.

The rules of ``PUSH_TOKEN``, ``ENCODING_AES_KEY``, ``PUSH_MAX_AGE``, ``PUSH_MAX_BYTES`` and of
the dotted paths the events call (``WAYBILL_ID_GENERATOR``, ``WAYBILL_ORDER_HANDLER``,
``EVENT_HANDLERS``), which read as the functions they name.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django.utils.module_loading import import_string

from .rules import Problem, Rule

#: An EncodingAESKey as WeChat's console makes it: 43 characters of base64.
ENCODING_AES_KEY = re.compile(r"[A-Za-z0-9+/]{43}")


def push_token(key: str, value: Any, default: Any) -> list[Problem]:
    if isinstance(value, str):
        return []
    return [
        Problem(
            71,
            f"WXLOGISTICS['PUSH_TOKEN'] must be text, not {type(value).__name__}.",
            "Copy the Token (令牌) of WeChat's message push settings.",
        )
    ]


def encoding_aes_key(key: str, value: Any, default: Any) -> list[Problem]:
    if value == "" or (isinstance(value, str) and ENCODING_AES_KEY.fullmatch(value)):
        return []
    shape = f"{len(value)} characters" if isinstance(value, str) else type(value).__name__
    return [
        Problem(
            70,
            f"WXLOGISTICS['ENCODING_AES_KEY'] must be 43 characters of letters, digits, '+' and '/' "
            f"(it is {shape}).",
            "Copy the EncodingAESKey (消息加解密密钥) of WeChat's message push settings, or leave it "
            "empty for plain mode.",
        )
    ]


def optional_seconds(key: str, value: Any, default: Any) -> list[Problem]:
    """None (no limit) or a number of at least 1: E007."""
    if value is None or (not isinstance(value, bool) and isinstance(value, (int, float)) and value >= 1):
        return []
    return [
        Problem(
            7,
            f"WXLOGISTICS[{key!r}] is {value!r}; it must be a number of seconds of at least 1, or None.",
            f"Remove it to use the default, {default!r}.",
        )
    ]


def _import_callable(key: str, path: Any, id: int, hint: str) -> list[Problem]:
    if not isinstance(path, str):
        return [Problem(id, f"WXLOGISTICS[{key}] must be a dotted path, not {path!r}.", hint)]
    try:
        target = import_string(path)
    except ImportError as exc:
        return [Problem(id, f"WXLOGISTICS[{key}] is {path!r}, which cannot be imported ({exc}).", hint)]
    if not callable(target):
        return [Problem(id, f"WXLOGISTICS[{key}] is {path!r}, which cannot be called.", hint)]
    return []


def function_path(id: int, hint: str, *, optional: bool = False) -> Rule:
    """The dotted path of a function (or None, when ``optional``)."""

    def rule(key: str, value: Any, default: Any) -> list[Problem]:
        if optional and value is None:
            return []
        return _import_callable(repr(key), value, id, hint)

    return rule


_HANDLERS_HINT = 'Map event types to dotted paths, e.g. {"check_biz": "shop.wechat.check_biz"}.'


def event_handlers(key: str, value: Any, default: Any) -> list[Problem]:
    if not isinstance(value, dict):
        return [Problem(74, f"WXLOGISTICS['EVENT_HANDLERS'] must be a dict, not {value!r}.", _HANDLERS_HINT)]
    problems = []
    for event, path in value.items():
        if not isinstance(event, str) or not event:
            problems.append(
                Problem(74, f"WXLOGISTICS['EVENT_HANDLERS'] has the key {event!r}.", _HANDLERS_HINT)
            )
            continue
        problems += _import_callable(f"'EVENT_HANDLERS'][{event!r}", path, 74, _HANDLERS_HINT)
    return problems


def imported_function(value: Any) -> Callable[..., Any] | None:
    return None if value is None else import_string(value)


def imported_handlers(value: dict[str, str]) -> dict[str, Callable[..., Any]]:
    """Each handler by its lower-case event type (WeChat's event types are case-insensitive)."""
    return {event.lower(): import_string(path) for event, path in value.items()}

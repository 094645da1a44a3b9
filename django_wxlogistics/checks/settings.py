"""Whether the ``WXLOGISTICS`` dict and each value in it can be used: E001-E007, W001-W002."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from urllib.parse import urlsplit

from django.core.checks import CheckMessage, Error, Warning
from django.utils.module_loading import import_string

from ..conf import DEFAULTS, wx_settings
from ..enums import ActionType

TOKEN_MODES = ("stable", "classic", "cloud")
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}
E001_HINT = 'Write WXLOGISTICS = {"APPID": "wx...", "APPSECRET": "..."}.'


def error(id: int, msg: str, hint: str) -> Error:
    return Error(msg, hint=hint, id=f"wxlogistics.E{id:03d}")


def warning(id: int, msg: str, hint: str) -> Warning:
    return Warning(msg, hint=hint, id=f"wxlogistics.W{id:03d}")


def check_unknown_keys() -> Iterable[CheckMessage]:
    for key in wx_settings.unknown_keys():
        close = difflib.get_close_matches(key, DEFAULTS, n=1)
        hint = f"Did you mean {close[0]!r}?" if close else f"Known keys: {', '.join(sorted(DEFAULTS))}."
        yield warning(1, f"WXLOGISTICS[{key!r}] is not a setting of django-wxlogistics.", hint)


def check_credentials() -> Iterable[CheckMessage]:
    mode = wx_settings.ACCESS_TOKEN
    if not isinstance(mode, str) or not mode:
        yield error(
            6,
            f"WXLOGISTICS['ACCESS_TOKEN'] must be a string, not {mode!r}.",
            f"Use one of {', '.join(TOKEN_MODES)} or the dotted path of your own provider.",
        )
        return
    if mode not in TOKEN_MODES:
        try:
            import_string(mode)
        except ImportError as exc:
            yield error(
                6,
                f"WXLOGISTICS['ACCESS_TOKEN'] is {mode!r}, which cannot be imported ({exc}).",
                f"Use one of {', '.join(TOKEN_MODES)} or the dotted path of your own provider.",
            )
        return
    if mode == "cloud":
        return  # WeChat Cloud Hosting calls carry no access token.
    if not wx_settings.APPID:
        yield error(
            2,
            "WXLOGISTICS['APPID'] is not set.",
            "Set it to the AppID of your Mini Program (it starts with 'wx'), from the WeChat admin console.",
        )
    if not wx_settings.APPSECRET:
        yield error(
            3,
            "WXLOGISTICS['APPSECRET'] is not set.",
            "Set it to your AppSecret, read from the environment, e.g. os.environ['WX_APPSECRET'].",
        )


def check_api_base_url() -> Iterable[CheckMessage]:
    url = wx_settings.API_BASE_URL
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        yield error(
            4,
            f"WXLOGISTICS['API_BASE_URL'] is {url!r}, which is not an absolute http(s) URL.",
            "Leave it unset for WeChat (https://api.weixin.qq.com), or point it at the sandbox, "
            "e.g. 'http://127.0.0.1:8900'.",
        )
        return
    if parts.path not in ("", "/") or parts.query:
        yield error(
            4,
            f"WXLOGISTICS['API_BASE_URL'] is {url!r}; it must not have a path or query.",
            "Give only the scheme and host, e.g. 'https://api.weixin.qq.com'.",
        )
    elif parts.scheme == "http" and parts.hostname not in LOCAL_HOSTS:
        yield warning(
            2,
            f"WXLOGISTICS['API_BASE_URL'] is {url!r}: plain http carries the access token unencrypted.",
            "Use https for any host other than a local sandbox.",
        )


def check_status_actions() -> Iterable[CheckMessage]:
    actions = wx_settings.STATUS_ACTIONS
    if not isinstance(actions, dict):
        yield error(
            5,
            f"WXLOGISTICS['STATUS_ACTIONS'] must be a dict, not {type(actions).__name__}.",
            'Map each order status to an action type, e.g. {"shipped": 300002}.',
        )
        return
    valid = ", ".join(f"{v} ({ActionType(v).name})" for v in ActionType.values)
    for status, action in actions.items():
        action_type = action.get("action_type") if isinstance(action, dict) else action
        if action_type not in ActionType.values:
            yield error(
                5,
                f"WXLOGISTICS['STATUS_ACTIONS'][{status!r}] has action_type {action_type!r}, "
                "which WeChat does not know.",
                f"Use one of {valid}.",
            )


def check_numbers() -> Iterable[CheckMessage]:
    timeout = wx_settings.TIMEOUT
    values = timeout if isinstance(timeout, (tuple, list)) else (timeout,)
    if (
        not values
        or len(values) > 2
        or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0 for v in values)
    ):
        yield error(
            7,
            f"WXLOGISTICS['TIMEOUT'] is {timeout!r}; it must be a positive number of seconds "
            "or a (connect, read) pair.",
            "Calls to WeChat always need a timeout, e.g. (3.05, 5).",
        )
    for key, minimum in (
        ("MAX_ATTEMPTS", 1),
        ("LEASE_SECONDS", 1),
        ("RETRY_BACKOFF_BASE", 0),
        ("RETRY_BACKOFF_CAP", 0),
        ("SWEEP_INTERVAL", 0),
        ("CONTACT_CACHE_SECONDS", 0),
        ("ACCESS_TOKEN_REFRESH_MARGIN", 0),
        ("PUSH_CONCURRENCY", 1),
    ):
        value = getattr(wx_settings, key)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < minimum:
            yield error(
                7,
                f"WXLOGISTICS[{key!r}] is {value!r}; it must be a number of at least {minimum}.",
                f"Remove it to use the default, {DEFAULTS[key]!r}.",
            )
    chain = wx_settings.PUSH_CHAIN
    if isinstance(chain, bool) or not isinstance(chain, int) or chain < 1:
        yield error(
            7,
            f"WXLOGISTICS['PUSH_CHAIN'] is {chain!r}; it must be a whole number of at least 1.",
            f"Remove it to use the default, {DEFAULTS['PUSH_CHAIN']!r}; 1 pushes one event at a time.",
        )
    for key in ("PUSH_DRAIN",):
        value = getattr(wx_settings, key)
        if not isinstance(value, bool):
            yield error(
                7,
                f"WXLOGISTICS[{key!r}] is {value!r}; it must be True or False.",
                f"Remove it to use the default, {DEFAULTS[key]!r}.",
            )

"""Whether the ``WXLOGISTICS`` dict and each value in it can be used: E001-E007, W001-W002.

The rules a value must pass are those of :data:`django_wxlogistics.conf.SETTINGS`; here they
become check messages (:func:`errors_of`), in the order the areas report them.
"""

from __future__ import annotations

import difflib
from urllib.parse import urlsplit

from django.core.checks import CheckMessage, Error, Warning

from ..conf import SETTINGS, wx_settings

LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}
E001_HINT = 'Write WXLOGISTICS = {"APPID": "wx...", "APPSECRET": "..."}.'
#: The numbers and switches of calls and delivery, in the order their E007s are reported.
NUMBERS = (
    "TIMEOUT",
    "MAX_ATTEMPTS",
    "LEASE_SECONDS",
    "RETRY_BACKOFF_BASE",
    "RETRY_BACKOFF_CAP",
    "SWEEP_INTERVAL",
    "CONTACT_CACHE_SECONDS",
    "ACCESS_TOKEN_REFRESH_MARGIN",
    "PUSH_CONCURRENCY",
    "PUSH_CHAIN",
    "PUSH_DRAIN",
)


def error(id: int, msg: str, hint: str) -> Error:
    return Error(msg, hint=hint, id=f"wxlogistics.E{id:03d}")


def warning(id: int, msg: str, hint: str) -> Warning:
    return Warning(msg, hint=hint, id=f"wxlogistics.W{id:03d}")


def errors_of(*keys: str) -> list[CheckMessage]:
    """The problems of each key's value, by the table's rules, as check errors."""
    return [error(p.id, p.message, p.hint) for key in keys for p in wx_settings.problems(key)]


def check_unknown_keys() -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    for key in wx_settings.unknown_keys():
        close = difflib.get_close_matches(key, SETTINGS, n=1)
        hint = f"Did you mean {close[0]!r}?" if close else f"Known keys: {', '.join(sorted(SETTINGS))}."
        messages.append(warning(1, f"WXLOGISTICS[{key!r}] is not a setting of django-wxlogistics.", hint))
    return messages


def check_credentials() -> list[CheckMessage]:
    """E006 for ACCESS_TOKEN; E002, E003 when its mode fetches tokens with the AppID and AppSecret."""
    messages = errors_of("ACCESS_TOKEN")
    # A provider of the shop's own, or WeChat Cloud Hosting (whose calls carry no access token).
    if messages or wx_settings.ACCESS_TOKEN not in ("stable", "classic"):
        return messages
    if not wx_settings.APPID:
        messages.append(
            error(
                2,
                "WXLOGISTICS['APPID'] is not set.",
                "Set it to the AppID of your Mini Program (it starts with 'wx'), from the WeChat "
                "admin console.",
            )
        )
    if not wx_settings.APPSECRET:
        messages.append(
            error(
                3,
                "WXLOGISTICS['APPSECRET'] is not set.",
                "Set it to your AppSecret, read from the environment, e.g. os.environ['WX_APPSECRET'].",
            )
        )
    return messages


def check_api_base_url() -> list[CheckMessage]:
    """E004; W002 for plain http to a host other than this machine."""
    messages = errors_of("API_BASE_URL")
    url = wx_settings.valid("API_BASE_URL")
    if url is not None:
        parts = urlsplit(url)
        if parts.scheme == "http" and parts.hostname not in LOCAL_HOSTS:
            messages.append(
                warning(
                    2,
                    f"WXLOGISTICS['API_BASE_URL'] is {url!r}: plain http carries the access token "
                    "unencrypted.",
                    "Use https for any host other than a local sandbox.",
                )
            )
    return messages


def check_status_actions() -> list[CheckMessage]:
    """E005: the action types of STATUS_ACTIONS (their templates are :mod:`.templates`')."""
    return errors_of("STATUS_ACTIONS")


def check_numbers() -> list[CheckMessage]:
    """E007: timeouts, attempts, backoff, lease, sweep, cache, concurrency, chains, draining."""
    return errors_of(*NUMBERS)

"""System checks for the ``WXLOGISTICS`` settings: ids ``wxlogistics.E00x`` / ``W00x``."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import urlsplit

from django.apps import AppConfig
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.utils.module_loading import import_string

from .api.checks import check_api_settings
from .conf import DEFAULTS, wx_settings
from .enums import ActionType
from .exceptions import ConfigurationError

TOKEN_MODES = ("stable", "classic", "cloud")
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}


def _error(id: int, msg: str, hint: str) -> Error:
    return Error(msg, hint=hint, id=f"wxlogistics.E{id:03d}")


def _warning(id: int, msg: str, hint: str) -> Warning:
    return Warning(msg, hint=hint, id=f"wxlogistics.W{id:03d}")


@register(Tags.compatibility)
def check_settings(app_configs: Sequence[AppConfig] | None = None, **kwargs: Any) -> list[CheckMessage]:
    try:
        user = wx_settings.user_settings()
    except ConfigurationError as exc:
        return [_error(1, str(exc), 'Write WXLOGISTICS = {"APPID": "wx...", "APPSECRET": "..."}.')]
    messages: list[CheckMessage] = []
    messages += _check_unknown_keys(user)
    messages += _check_credentials()
    messages += _check_api_base_url()
    messages += _check_status_actions()
    messages += _check_integration()
    messages += _check_numbers()
    messages += check_api_settings()
    messages += _check_delivery()
    messages += _check_client()
    messages += _check_cache()
    return messages


@register(Tags.admin, Tags.security)
def check_secrets(app_configs: Sequence[AppConfig] | None = None, **kwargs: Any) -> list[CheckMessage]:
    """wxlogistics.E050: no admin or API view searches, filters or orders on a secret field."""
    from .secret_fields import check_secret_fields

    return check_secret_fields()


def _check_unknown_keys(user: dict[str, Any]) -> Iterable[CheckMessage]:
    for key in wx_settings.unknown_keys():
        close = difflib.get_close_matches(key, DEFAULTS, n=1)
        hint = f"Did you mean {close[0]!r}?" if close else f"Known keys: {', '.join(sorted(DEFAULTS))}."
        yield _warning(1, f"WXLOGISTICS[{key!r}] is not a setting of django-wxlogistics.", hint)


def _check_credentials() -> Iterable[CheckMessage]:
    mode = wx_settings.ACCESS_TOKEN
    if not isinstance(mode, str) or not mode:
        yield _error(
            6,
            f"WXLOGISTICS['ACCESS_TOKEN'] must be a string, not {mode!r}.",
            f"Use one of {', '.join(TOKEN_MODES)} or the dotted path of your own provider.",
        )
        return
    if mode not in TOKEN_MODES:
        try:
            import_string(mode)
        except ImportError as exc:
            yield _error(
                6,
                f"WXLOGISTICS['ACCESS_TOKEN'] is {mode!r}, which cannot be imported ({exc}).",
                f"Use one of {', '.join(TOKEN_MODES)} or the dotted path of your own provider.",
            )
        return
    if mode == "cloud":
        return  # WeChat Cloud Hosting calls carry no access token.
    if not wx_settings.APPID:
        yield _error(
            2,
            "WXLOGISTICS['APPID'] is not set.",
            "Set it to the AppID of your Mini Program (it starts with 'wx'), from the WeChat admin console.",
        )
    if not wx_settings.APPSECRET:
        yield _error(
            3,
            "WXLOGISTICS['APPSECRET'] is not set.",
            "Set it to your AppSecret, read from the environment, e.g. os.environ['WX_APPSECRET'].",
        )


def _check_api_base_url() -> Iterable[CheckMessage]:
    url = wx_settings.API_BASE_URL
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        yield _error(
            4,
            f"WXLOGISTICS['API_BASE_URL'] is {url!r}, which is not an absolute http(s) URL.",
            "Leave it unset for WeChat (https://api.weixin.qq.com), or point it at the sandbox, "
            "e.g. 'http://127.0.0.1:8900'.",
        )
        return
    if parts.path not in ("", "/") or parts.query:
        yield _error(
            4,
            f"WXLOGISTICS['API_BASE_URL'] is {url!r}; it must not have a path or query.",
            "Give only the scheme and host, e.g. 'https://api.weixin.qq.com'.",
        )
    elif parts.scheme == "http" and parts.hostname not in LOCAL_HOSTS:
        yield _warning(
            2,
            f"WXLOGISTICS['API_BASE_URL'] is {url!r}: plain http carries the access token unencrypted.",
            "Use https for any host other than a local sandbox.",
        )


def _check_status_actions() -> Iterable[CheckMessage]:
    actions = wx_settings.STATUS_ACTIONS
    if not isinstance(actions, dict):
        yield _error(
            5,
            f"WXLOGISTICS['STATUS_ACTIONS'] must be a dict, not {type(actions).__name__}.",
            'Map each order status to an action type, e.g. {"shipped": 300002}.',
        )
        return
    valid = ", ".join(f"{v} ({ActionType(v).name})" for v in ActionType.values)
    for status, action in actions.items():
        action_type = action.get("action_type") if isinstance(action, dict) else action
        if action_type not in ActionType.values:
            yield _error(
                5,
                f"WXLOGISTICS['STATUS_ACTIONS'][{status!r}] has action_type {action_type!r}, "
                "which WeChat does not know.",
                f"Use one of {valid}.",
            )


def _check_numbers() -> Iterable[CheckMessage]:
    timeout = wx_settings.TIMEOUT
    values = timeout if isinstance(timeout, (tuple, list)) else (timeout,)
    if (
        not values
        or len(values) > 2
        or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0 for v in values)
    ):
        yield _error(
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
            yield _error(
                7,
                f"WXLOGISTICS[{key!r}] is {value!r}; it must be a number of at least {minimum}.",
                f"Remove it to use the default, {DEFAULTS[key]!r}.",
            )
    chain = wx_settings.PUSH_CHAIN
    if isinstance(chain, bool) or not isinstance(chain, int) or chain < 1:
        yield _error(
            7,
            f"WXLOGISTICS['PUSH_CHAIN'] is {chain!r}; it must be a whole number of at least 1.",
            f"Remove it to use the default, {DEFAULTS['PUSH_CHAIN']!r}; 1 pushes one event at a time.",
        )
    for key in ("PUSH_DRAIN",):
        value = getattr(wx_settings, key)
        if not isinstance(value, bool):
            yield _error(
                7,
                f"WXLOGISTICS[{key!r}] is {value!r}; it must be True or False.",
                f"Remove it to use the default, {DEFAULTS[key]!r}.",
            )


def _check_integration() -> list[CheckMessage]:
    # Message templates (E030–E033, W030, W032) and the ways in (E034–E037, W031).
    from .messages import check_message_templates
    from .receivers import check_order_sources

    return check_message_templates() + check_order_sources()


def _check_delivery() -> list[CheckMessage]:
    # Retry timing, and the broker around the lease (warnings only: W020-W022).
    from .delivery import check_delivery_settings

    return check_delivery_settings()


def _check_client() -> list[CheckMessage]:
    # The access-token provider, the connection pool and call timing (E010, E011, W010, W011).
    from .client import check_client_settings

    return check_client_settings()


REDIS_CACHES = ("django.core.cache.backends.redis.RedisCache", "django_redis.cache.RedisCache")
PYMEMCACHE_CACHE = "django.core.cache.backends.memcached.PyMemcacheCache"


def _check_cache() -> list[CheckMessage]:
    """W060: each contact lookup uses the default cache, whose server must not hold it forever."""
    from django.conf import settings

    if not wx_settings.CONTACT_RATE and not wx_settings.CONTACT_CACHE_SECONDS:
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
        _warning(
            60,
            "Each contact lookup uses the default cache (CONTACT_RATE's counter, "
            "CONTACT_CACHE_SECONDS), and calls to its server have no timeout: a cache server that "
            "stops answering would hold the admin's and the API's contact lookups for good.",
            f'Bound them, in seconds: CACHES["default"]["OPTIONS"] = {hint}.',
        )
    ]


def _redis_timeouts(location: str | Sequence[str], options: dict[str, Any]) -> tuple[Any, Any]:
    """The (read, connect) timeouts redis-py will use: from the URL, the OPTIONS, or its defaults."""
    from urllib.parse import parse_qs

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
    import inspect

    try:
        from redis.connection import AbstractConnection
    except ImportError:  # an older redis-py, or none: assume the older default
        return None
    default = inspect.signature(AbstractConnection.__init__).parameters.get(name)
    return None if default is None or default.default is inspect.Parameter.empty else default.default

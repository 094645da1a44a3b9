"""The WeChat logistics API client: every call to WeChat goes through here.

Usage::

    from django_wxlogistics.client import get_client

    client = get_client()  # the process-wide client, built from WXLOGISTICS
    client.update_path(waybill.token, waybill.waybill_id, timezone.now(), ActionType.PICKED_UP, "已揽收")
    contact = client.get_contact(waybill.token, waybill.waybill_id)

Errors are the classes of :mod:`django_wxlogistics.exceptions`. An access token WeChat
refuses (40001, 40014, 42001, 41001) is invalidated, fetched again once and the call
repeated once; every other error is raised to the caller, who knows whether to retry.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.dispatch import receiver
from django.test.signals import setting_changed
from django.utils.translation import gettext as _

from .conf import DEFAULTS, wx_settings
from .contacts import Contact, Party
from .enums import ACTION_MSG_MAX_LENGTH, ActionType
from .exceptions import (
    AccessTokenError,
    InvalidRequestData,
)
from .merchant_calls import MERCHANT_PATHS, MerchantCalls
from .redaction import get_logger, install_log_filters
from .tokens import AccessTokenProvider, build_provider
from .transport import Transport

logger = get_logger(__name__)

PATHS = {
    "logistics.updatePath": "/cgi-bin/express/delivery/path/update",
    "logistics.getContact": "/cgi-bin/express/delivery/contact/get",
    "logistics.previewTemplate": "/cgi-bin/express/delivery/template/preview",
    "logistics.updateBusiness": "/cgi-bin/express/delivery/service/business/update",
    **MERCHANT_PATHS,
}


def longest_push_seconds() -> float:
    """The longest one push may take under ``TIMEOUT``.

    Fetch a token, call, fetch again after a refusal, repeat: four calls at worst.
    """
    timeout = wx_settings.TIMEOUT
    return 4 * (sum(timeout) if isinstance(timeout, tuple) else timeout)


@dataclass(frozen=True)
class TemplatePreview:
    """``previewTemplate``'s answer: the waybill template rendered with the given data."""

    waybill_id: str
    rendered_waybill_template: str


class WeChatLogisticsClient(MerchantCalls):
    """The logistics APIs of WeChat, with access tokens handled; the merchant's calls come from
    :class:`~django_wxlogistics.merchant_calls.MerchantCalls`.

    Arguments default to the ``WXLOGISTICS`` settings. ``access_token`` takes a mode
    (``"stable"``, ``"classic"``, ``"cloud"``, a dotted path) or a provider object.
    """

    def __init__(
        self,
        *,
        base_url: str | None = None,
        timeout: float | tuple[float, float] | None = None,
        pool_maxsize: int | None = None,
        access_token: str | AccessTokenProvider | None = None,
    ) -> None:
        install_log_filters()
        self.transport = Transport(
            base_url or wx_settings.API_BASE_URL,
            timeout if timeout is not None else wx_settings.TIMEOUT,
            pool_maxsize or wx_settings.HTTP_POOL_MAXSIZE,
        )
        if access_token is None or isinstance(access_token, str):
            self.tokens: AccessTokenProvider = build_provider(self.transport, access_token)
        else:
            self.tokens = access_token

    def __repr__(self) -> str:
        return f"<WeChatLogisticsClient {self.transport.base_url} tokens={self.tokens!r}>"

    # -- the calls ----------------------------------------------------------------------

    def update_path(
        self,
        token: str,
        waybill_id: str,
        action_time: datetime | int,
        action_type: ActionType | int,
        action_msg: str,
    ) -> None:
        """Push one change of the waybill's trace (``logistics.updatePath``)."""
        api = "logistics.updatePath"
        body = {
            "token": _required_text(api, "token", token),
            "waybill_id": _required_text(api, "waybill_id", waybill_id),
            "action_time": _unix_seconds(api, action_time),
            "action_type": _action_type(api, action_type),
            "action_msg": _action_msg(api, action_msg),
        }
        self.call(api, body, secrets=(token,))

    def get_contact(self, token: str, waybill_id: str) -> Contact:
        """The waybill's sender and receiver (``logistics.getContact``), unmasked."""
        api = "logistics.getContact"
        body = {
            "token": _required_text(api, "token", token),
            "waybill_id": _required_text(api, "waybill_id", waybill_id),
        }
        payload = self.call(api, body, secrets=(token,))
        return Contact(
            waybill_id=str(payload.get("waybill_id") or waybill_id),
            sender=Party.from_api(payload.get("sender")),
            receiver=Party.from_api(payload.get("receiver")),
        )

    def preview_template(
        self,
        waybill_id: str,
        waybill_template: str,
        waybill_data: str | Mapping[str, Any],
        custom: Mapping[str, Any],
    ) -> TemplatePreview:
        """Render a waybill template with sample data (``logistics.previewTemplate``).

        For delivery companies that print waybills through WeChat.
        """
        api = "logistics.previewTemplate"
        data = waybill_data if isinstance(waybill_data, str) else json.dumps(waybill_data, ensure_ascii=False)
        body = {
            "waybill_id": _required_text(api, "waybill_id", waybill_id),
            "waybill_template": _required_text(api, "waybill_template", waybill_template),
            "waybill_data": data,
            "custom": dict(custom),
        }
        payload = self.call(api, body)
        return TemplatePreview(
            waybill_id=str(payload.get("waybill_id") or waybill_id),
            rendered_waybill_template=str(payload.get("rendered_waybill_template") or ""),
        )

    def update_business(self, shop_app_id: str, biz_id: str, result_code: int, result_msg: str = "") -> None:
        """Answer a shop's request to open an account (``logistics.updateBusiness``, for delivery companies).

        ``result_code`` 0 approves; any other value refuses, with ``result_msg`` saying why.
        """
        api = "logistics.updateBusiness"
        if isinstance(result_code, bool) or not isinstance(result_code, int):
            raise InvalidRequestData(None, _("result_code must be an integer (0 approves)."), api)
        if result_code != 0 and not (result_msg or "").strip():
            raise InvalidRequestData(None, _("result_msg must say why the request is refused."), api)
        body: dict[str, Any] = {
            "shop_app_id": _required_text(api, "shop_app_id", shop_app_id),
            "biz_id": _required_text(api, "biz_id", biz_id),
            "result_code": result_code,
        }
        if result_code != 0:
            body["result_msg"] = result_msg
        self.call(api, body)

    # -- the one way out ------------------------------------------------------------------

    def call(self, api: str, body: Mapping[str, Any], *, secrets: Iterable[str] = ()) -> dict[str, Any]:
        """POST ``body`` to ``api`` with an access token; on a refused token, refresh once and repeat once."""
        path = PATHS[api]
        secrets = tuple(secrets)
        token = self.tokens.get_token()
        try:
            return self.transport.request(api, "POST", path, access_token=token, body=body, secrets=secrets)
        except AccessTokenError as exc:
            if token is None:
                raise
            refused = exc
        self.tokens.invalidate(token)
        fresh = self.tokens.get_token()
        if fresh is None or fresh == token:
            raise refused  # the provider has nothing newer: repeating cannot help
        logger.info(
            "%s: access token refused (errcode %s); repeating the call once with a new one.",
            api,
            refused.errcode,
            extra={"wx_api": api, "wx_errcode": refused.errcode},
        )
        return self.transport.request(api, "POST", path, access_token=fresh, body=body, secrets=secrets)

    def close(self) -> None:
        self.transport.close()


# -- validation before any I/O ----------------------------------------------------------------


def _required_text(api: str, field: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequestData(
            None,
            _("%(field)s must be a non-empty string, not %(kind)s.") % {"field": field, "kind": _kind(value)},
            api,
        )
    return value


def _kind(value: Any) -> str:
    return "an empty string" if value == "" else type(value).__name__


def _unix_seconds(api: str, value: Any) -> int:
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise InvalidRequestData(
                None,
                _("action_time is a naive datetime; give it a time zone (django.utils.timezone.now())."),
                api,
            )
        return int(value.timestamp())
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return int(value)
    raise InvalidRequestData(
        None, _("action_time must be a datetime or Unix seconds, not %(value)r.") % {"value": value}, api
    )


def _action_type(api: str, value: Any) -> int:
    try:
        return int(ActionType(int(value)))
    except (TypeError, ValueError):
        valid = ", ".join(f"{v} ({ActionType(v).name})" for v in ActionType.values)
        raise InvalidRequestData(
            None,
            _("action_type %(value)r is not one WeChat knows; use one of %(valid)s.")
            % {"value": value, "valid": valid},
            api,
        ) from None


def _action_msg(api: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequestData(
            None, _("action_msg, the text shown to the customer, must not be empty."), api
        )
    if len(value) > ACTION_MSG_MAX_LENGTH:
        raise InvalidRequestData(
            None,
            _("action_msg has %(length)d characters; the most is %(max)d.")
            % {"length": len(value), "max": ACTION_MSG_MAX_LENGTH},
            api,
        )
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidRequestData(None, _("action_msg is not valid UTF-8 text."), api) from None
    return value


# -- the process-wide client ---------------------------------------------------------------------

#: The settings a client is built from; a change to any of them builds a new client.
CLIENT_SETTINGS = (
    "API_BASE_URL",
    "TIMEOUT",
    "HTTP_POOL_MAXSIZE",
    "ACCESS_TOKEN",
    "APPID",
    "APPSECRET",
    "ACCESS_TOKEN_REFRESH_MARGIN",
)

_current: tuple[tuple[Any, ...], WeChatLogisticsClient] | None = None
_current_lock = threading.Lock()


def _settings_key() -> tuple[Any, ...]:
    user = wx_settings.user_settings()
    return tuple(repr(user.get(key, DEFAULTS[key])) for key in CLIENT_SETTINGS)


def get_client() -> WeChatLogisticsClient:
    """The process-wide client, built from the ``WXLOGISTICS`` settings (rebuilt when they change)."""
    global _current
    key = _settings_key()
    current = _current
    if current is not None and current[0] == key:
        return current[1]
    with _current_lock:
        if _current is None or _current[0] != key:
            _current = (key, WeChatLogisticsClient())
        return _current[1]


def reset_client() -> None:
    """Forget the process-wide client (and its in-process token cache)."""
    global _current
    with _current_lock:
        _current = None


@receiver(setting_changed)
def _settings_changed(setting: str, **kwargs: Any) -> None:
    if setting == "WXLOGISTICS":
        reset_client()

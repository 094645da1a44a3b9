"""WeChat's endpoints: access tokens, updatePath, getContact and two delivery-provider APIs; the
routes of the merchant's side (shipping information, the tracking component) beside them."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

from .replies import OK, Reply, data_format_error, json_reply, wechat_error
from .shipping_api import SHIPPING_APIS, SHIPPING_ROUTES
from .state import TOKEN_EXPIRED, TOKEN_INVALID, TOKEN_MISSING, SandboxState
from .tracking_api import TRACKING_APIS, TRACKING_ROUTES
from .validation import (
    DataFormatError,
    validate_get_contact,
    validate_preview_template,
    validate_stable_token,
    validate_update_business,
    validate_update_path,
)

#: path -> (api name in the call log, the HTTP method WeChat expects)
ROUTES: dict[str, tuple[str, str]] = {
    "/cgi-bin/token": ("token", "GET"),
    "/cgi-bin/stable_token": ("stable_token", "POST"),
    "/cgi-bin/express/delivery/path/update": ("logistics.updatePath", "POST"),
    "/cgi-bin/express/delivery/contact/get": ("logistics.getContact", "POST"),
    "/cgi-bin/express/delivery/template/preview": ("template.preview", "POST"),
    "/cgi-bin/express/delivery/service/business/update": ("business.update", "POST"),
    **SHIPPING_ROUTES,
    **TRACKING_ROUTES,
}

TOKEN_ERRORS = {
    TOKEN_MISSING: (41001, "access_token missing"),
    TOKEN_INVALID: (40001, "invalid credential, access_token is invalid or not latest"),
    TOKEN_EXPIRED: (42001, "access_token expired"),
}

#: what parse_json returns for bytes that are not UTF-8 JSON
INVALID_JSON: Any = object()
NOT_JSON_HINT = "the body is not valid UTF-8 JSON"


def parse_json(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):  # nested thousands deep: not JSON to us
        return INVALID_JSON


def body_for_log(api: str, body: Any) -> Any:
    """The body as the call log keeps it: parsed JSON, without the app secret."""
    if body is INVALID_JSON:
        return None
    if api == "stable_token" and isinstance(body, dict) and "secret" in body:
        return {**body, "secret": "***"}
    return body


def handle(state: SandboxState, api: str, method: str, query: dict[str, str], body: Any) -> Reply:
    """WeChat's answer to one call, checked in WeChat's order: method, token, body, waybill."""
    expected = next(m for a, m in ROUTES.values() if a == api)
    if method != expected:
        if expected == "GET":
            return wechat_error(43001, "require GET method")
        return wechat_error(43002, "require POST method")
    if api == "token":
        return classic_token(state, query)
    if api == "stable_token":
        return stable_token(state, body)
    status = state.check_access_token(query.get("access_token"))
    if status in TOKEN_ERRORS:
        return wechat_error(*TOKEN_ERRORS[status])
    if body is INVALID_JSON:
        return data_format_error(NOT_JSON_HINT)
    try:
        return BUSINESS_APIS[api](state, body)
    except DataFormatError as exc:
        return data_format_error(str(exc))


def _token_reply(token: str, expires_in: int) -> Reply:
    return json_reply({"access_token": token, "expires_in": expires_in})


def classic_token(state: SandboxState, query: dict[str, str]) -> Reply:
    if query.get("grant_type") != "client_credential":
        return wechat_error(40002, "invalid grant_type")
    error = state.credentials_error(query.get("appid", ""), query.get("secret", ""))
    if error:
        return wechat_error(*error)
    return _token_reply(*state.issue_classic_token())


def stable_token(state: SandboxState, body: Any) -> Reply:
    if body is INVALID_JSON:
        return data_format_error(NOT_JSON_HINT)
    try:
        fields = validate_stable_token(body)
    except DataFormatError as exc:
        return data_format_error(str(exc))
    if fields["grant_type"] != "client_credential":
        return wechat_error(40002, "invalid grant_type")
    error = state.credentials_error(fields["appid"], fields["secret"])
    if error:
        return wechat_error(*error)
    return _token_reply(*state.issue_stable_token(fields["force_refresh"]))


def update_path(state: SandboxState, body: Any) -> Reply:
    fields = validate_update_path(body)
    waybill = state.find_waybill(fields["waybill_id"], fields["token"])
    if waybill is None:
        return wechat_error(40199, "waybill not found")
    if waybill.token != fields["token"]:
        return wechat_error(9300507, "invalid token")
    state.add_event(waybill, fields)
    return json_reply(dict(OK))


def get_contact(state: SandboxState, body: Any) -> Reply:
    fields = validate_get_contact(body)
    waybill = state.find_waybill(fields["waybill_id"], fields["token"])
    if waybill is None:
        return wechat_error(40199, "waybill not found")
    if waybill.token != fields["token"]:
        return wechat_error(9300507, "invalid token")
    return json_reply(waybill.contact_reply())


def preview_template(state: SandboxState, body: Any) -> Reply:
    fields = validate_preview_template(body)
    # No renderer here: the "rendered" template is the template itself, base64 as WeChat sends it.
    rendered = base64.b64encode(fields["waybill_template"].encode("utf-8")).decode("ascii")
    waybill_id = str(fields["custom"].get("waybill_id") or fields["custom"].get("order_id") or "")
    return json_reply({**OK, "waybill_id": waybill_id, "rendered_waybill_template": rendered})


def update_business(state: SandboxState, body: Any) -> Reply:
    validate_update_business(body)
    return json_reply(dict(OK))


BUSINESS_APIS: dict[str, Callable[[SandboxState, Any], Reply]] = {
    "logistics.updatePath": update_path,
    "logistics.getContact": get_contact,
    "template.preview": preview_template,
    "business.update": update_business,
    **SHIPPING_APIS,
    **TRACKING_APIS,
}

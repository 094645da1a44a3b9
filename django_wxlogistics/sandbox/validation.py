"""Checks of request bodies the way WeChat makes them: errcode 47001 before any lookup."""

from __future__ import annotations

from typing import Any

from .labels import ACTION_TYPES

#: the largest ``action_time`` accepted: an unsigned 32-bit Unix time (the year 2106)
MAX_ACTION_TIME = 2**32 - 1


class DataFormatError(ValueError):
    """A body field is missing or has the wrong type (errcode 47001)."""


def _require_str(body: dict[str, Any], name: str, *, allow_empty: bool = False) -> str:
    if name not in body:
        raise DataFormatError(f"missing field {name!r}")
    value = body[name]
    if not isinstance(value, str):
        raise DataFormatError(f"field {name!r} must be a string, not {type(value).__name__}")
    if not allow_empty and not value:
        raise DataFormatError(f"field {name!r} must not be empty")
    return value


def _require_int(body: dict[str, Any], name: str) -> int:
    if name not in body:
        raise DataFormatError(f"missing field {name!r}")
    value = body[name]
    # bool is an int subclass in Python, but true/false is not a number in JSON.
    if isinstance(value, bool) or not isinstance(value, int):
        raise DataFormatError(f"field {name!r} must be an integer, not {type(value).__name__}")
    return value


def require_object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise DataFormatError("the body must be a JSON object")
    return body


def validate_update_path(body: Any) -> dict[str, Any]:
    """The fields of a ``logistics.updatePath`` body, checked for presence and type."""
    body = require_object(body)
    token = _require_str(body, "token")
    waybill_id = _require_str(body, "waybill_id")
    action_time = _require_int(body, "action_time")
    if not 0 <= action_time <= MAX_ACTION_TIME:
        raise DataFormatError(
            f"field 'action_time' must be a Unix timestamp (seconds) from 0 to {MAX_ACTION_TIME}, "
            f"not {action_time}"
        )
    action_type = _require_int(body, "action_type")
    if action_type not in ACTION_TYPES:
        raise DataFormatError(
            f"field 'action_type' must be one of {', '.join(map(str, sorted(ACTION_TYPES)))}, "
            f"not {action_type}"
        )
    action_msg = _require_str(body, "action_msg")
    if not action_msg.strip():
        raise DataFormatError("field 'action_msg' must not be blank")
    return {
        "token": token,
        "waybill_id": waybill_id,
        "action_time": action_time,
        "action_type": action_type,
        "action_msg": action_msg,
    }


def validate_get_contact(body: Any) -> dict[str, str]:
    """The fields of a ``logistics.getContact`` body."""
    body = require_object(body)
    return {"token": _require_str(body, "token"), "waybill_id": _require_str(body, "waybill_id")}


def validate_stable_token(body: Any) -> dict[str, Any]:
    """The fields of a ``/cgi-bin/stable_token`` body; ``force_refresh`` is optional."""
    body = require_object(body)
    force_refresh = body.get("force_refresh", False)
    if not isinstance(force_refresh, bool):
        raise DataFormatError("field 'force_refresh' must be true or false")
    return {
        "grant_type": _require_str(body, "grant_type", allow_empty=True),
        "appid": _require_str(body, "appid", allow_empty=True),
        "secret": _require_str(body, "secret", allow_empty=True),
        "force_refresh": force_refresh,
    }


def validate_preview_template(body: Any) -> dict[str, Any]:
    """The fields of ``/express/delivery/template/preview`` (a delivery provider's API)."""
    body = require_object(body)
    fields: dict[str, Any] = {
        "waybill_template": _require_str(body, "waybill_template"),
        "waybill_data": _require_str(body, "waybill_data"),
    }
    custom = body.get("custom")
    if not isinstance(custom, dict):
        raise DataFormatError("field 'custom' must be an object (the order: order_id, delivery_id, ...)")
    fields["custom"] = custom
    return fields


def validate_update_business(body: Any) -> dict[str, Any]:
    """The fields of ``/express/delivery/service/business/update`` (a provider's API)."""
    body = require_object(body)
    fields: dict[str, Any] = {
        "shop_app_id": _require_str(body, "shop_app_id"),
        "biz_id": _require_str(body, "biz_id"),
        "result_code": _require_int(body, "result_code"),
    }
    if "result_msg" in body:
        fields["result_msg"] = _require_str(body, "result_msg", allow_empty=True)
    return fields

"""WeChat's shipping-information endpoints (发货信息管理, ``/wxa/sec/order/…``), answered with
WeChat's rules and errcodes."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from . import shipping_rules
from .merchant_validation import (
    ShippingError,
    opt_str,
    req_str,
    validate_combined,
    validate_notify,
    validate_order_list,
    validate_payment_ref,
    validate_upload,
)
from .replies import OK, Reply, json_reply, wechat_error
from .validation import DataFormatError, require_object

if TYPE_CHECKING:
    from .state import SandboxState

Handler = Callable[["SandboxState", Any], Reply]

#: path -> (API name in the call log and the fault plan, HTTP method)
SHIPPING_ROUTES: dict[str, tuple[str, str]] = {
    f"/wxa/sec/order/{name}": (name, "POST")
    for name in (
        "upload_shipping_info",
        "upload_combined_shipping_info",
        "get_order",
        "get_order_list",
        "notify_confirm_receive",
        "set_msg_jump_path",
        "is_trade_managed",
        "is_trade_management_confirmation_completed",
    )
}


def answering(handler: Handler) -> Handler:
    """The handler, with a ShippingError answered as WeChat's errcode and words."""

    def run(state: SandboxState, body: Any) -> Reply:
        try:
            return handler(state, body)
        except ShippingError as exc:
            return wechat_error(exc.errcode, str(exc))

    return run


def upload_shipping_info(state: SandboxState, body: Any) -> Reply:
    fields = validate_upload(body, state.merchant.carriers)
    shipping_rules.upload(state.merchant.payments, fields)
    return json_reply(dict(OK))


def upload_combined_shipping_info(state: SandboxState, body: Any) -> Reply:
    fields = validate_combined(body, state.merchant.carriers)
    shipping_rules.upload_combined(state.merchant.payments, fields)
    return json_reply(dict(OK))


def get_order(state: SandboxState, body: Any) -> Reply:
    order = shipping_rules.get_order(state.merchant.payments, validate_payment_ref(body))
    return json_reply({**OK, "order": order})


def get_order_list(state: SandboxState, body: Any) -> Reply:
    return json_reply(shipping_rules.order_list(state.merchant.payments, validate_order_list(body)))


def notify_confirm_receive(state: SandboxState, body: Any) -> Reply:
    shipping_rules.notify_confirm_receive(state.merchant.payments, validate_notify(body))
    return json_reply(dict(OK))


def set_msg_jump_path(state: SandboxState, body: Any) -> Reply:
    path = req_str(require_object(body), "path")
    book = state.merchant.payments
    with book.lock:
        book.msg_jump_path = path
    return json_reply(dict(OK))


def _appid(state: SandboxState, body: Any) -> str | Reply:
    """The ``appid`` asked about, or WeChat's answer when it is missing or not this account's."""
    if body is not None and not isinstance(body, dict):
        raise DataFormatError("the body must be a JSON object")
    appid = opt_str(body or {}, "appid")
    if appid is None:
        return wechat_error(40097, "invalid args hint: [give the mini program's appid]")
    if state.appid is not None and appid != state.appid:
        return wechat_error(40013, "invalid appid hint: [a mini program can only ask about itself]")
    return appid


def is_trade_managed(state: SandboxState, body: Any) -> Reply:
    appid = _appid(state, body)
    if isinstance(appid, Reply):
        return appid
    return json_reply({**OK, "is_trade_managed": state.merchant.payments.config()["trade_managed"]})


def is_trade_management_confirmation_completed(state: SandboxState, body: Any) -> Reply:
    appid = _appid(state, body)
    if isinstance(appid, Reply):
        return appid
    return json_reply({**OK, "completed": state.merchant.payments.config()["confirmation_completed"]})


SHIPPING_APIS: dict[str, Handler] = {
    name: answering(handler)
    for name, handler in (
        ("upload_shipping_info", upload_shipping_info),
        ("upload_combined_shipping_info", upload_combined_shipping_info),
        ("get_order", get_order),
        ("get_order_list", get_order_list),
        ("notify_confirm_receive", notify_confirm_receive),
        ("set_msg_jump_path", set_msg_jump_path),
        ("is_trade_managed", is_trade_managed),
        ("is_trade_management_confirmation_completed", is_trade_management_confirmation_completed),
    )
}

"""WeChat's tracking-component endpoints (物流查询组件, ``/cgi-bin/express/delivery/open_msg/…``):
``trace_waybill`` hands out a ``waybill_token``, ``query_trace`` and ``update_waybill_goods`` use it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .merchant_validation import opt_str, req_object, req_str
from .replies import OK, Reply, json_reply, wechat_error
from .shipping_api import Handler
from .tracking import TrackedWaybill
from .validation import DataFormatError, require_object

if TYPE_CHECKING:
    from .state import SandboxState

#: path -> (API name in the call log and the fault plan, HTTP method)
TRACKING_ROUTES: dict[str, tuple[str, str]] = {
    f"/cgi-bin/express/delivery/open_msg/{name}": (name, "POST")
    for name in ("trace_waybill", "query_trace", "update_waybill_goods", "get_delivery_list")
}
#: goods_name's limit, in characters, as query_trace's page gives it
MAX_GOODS_NAME = 60
BAD_TOKEN = (
    9300507,
    "invalid token, can't decryption or decryption result is different from the plaintext "
    "hint: [waybill_token参数错误]",
)


def _goods(body: dict[str, Any]) -> list[dict[str, str]]:
    detail_list = req_object(body, "goods_info").get("detail_list")
    if not isinstance(detail_list, list) or not detail_list:
        raise DataFormatError("field 'goods_info.detail_list' must be an array of one or more goods")
    goods = []
    for index, item in enumerate(detail_list):
        where = f"goods_info.detail_list[{index}]."
        if not isinstance(item, dict):
            raise DataFormatError(f"field 'goods_info.detail_list[{index}]' must be an object")
        name = req_str(item, "goods_name", where)
        if len(name) > MAX_GOODS_NAME:
            raise DataFormatError(f"field '{where}goods_name' must be at most {MAX_GOODS_NAME} characters")
        good = {"goods_name": name, "goods_img_url": req_str(item, "goods_img_url", where)}
        desc = opt_str(item, "goods_desc", where)
        if desc is not None:
            good["goods_desc"] = desc
        goods.append(good)
    return goods


def trace_waybill(state: SandboxState, body: Any) -> Reply:
    body = require_object(body)
    fields: dict[str, Any] = {
        "openid": req_str(body, "openid"),
        "receiver_phone": req_str(body, "receiver_phone"),
        "waybill_id": req_str(body, "waybill_id"),
        "goods": _goods(body),
    }
    for name in ("sender_phone", "trans_id", "order_detail_path", "delivery_id"):
        fields[name] = opt_str(body, name)
    carriers = state.merchant.carriers
    if fields["delivery_id"] is not None and not carriers.knows(fields["delivery_id"]):
        raise DataFormatError(
            f"delivery_id {fields['delivery_id']!r} is not a delivery_id of get_delivery_list"
        )
    return json_reply({**OK, "waybill_token": state.merchant.tracking.trace(fields)})


def _tracked(state: SandboxState, body: dict[str, Any]) -> TrackedWaybill | Reply:
    """The waybill a ``waybill_token`` stands for, or WeChat's answer when it is unknown."""
    token = req_str(body, "waybill_token")
    openid = opt_str(body, "openid")
    waybill = state.merchant.tracking.find(token)
    if waybill is None:
        return wechat_error(*BAD_TOKEN)
    if openid is not None and openid != waybill.openid:
        return wechat_error(40003, "invalid openid hint: [not the openid the waybill was registered for]")
    return waybill


def query_trace(state: SandboxState, body: Any) -> Reply:
    waybill = _tracked(state, require_object(body))
    if isinstance(waybill, Reply):
        return waybill
    info = waybill.to_dict()
    return json_reply(
        {
            **OK,
            "waybill_info": {"status": info["status"], "waybill_id": info["waybill_id"]},
            "shop_info": {"goods_info": {"detail_list": info["goods"]}},
            "delivery_info": {
                "delivery_id": info["delivery_id"] or "",
                "delivery_name": state.merchant.carriers.name(info["delivery_id"] or ""),
            },
        }
    )


def update_waybill_goods(state: SandboxState, body: Any) -> Reply:
    body = require_object(body)
    goods = _goods(body)
    waybill = _tracked(state, body)
    if isinstance(waybill, Reply):
        return waybill
    state.merchant.tracking.update_goods(waybill, goods)
    return json_reply(dict(OK))


def get_delivery_list(state: SandboxState, body: Any) -> Reply:
    if body is not None and not isinstance(body, dict):
        raise DataFormatError("the body must be a JSON object, or empty")
    carriers = state.merchant.carriers.delivery_list()
    return json_reply({**OK, "delivery_list": carriers, "count": len(carriers)})


TRACKING_APIS: dict[str, Handler] = {
    "trace_waybill": trace_waybill,
    "query_trace": query_trace,
    "update_waybill_goods": update_waybill_goods,
    "get_delivery_list": get_delivery_list,
}

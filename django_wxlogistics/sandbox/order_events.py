"""The fields of the order events the sandbox pushes (``add_waybill``, ``cancel_waybill``), as
WeChat sends them, built from the few a developer chooses and checked with a reason."""

from __future__ import annotations

import copy
import secrets
import time
from typing import Any

#: The provider's mini program (ToUserName) and WeChat's own sender (FromUserName).
PROVIDER_USERNAME = "gh_wxlsandbox0001"
WECHAT_OPENID = "oWeChatLogisticsSandbox000000"

PARTY_FIELDS = (
    "Name",
    "Tel",
    "Mobile",
    "Company",
    "PostCode",
    "Country",
    "Province",
    "City",
    "Area",
    "Address",
)
DEFAULT_SENDER: dict[str, str] = {
    "Name": "微物流示例商店",
    "Tel": "020-88888888",
    "Mobile": "18666666666",
    "Company": "微物流示例商店",
    "PostCode": "510000",
    "Country": "中国",
    "Province": "广东省",
    "City": "广州市",
    "Area": "海珠区",
    "Address": "新港中路 397 号",
}
DEFAULT_RECEIVER: dict[str, str] = {
    "Name": "王小萌",
    "Tel": "029-77777777",
    "Mobile": "18610000000",
    "Company": "",
    "PostCode": "510620",
    "Country": "中国",
    "Province": "广东省",
    "City": "广州市",
    "Area": "天河区",
    "Address": "天河路 385 号",
}
DEFAULT_CARGO: dict[str, Any] = {
    "Weight": 1.2,
    "Space_X": 20.5,
    "Space_Y": 15.0,
    "Space_Z": 10.0,
    "Count": 1,
    "DetailList": [{"Name": "茶叶礼盒", "Count": 1}],
}
DEFAULT_INSURED: dict[str, Any] = {"UseInsured": 0, "InsuredValue": 0}
DEFAULT_SERVICE: dict[str, Any] = {"ServiceType": 0, "ServiceName": "标准快递"}

#: the fields of add_waybill a developer may choose; the others are WeChat's own
ORDER_FIELDS = (
    "Token",
    "OrderID",
    "BizID",
    "BizPwd",
    "ShopAppID",
    "WayBillID",
    "Remark",
    "Sender",
    "Receiver",
    "Cargo",
    "Insured",
    "Service",
)
TEXT_FIELDS = ("Token", "OrderID", "BizID", "BizPwd", "ShopAppID", "WayBillID", "Remark")
#: WayBillID "0" asks the provider (the shop) to assign the waybill's id
PROVIDER_ASSIGNS = "0"


def new_order_id() -> str:
    """A fresh OrderID, unique within a sandbox's life: the time and random digits."""
    return f"{time.strftime('%Y%m%d%H%M%S')}{secrets.randbelow(10**6):06d}"


def _text(value: Any, name: str, *, allow_empty: bool = True) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string, not {type(value).__name__}")
    if not allow_empty and not value:
        raise ValueError(f"{name} must not be empty")
    if len(value) > 1024:
        raise ValueError(f"{name} must be at most 1024 characters")
    return value


def _number(value: Any, name: str, *, whole: bool = False) -> int | float:
    kinds = int if whole else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or value < 0:
        kind = "a whole number" if whole else "a number"
        raise ValueError(f"{name} must be {kind} >= 0, not {value!r}")
    return value


def _object(value: Any, name: str, allowed: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"{name} must be an object with {', '.join(allowed)}")
    unknown = set(value) - set(allowed)
    if unknown:
        raise ValueError(
            f"{name} has unknown field(s) {', '.join(sorted(unknown))}; use {', '.join(allowed)}"
        )
    return value


def clean_party(value: Any, name: str, default: dict[str, str]) -> dict[str, str]:
    """Sender or Receiver: the fields given replace the default's."""
    if value is None:
        return dict(default)
    given = _object(value, name, PARTY_FIELDS)
    return {key: _text(given.get(key, default[key]), f"{name}.{key}") for key in PARTY_FIELDS}


def clean_cargo(value: Any) -> dict[str, Any]:
    if value is None:
        return copy.deepcopy(DEFAULT_CARGO)
    given = _object(value, "Cargo", tuple(DEFAULT_CARGO))
    cargo: dict[str, Any] = {}
    for key in ("Weight", "Space_X", "Space_Y", "Space_Z"):
        cargo[key] = _number(given.get(key, DEFAULT_CARGO[key]), f"Cargo.{key}")
    cargo["Count"] = _number(given.get("Count", DEFAULT_CARGO["Count"]), "Cargo.Count", whole=True)
    details = given.get("DetailList", DEFAULT_CARGO["DetailList"])
    if not isinstance(details, list):
        raise ValueError("Cargo.DetailList must be a list of objects with Name and Count")
    cargo["DetailList"] = []
    for index, item in enumerate(details):
        item = _object(item, f"Cargo.DetailList[{index}]", ("Name", "Count"))
        cargo["DetailList"].append(
            {
                "Name": _text(item.get("Name", ""), f"Cargo.DetailList[{index}].Name"),
                "Count": _number(item.get("Count", 1), f"Cargo.DetailList[{index}].Count", whole=True),
            }
        )
    return cargo


def clean_insured(value: Any) -> dict[str, Any]:
    if value is None:
        return dict(DEFAULT_INSURED)
    given = _object(value, "Insured", tuple(DEFAULT_INSURED))
    use = given.get("UseInsured", 0)
    if use not in (0, 1) or isinstance(use, bool):
        raise ValueError(f"Insured.UseInsured must be 0 or 1, not {use!r}")
    value_in_fen = _number(given.get("InsuredValue", 0), "Insured.InsuredValue", whole=True)
    return {"UseInsured": use, "InsuredValue": value_in_fen}


def clean_service(value: Any) -> dict[str, Any]:
    if value is None:
        return dict(DEFAULT_SERVICE)
    given = _object(value, "Service", tuple(DEFAULT_SERVICE))
    return {
        "ServiceType": _number(given.get("ServiceType", 0), "Service.ServiceType", whole=True),
        "ServiceName": _text(given.get("ServiceName", DEFAULT_SERVICE["ServiceName"]), "Service.ServiceName"),
    }


def add_waybill_fields(given: dict[str, Any], *, shop_appid: str) -> dict[str, Any]:
    """The whole ``add_waybill`` event: ``given`` (WeChat's field names) over the defaults.

    The Token is new unless given; the OrderID too; WayBillID "0" lets the shop assign one.
    ValueError says which field is wrong.
    """
    unknown = set(given) - set(ORDER_FIELDS)
    if unknown:
        raise ValueError(f"unknown field(s) {', '.join(sorted(unknown))}; use {', '.join(ORDER_FIELDS)}")
    texts = {name: _text(given[name], name) for name in TEXT_FIELDS if name in given}
    for name in ("Token", "OrderID", "WayBillID"):
        if name in texts and not texts[name]:
            raise ValueError(f"{name} must not be empty")
    return {
        "ToUserName": PROVIDER_USERNAME,
        "FromUserName": WECHAT_OPENID,
        "CreateTime": int(time.time()),
        "MsgType": "event",
        "Event": "add_waybill",
        "Token": texts.get("Token") or secrets.token_urlsafe(24),
        "OrderID": texts.get("OrderID") or new_order_id(),
        "BizID": texts.get("BizID", "sandbox_biz"),
        "BizPwd": texts.get("BizPwd", "sandbox_pwd"),
        "ShopAppID": texts.get("ShopAppID", shop_appid),
        "WayBillID": texts.get("WayBillID", PROVIDER_ASSIGNS),
        "Remark": texts.get("Remark", "易碎物品"),
        "Sender": clean_party(given.get("Sender"), "Sender", DEFAULT_SENDER),
        "Receiver": clean_party(given.get("Receiver"), "Receiver", DEFAULT_RECEIVER),
        "Cargo": clean_cargo(given.get("Cargo")),
        "Insured": clean_insured(given.get("Insured")),
        "Service": clean_service(given.get("Service")),
    }


def cancel_waybill_fields(order: dict[str, Any], waybill_id: str) -> dict[str, Any]:
    """The ``cancel_waybill`` event of a placed order (``order``: its add_waybill fields)."""
    return {
        "ToUserName": order["ToUserName"],
        "FromUserName": order["FromUserName"],
        "CreateTime": int(time.time()),
        "MsgType": "event",
        "Event": "cancel_waybill",
        "OrderID": order["OrderID"],
        "BizID": order["BizID"],
        "BizPwd": order["BizPwd"],
        "ShopAppID": order["ShopAppID"],
        "WayBillID": waybill_id,
    }


def contact(party: dict[str, str]) -> dict[str, str]:
    """A Sender or Receiver as getContact answers it: name, tel, mobile and one address."""
    address = "".join(party.get(key, "") for key in ("Province", "City", "Area", "Address"))
    return {"name": party["Name"], "tel": party["Tel"], "mobile": party["Mobile"], "address": address}

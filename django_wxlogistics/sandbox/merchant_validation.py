"""Checks of the shipping-information bodies the way WeChat makes them, before any payment lookup:
47001 for a missing or mistyped field, WeChat's own errcode for a value it documents one for."""

from __future__ import annotations

import datetime
import re
from typing import Any

from .carriers import MAX_CODE_BYTES, Carriers
from .validation import DataFormatError, require_object

#: WeChat's words for each errcode of the shipping-information APIs (their documentation pages)
ERRMSG: dict[int, str] = {
    10060001: "支付单不存在",
    10060002: "支付单已完成发货，无法继续发货",
    10060003: "支付单已使用重新发货机会",
    10060004: "支付单处于不可发货的状态",
    10060005: "物流类型有误",
    10060006: "非快递发货时不允许分拆发货",
    10060007: "分拆发货模式下必须填写 is_all_delivered 字段",
    10060008: "商品描述 item_desc 字段不能为空",
    10060009: "商品描述 item_desc 字段太长",
    10060011: "last_index不合法",
    10060014: "参数错误",
    10060023: "发货信息未更新",
    10060024: "物流信息列表太长",
    10060025: "物流公司编码太长",
    10060026: "物流单号太长",
    10060028: "支付单不是已发货状态",
    10060029: "签收时间非法",
    10060030: "支付单已使用提醒收货机会",
    10060031: "该笔支付单不属于 openid 所指定的用户",
    10060032: "只有物流快递发货时允许提醒用户确认收货",
    268485194: "订单单号类型非法",
    268485195: "微信支付单号形式下 transaction_id 字段不能为空",
    268485196: "商户侧单号形式下 mchid 字段不能为空",
    268485197: "商户侧单号形式下 out_trade_no 字段不能为空",
    268485216: "上传时间非法，请按照 RFC 3339 格式填写",
    268485224: "发货模式非法",
    268485226: "物流单号不能为空",
    268485227: "物流公司编码不能为空",
    268485228: "统一发货模式下，物流信息列表长度必须为 1",
}

EXPRESS, SAME_CITY, VIRTUAL, PICKUP = 1, 2, 3, 4  # logistics_type
UNIFIED, SPLIT = 1, 2  # delivery_mode
BY_MERCHANT_NO, BY_TRANSACTION_ID = 1, 2  # order_number_type
MAX_PACKAGES = 15
MAX_ITEM_DESC = 120  # characters
MAX_TRACKING_NO_BYTES = 128
MAX_OPENID_BYTES = 128
MAX_CONTACT = 1024
SF_EXPRESS = "SF"

# RFC 3339: a date, "T", a time, an offset ("Z" or ±hh:mm); seconds may carry a fraction.
_RFC3339 = re.compile(r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})")


class ShippingError(ValueError):
    """A value WeChat refuses with an errcode of its own; ``hint`` says what to fix."""

    def __init__(self, errcode: int, hint: str) -> None:
        super().__init__(f"{ERRMSG.get(errcode, 'error')}, hint: [{hint}]")
        self.errcode = errcode


def _present(body: dict[str, Any], name: str) -> bool:
    """A field given: null and "" count as absent (several SDKs send every field, empty)."""
    return body.get(name) not in (None, "")


def opt_str(body: dict[str, Any], name: str, where: str = "") -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise DataFormatError(f"field '{where}{name}' must be a string, not {type(value).__name__}")
    return value or None


def req_str(body: dict[str, Any], name: str, where: str = "") -> str:
    if name not in body or body[name] is None:
        raise DataFormatError(f"missing field '{where}{name}'")
    value = opt_str(body, name, where)
    if value is None:
        raise DataFormatError(f"field '{where}{name}' must not be empty")
    return value


def opt_int(body: dict[str, Any], name: str, where: str = "") -> int | None:
    value = body.get(name)
    if value is None:
        return None
    # true/false are not numbers in JSON, though Python's bool is an int.
    if isinstance(value, bool) or not isinstance(value, int):
        raise DataFormatError(f"field '{where}{name}' must be an integer, not {type(value).__name__}")
    return value


def req_int(body: dict[str, Any], name: str, where: str = "") -> int:
    value = opt_int(body, name, where)
    if value is None:
        raise DataFormatError(f"missing field '{where}{name}'")
    return value


def req_object(body: dict[str, Any], name: str, where: str = "") -> dict[str, Any]:
    value = body.get(name)
    if value is None:
        raise DataFormatError(f"missing field '{where}{name}'")
    if not isinstance(value, dict):
        raise DataFormatError(f"field '{where}{name}' must be an object, not {type(value).__name__}")
    return value


def parse_upload_time(value: str) -> int:
    """The Unix time of an RFC 3339 ``upload_time``; ShippingError 268485216 otherwise."""
    match = _RFC3339.fullmatch(value)
    if match is None:
        raise ShippingError(
            268485216,
            f"upload_time {value!r} is not RFC 3339 with an offset, e.g. 2022-12-15T13:29:35.120+08:00",
        )
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    offset = match.group(8)
    if offset in ("Z", "z"):
        zone = datetime.timezone.utc
    else:
        sign = 1 if offset[0] == "+" else -1
        hours, minutes = int(offset[1:3]), int(offset[4:6])
        if hours > 23 or minutes > 59:
            raise ShippingError(268485216, f"upload_time {value!r} has an impossible offset")
        zone = datetime.timezone(sign * datetime.timedelta(hours=hours, minutes=minutes))
    try:
        moment = datetime.datetime(year, month, day, hour, minute, second, tzinfo=zone)
    except ValueError as exc:
        raise ShippingError(268485216, f"upload_time {value!r} is no date and time: {exc}") from None
    return int(moment.timestamp())


def is_masked(contact: str) -> bool:
    """Masked as WeChat asks: a ``*`` somewhere, the last four digits in clear (``189****1234``)."""
    digits_and_masks = re.sub(r"[^0-9*]", "", contact)
    return "*" in contact and re.search(r"[0-9]{4}$", digits_and_masks) is not None


def validate_order_key(key: dict[str, Any], where: str = "order_key") -> dict[str, Any]:
    """An ``order_key``: by ``mchid`` + ``out_trade_no`` (1) or by ``transaction_id`` (2)."""
    number_type = req_int(key, "order_number_type", f"{where}.")
    fields = {name: opt_str(key, name, f"{where}.") for name in ("transaction_id", "mchid", "out_trade_no")}
    if number_type == BY_TRANSACTION_ID:
        if not fields["transaction_id"]:
            raise ShippingError(268485195, f"{where}.transaction_id is required with order_number_type 2")
    elif number_type == BY_MERCHANT_NO:
        if not fields["mchid"]:
            raise ShippingError(268485196, f"{where}.mchid is required with order_number_type 1")
        if not fields["out_trade_no"]:
            raise ShippingError(268485197, f"{where}.out_trade_no is required with order_number_type 1")
    else:
        raise ShippingError(
            268485194, f"{where}.order_number_type must be 1 (mchid + out_trade_no) or 2 (transaction_id)"
        )
    return {"order_number_type": number_type, **fields}


def _contact(item: dict[str, Any], where: str) -> dict[str, str]:
    value = item.get("contact")
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise DataFormatError(f"field '{where}contact' must be an object, not {type(value).__name__}")
    contact: dict[str, str] = {}
    for name in ("consignor_contact", "receiver_contact"):
        text = opt_str(value, name, f"{where}contact.")
        if text is None:
            continue
        if len(text) > MAX_CONTACT:
            raise DataFormatError(f"field '{where}contact.{name}' must be at most {MAX_CONTACT} characters")
        if not is_masked(text):
            raise ShippingError(
                10060014,
                f"{where}contact.{name} must be masked, the last four digits in clear, e.g. 189****1234",
            )
        contact[name] = text
    return contact


def _package(item: Any, where: str, logistics_type: int, carriers: Carriers) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise DataFormatError(f"field '{where[:-1]}' must be an object")
    item_desc = opt_str(item, "item_desc", where)
    if item_desc is None or not item_desc.strip():
        raise ShippingError(10060008, f"{where}item_desc must describe the goods, e.g. 微信红包抱枕*1个")
    if len(item_desc) > MAX_ITEM_DESC:
        raise ShippingError(10060009, f"{where}item_desc must be at most {MAX_ITEM_DESC} characters")
    tracking_no = opt_str(item, "tracking_no", where)
    express_company = opt_str(item, "express_company", where)
    if logistics_type == EXPRESS:
        if tracking_no is None:
            raise ShippingError(268485226, f"{where}tracking_no is required for express (logistics_type 1)")
        if express_company is None:
            raise ShippingError(268485227, f"{where}express_company is required for express")
    if tracking_no is not None and len(tracking_no.encode("utf-8")) > MAX_TRACKING_NO_BYTES:
        raise ShippingError(10060026, f"{where}tracking_no must be at most {MAX_TRACKING_NO_BYTES} bytes")
    if express_company is not None and len(express_company.encode("utf-8")) > MAX_CODE_BYTES:
        raise ShippingError(10060025, f"{where}express_company must be at most {MAX_CODE_BYTES} bytes")
    if logistics_type == EXPRESS and express_company is not None and not carriers.knows(express_company):
        raise ShippingError(
            10060014, f"{where}express_company {express_company!r} is not a delivery_id of get_delivery_list"
        )
    contact = _contact(item, where)
    if express_company == SF_EXPRESS and not contact:
        raise ShippingError(
            10060014,
            f"{where}contact is required for SF Express: consignor_contact or receiver_contact, masked",
        )
    package: dict[str, Any] = {"item_desc": item_desc}
    if tracking_no is not None:
        package["tracking_no"] = tracking_no
    if express_company is not None:
        package["express_company"] = express_company
    if contact:
        package["contact"] = contact
    return package


def validate_shipping(body: dict[str, Any], carriers: Carriers, where: str = "") -> dict[str, Any]:
    """``logistics_type``, ``delivery_mode``, ``is_all_delivered`` and ``shipping_list``."""
    logistics_type = req_int(body, "logistics_type", where)
    delivery_mode = req_int(body, "delivery_mode", where)
    is_all_delivered = body.get("is_all_delivered")
    if is_all_delivered is not None and not isinstance(is_all_delivered, bool):
        raise DataFormatError(f"field '{where}is_all_delivered' must be true or false")
    packages = body.get("shipping_list")
    if packages is None:
        raise DataFormatError(f"missing field '{where}shipping_list'")
    if not isinstance(packages, list):
        raise DataFormatError(f"field '{where}shipping_list' must be an array, not {type(packages).__name__}")
    if logistics_type not in (EXPRESS, SAME_CITY, VIRTUAL, PICKUP):
        raise ShippingError(
            10060005, f"{where}logistics_type must be 1 express, 2 same-city, 3 virtual or 4 pickup"
        )
    if delivery_mode not in (UNIFIED, SPLIT):
        raise ShippingError(268485224, f"{where}delivery_mode must be 1 (unified) or 2 (split)")
    if delivery_mode == SPLIT and logistics_type != EXPRESS:
        raise ShippingError(10060006, f"{where}split delivery (delivery_mode 2) is for express only")
    if delivery_mode == SPLIT and is_all_delivered is None:
        raise ShippingError(10060007, f"{where}is_all_delivered is required with delivery_mode 2")
    if not packages:
        raise DataFormatError(f"field '{where}shipping_list' must have 1 to {MAX_PACKAGES} items")
    if len(packages) > MAX_PACKAGES:
        raise ShippingError(
            10060024, f"{where}shipping_list has {len(packages)} items; at most {MAX_PACKAGES}"
        )
    if delivery_mode == UNIFIED and len(packages) != 1:
        raise ShippingError(268485228, f"{where}unified delivery takes exactly one shipping_list item")
    return {
        "logistics_type": logistics_type,
        "delivery_mode": delivery_mode,
        "is_all_delivered": bool(is_all_delivered) if delivery_mode == SPLIT else True,
        "shipping_list": [
            _package(p, f"{where}shipping_list[{i}].", logistics_type, carriers)
            for i, p in enumerate(packages)
        ],
    }


def _payer(body: dict[str, Any]) -> str:
    openid = req_str(req_object(body, "payer"), "openid", "payer.")
    if len(openid.encode("utf-8")) > MAX_OPENID_BYTES:
        raise DataFormatError(f"field 'payer.openid' must be at most {MAX_OPENID_BYTES} bytes")
    return openid


def validate_upload(body: Any, carriers: Carriers) -> dict[str, Any]:
    """The fields of an ``upload_shipping_info`` body."""
    body = require_object(body)
    order_key = validate_order_key(req_object(body, "order_key"))
    openid = _payer(body)
    shipping = validate_shipping(body, carriers)
    upload_time = req_str(body, "upload_time")
    return {
        "order_key": order_key,
        "openid": openid,
        **shipping,
        "upload_time": upload_time,
        "upload_unix": parse_upload_time(upload_time),
    }


def validate_combined(body: Any, carriers: Carriers) -> dict[str, Any]:
    """The fields of an ``upload_combined_shipping_info`` body: one shipping per sub-order."""
    body = require_object(body)
    order_key = validate_order_key(req_object(body, "order_key"))
    openid = _payer(body)
    sub_orders = body.get("sub_orders")
    if not isinstance(sub_orders, list) or not sub_orders:
        raise DataFormatError("field 'sub_orders' must be an array of the sub-orders shipped")
    upload_time = req_str(body, "upload_time")
    subs = []
    for index, sub in enumerate(sub_orders):
        where = f"sub_orders[{index}]."
        if not isinstance(sub, dict):
            raise DataFormatError(f"field 'sub_orders[{index}]' must be an object")
        sub_key = validate_order_key(req_object(sub, "order_key", where), f"{where}order_key")
        if sub_key["order_number_type"] != order_key["order_number_type"]:
            raise ShippingError(268485194, f"{where}order_key must use the order_number_type of order_key")
        subs.append({"order_key": sub_key, **validate_shipping(sub, carriers, where)})
    return {
        "order_key": order_key,
        "openid": openid,
        "sub_orders": subs,
        "upload_time": upload_time,
        "upload_unix": parse_upload_time(upload_time),
    }


def validate_payment_ref(body: Any) -> dict[str, Any]:
    """``transaction_id``, or ``merchant_id`` + ``merchant_trade_no`` (get_order and the receipt)."""
    body = require_object(body)
    ref = {
        name: opt_str(body, name)
        for name in ("transaction_id", "merchant_id", "sub_merchant_id", "merchant_trade_no")
    }
    if not ref["transaction_id"] and not (ref["merchant_id"] and ref["merchant_trade_no"]):
        raise DataFormatError("give transaction_id, or merchant_id and merchant_trade_no")
    return ref


def validate_notify(body: Any) -> dict[str, Any]:
    """The fields of a ``notify_confirm_receive`` body (its time is judged against the payment)."""
    ref = validate_payment_ref(body)
    return {**ref, "received_time": req_int(body, "received_time")}


def validate_order_list(body: Any) -> dict[str, Any]:
    """The filters and page of a ``get_order_list`` body; every one is optional."""
    body = require_object(body) if body is not None else {}
    begin, end = 0, 2**32 - 1
    if body.get("pay_time_range") is not None:
        span = req_object(body, "pay_time_range")
        begin = opt_int(span, "begin_time", "pay_time_range.") or 0
        given_end = opt_int(span, "end_time", "pay_time_range.")
        end = given_end if given_end is not None else end
    page_size = opt_int(body, "page_size")
    if page_size is not None and page_size < 1:
        raise DataFormatError(f"field 'page_size' must be at least 1, not {page_size}")
    return {
        "begin_time": begin,
        "end_time": end,
        "order_state": opt_int(body, "order_state"),
        "openid": opt_str(body, "openid"),
        "last_index": opt_str(body, "last_index"),
        "page_size": page_size or 100,
    }

"""Bodies of the merchant's-side calls, as a shop's server sends them to WeChat, for the sandbox's tests."""

from __future__ import annotations

import datetime
from typing import Any

UPLOAD = "/wxa/sec/order/upload_shipping_info"
UPLOAD_COMBINED = "/wxa/sec/order/upload_combined_shipping_info"
GET_ORDER = "/wxa/sec/order/get_order"
GET_ORDER_LIST = "/wxa/sec/order/get_order_list"
NOTIFY = "/wxa/sec/order/notify_confirm_receive"
JUMP_PATH = "/wxa/sec/order/set_msg_jump_path"
IS_TRADE_MANAGED = "/wxa/sec/order/is_trade_managed"
IS_CONFIRMED = "/wxa/sec/order/is_trade_management_confirmation_completed"
TRACE_WAYBILL = "/cgi-bin/express/delivery/open_msg/trace_waybill"
QUERY_TRACE = "/cgi-bin/express/delivery/open_msg/query_trace"
UPDATE_GOODS = "/cgi-bin/express/delivery/open_msg/update_waybill_goods"
DELIVERY_LIST = "/cgi-bin/express/delivery/open_msg/get_delivery_list"

CHINA = datetime.timezone(datetime.timedelta(hours=8))
BASE = datetime.datetime(2026, 1, 1, 10, 0, 0, tzinfo=CHINA)


def upload_time(seconds: float = 0) -> str:
    """An RFC 3339 upload_time ``seconds`` after a fixed moment, with milliseconds and +08:00."""
    return (BASE + datetime.timedelta(seconds=seconds)).isoformat(timespec="milliseconds")


def package(**fields: Any) -> dict[str, Any]:
    """One shipping_list item by express (ZTO needs no contact)."""
    return {
        "tracking_no": "ZT1234567890",
        "express_company": "ZTO",
        "item_desc": "微信气泡狗集线器*1",
        **fields,
    }


def upload_body(payment: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """An upload_shipping_info body for ``payment`` by transaction_id, unified, by express."""
    return {
        "order_key": {"order_number_type": 2, "transaction_id": payment["transaction_id"]},
        "logistics_type": 1,
        "delivery_mode": 1,
        "shipping_list": [package()],
        "upload_time": upload_time(),
        "payer": {"openid": payment["openid"]},
        **fields,
    }


def trace_body(**fields: Any) -> dict[str, Any]:
    """A trace_waybill body."""
    return {
        "openid": "oUser0000000000000000000001",
        "receiver_phone": "13800000000",
        "waybill_id": "ZT1234567890",
        "delivery_id": "ZTO",
        "goods_info": {
            "detail_list": [{"goods_name": "茶叶", "goods_img_url": "https://example.com/tea.png"}]
        },
        "order_detail_path": "pages/order/detail?id=1",
        **fields,
    }

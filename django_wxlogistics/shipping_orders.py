"""What an order-status change means for WeChat's shipping information: ``SHIPPING_ACTIONS``, and
the adapter that reads the shop's order into ``upload_shipping_info``'s fields.

``WXLOGISTICS["SHIPPING_ACTIONS"]`` maps a status to ``"upload"`` (the order shipped: upload
its shipping information) or ``"confirm_receipt"`` (it arrived: confirm receipt).
``WXLOGISTICS["SHIPPING_ADAPTER"]`` names a function ``adapter(order) -> dict | None`` that
returns the fields (``order_key``, ``logistics_type``, ``delivery_mode``, ``shipping_list``,
``payer``, optionally ``is_all_delivered`` and ``upload_time``), or None for an order that
was not paid with WeChat Pay. The default, :func:`shipping_fields`, reads attributes of the
order (:data:`ORDER_ATTRIBUTES`).

With ``WXLOGISTICS["TRACK_WAYBILLS"]`` each parcel of an express upload is also registered with
the tracking component: ``WXLOGISTICS["TRACKING_ADAPTER"]`` names a function
``adapter(order, parcel) -> dict | None`` that returns ``trace_waybill``'s fields for one parcel
of the upload's ``shipping_list`` (None: that parcel is not tracked). The default,
:func:`trace_fields`, reads attributes of the order too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .conf import wx_settings
from .shipping_fields import DeliveryMode, LogisticsType, OrderNumberType, mask_contact
from .tracking_fields import MAX_GOODS_NAME

#: What ``SHIPPING_ACTIONS`` may map a status to.
UPLOAD = "upload"
CONFIRM_RECEIPT = "confirm_receipt"
SHIPPING_ACTIONS = (UPLOAD, CONFIRM_RECEIPT)

#: The order attributes :func:`shipping_fields` reads, by what each gives (a method is called).
ORDER_ATTRIBUTES = {
    "transaction_id": "wechat_transaction_id",
    "mchid": "wechat_mchid",
    "out_trade_no": "wechat_out_trade_no",
    "openid": "payer_openid",
    "logistics_type": "logistics_type",
    "tracking_no": "tracking_number",
    "express_company": "carrier_code",
    "item_desc": "item_desc",
    "receiver_phone": "receiver_phone",
    # trace_fields only: the goods the parcel's page shows, and the order's page in the mini program
    "goods": "goods",
    "goods_img_url": "goods_img_url",
    "order_detail_path": "order_detail_path",
}


def shipping_action(status: Any) -> str | None:
    """What ``SHIPPING_ACTIONS`` says for ``status``: ``"upload"``, ``"confirm_receipt"``, or None."""
    actions = wx_settings.SHIPPING_ACTIONS
    key: Any = status
    if key not in actions and not isinstance(status, str):
        key = str(status)  # integer statuses written as string keys
    value = actions.get(key)
    return value if isinstance(value, str) else None


def shipping_adapter() -> Callable[[Any], dict[str, Any] | None]:
    """The function ``SHIPPING_ADAPTER`` names."""
    adapter: Callable[[Any], dict[str, Any] | None] = wx_settings.SHIPPING_ADAPTER
    return adapter


def tracking_adapter() -> Callable[[Any, dict[str, Any]], dict[str, Any] | None]:
    """The function ``TRACKING_ADAPTER`` names."""
    adapter: Callable[[Any, dict[str, Any]], dict[str, Any] | None] = wx_settings.TRACKING_ADAPTER
    return adapter


def _read(order: Any, what: str) -> Any:
    value = getattr(order, ORDER_ATTRIBUTES[what], None)
    if callable(value):
        value = value()
    return None if value in (None, "") else value


def shipping_fields(order: Any) -> dict[str, Any] | None:
    """``upload_shipping_info``'s fields for an order shipped in one parcel, from its attributes.

    The payment is ``order.wechat_transaction_id``, or ``order.wechat_mchid`` with
    ``order.wechat_out_trade_no``; None (nothing to upload) when the order has neither. The
    payer is ``order.payer_openid``; the parcel ``order.tracking_number`` by
    ``order.carrier_code`` (a ``delivery_id`` of ``get_delivery_list``: ``SF``, ``ZTO`` …),
    holding ``order.item_desc``, with ``order.receiver_phone`` masked as its contact when
    there is one (SF Express needs it). ``order.logistics_type`` defaults to 1 (express).
    A missing value is left out, and the validation names the field it should fill.
    """
    transaction_id = _read(order, "transaction_id")
    mchid, out_trade_no = _read(order, "mchid"), _read(order, "out_trade_no")
    if transaction_id is not None:
        order_key = {
            "order_number_type": OrderNumberType.TRANSACTION.value,
            "transaction_id": str(transaction_id),
        }
    elif mchid is not None and out_trade_no is not None:
        order_key = {
            "order_number_type": OrderNumberType.MERCHANT.value,
            "mchid": str(mchid),
            "out_trade_no": str(out_trade_no),
        }
    else:
        return None
    parcel: dict[str, Any] = {
        name: value
        for name in ("tracking_no", "express_company", "item_desc")
        if (value := _read(order, name)) is not None
    }
    phone = _read(order, "receiver_phone")
    if phone is not None:
        parcel["contact"] = {"receiver_contact": mask_contact(str(phone))}
    openid = _read(order, "openid")
    logistics_type = _read(order, "logistics_type")
    return {
        "order_key": order_key,
        "logistics_type": LogisticsType.EXPRESS.value if logistics_type is None else logistics_type,
        "delivery_mode": DeliveryMode.UNIFIED.value,
        "shipping_list": [parcel],
        "payer": {} if openid is None else {"openid": str(openid)},
    }


def trace_fields(order: Any, parcel: dict[str, Any]) -> dict[str, Any] | None:
    """``trace_waybill``'s fields for one parcel of the order's upload, from the order's attributes.

    The receiver's whole phone is ``order.receiver_phone`` (the upload sends it masked; the
    tracking component takes it whole). The goods are ``order.goods``, a list of
    ``{"goods_name", "goods_img_url"}`` (``goods_desc`` optional); without it, one good named by
    the parcel's ``item_desc`` with the picture ``order.goods_img_url``. The goods card opens
    ``order.order_detail_path`` in the mini program. The waybill, its carrier, the payer's openid
    and the payment's ``transaction_id`` come from the upload. A missing value is left out, and
    the validation names the field it should fill.
    """
    fields: dict[str, Any] = {}
    phone = _read(order, "receiver_phone")
    if phone is not None:
        fields["receiver_phone"] = str(phone)
    goods = _read(order, "goods")
    if goods is None:
        name, picture = parcel.get("item_desc"), _read(order, "goods_img_url")
        if name and picture is not None:
            goods = [{"goods_name": str(name)[:MAX_GOODS_NAME], "goods_img_url": str(picture)}]
    if goods is not None:
        fields["goods_info"] = {"detail_list": list(goods)}
    path = _read(order, "order_detail_path")
    if path is not None:
        fields["order_detail_path"] = str(path)
    return fields

"""The merchant's calls of the WeChat client: shipping information (发货信息管理) and the tracking component.

Mixed into :class:`~django_wxlogistics.client.WeChatLogisticsClient`, so they share its access
token, connections, redaction and errors. Each method is named after WeChat's API and takes
WeChat's field names as keywords; the fields are checked before any I/O
(:mod:`~django_wxlogistics.shipping_fields`, :mod:`~django_wxlogistics.tracking_fields`), and a bad
one raises :class:`~django_wxlogistics.exceptions.InvalidRequestData` whose ``fields`` name each.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from . import shipping_fields, tracking_fields
from .conf import wx_settings
from .exceptions import InvalidRequestData, InvalidTraceToken, InvalidWaybillToken
from .field_checks import FieldErrors, InvalidFields
from .merchant_answers import Carrier, OrderList, PaymentOrder, WaybillTrace

_SHIPPING = (
    "upload_shipping_info",
    "upload_combined_shipping_info",
    "get_order",
    "get_order_list",
    "notify_confirm_receive",
    "set_msg_jump_path",
    "is_trade_managed",
    "is_trade_management_confirmation_completed",
)
_TRACKING = ("trace_waybill", "query_trace", "update_waybill_goods", "get_delivery_list")

#: API name → path of the merchant's calls (the API name is WeChat's, in snake case)
MERCHANT_PATHS = {
    **{name: f"/wxa/sec/order/{name}" for name in _SHIPPING},
    **{name: f"/cgi-bin/express/delivery/open_msg/{name}" for name in _TRACKING},
}

#: how long a process reuses get_delivery_list's answer, in seconds (WeChat's list changes rarely)
CARRIER_LIST_SECONDS = 6 * 3600
#: the carrier list's clock; tests replace it to age the list without waiting
clock: Callable[[], float] = time.monotonic


def checked(api: str, clean: Callable[..., dict[str, Any]], **fields: Any) -> dict[str, Any]:
    """``clean(**fields)``, with its InvalidFields raised as the client's InvalidRequestData."""
    try:
        return clean(**fields)
    except InvalidFields as exc:
        messages = {name: [str(m) for m in errors] for name, errors in exc.message_dict.items()}
        text = " ".join(f"{name}: {' '.join(errors)}" for name, errors in messages.items())
        raise InvalidRequestData(None, text, api, fields=messages) from None


class MerchantCalls:
    """The merchant's side of WeChat logistics, for a client that has ``call``."""

    _carrier_list: tuple[float, tuple[Carrier, ...]] | None = None
    _carrier_lock = threading.Lock()

    def call(self, api: str, body: Mapping[str, Any], *, secrets: Iterable[str] = ()) -> dict[str, Any]:
        raise NotImplementedError  # WeChatLogisticsClient's

    # -- shipping information ----------------------------------------------------------------

    def upload_shipping_info(
        self,
        *,
        order_key: Mapping[str, Any],
        logistics_type: int,
        delivery_mode: int,
        shipping_list: list[Mapping[str, Any]],
        payer: Mapping[str, Any],
        upload_time: Any = None,
        is_all_delivered: bool | None = None,
    ) -> dict[str, Any]:
        """Record a payment's shipment with WeChat (``upload_shipping_info``); WeChat's answer.

        ``upload_time``: RFC 3339 text with an offset or an aware datetime; None is now. A second
        upload for the same payment is its one re-ship (``ReshipChanceUsed`` after that).
        """
        return self._checked_call(
            "upload_shipping_info",
            shipping_fields.clean_upload_shipping_info,
            order_key=order_key,
            logistics_type=logistics_type,
            delivery_mode=delivery_mode,
            shipping_list=shipping_list,
            payer=payer,
            upload_time=upload_time,
            is_all_delivered=is_all_delivered,
        )

    def upload_combined_shipping_info(
        self,
        *,
        order_key: Mapping[str, Any],
        sub_orders: list[Mapping[str, Any]],
        payer: Mapping[str, Any],
        upload_time: Any = None,
    ) -> dict[str, Any]:
        """Record the shipment of a combined payment's sub-orders (``upload_combined_shipping_info``)."""
        return self._checked_call(
            "upload_combined_shipping_info",
            shipping_fields.clean_upload_combined_shipping_info,
            order_key=order_key,
            sub_orders=sub_orders,
            payer=payer,
            upload_time=upload_time,
        )

    def get_order(
        self,
        *,
        transaction_id: str | None = None,
        merchant_id: str | None = None,
        sub_merchant_id: str | None = None,
        merchant_trade_no: str | None = None,
    ) -> PaymentOrder:
        """The payment as WeChat sees it (``get_order``): its ``order_state`` and the shipping recorded."""
        payload = self._checked_call(
            "get_order",
            shipping_fields.clean_payment_ref,
            transaction_id=transaction_id,
            merchant_id=merchant_id,
            sub_merchant_id=sub_merchant_id,
            merchant_trade_no=merchant_trade_no,
        )
        return PaymentOrder.from_api(payload.get("order"))

    def get_order_list(
        self,
        *,
        pay_time_range: Mapping[str, Any] | None = None,
        order_state: int | None = None,
        openid: str | None = None,
        last_index: str | None = None,
        page_size: int | None = None,
    ) -> OrderList:
        """One page of payments (``get_order_list``); pass its ``last_index`` for the next."""
        payload = self._checked_call(
            "get_order_list",
            shipping_fields.clean_order_list,
            pay_time_range=pay_time_range,
            order_state=order_state,
            openid=openid,
            last_index=last_index,
            page_size=page_size,
        )
        return OrderList.from_api(payload)

    def notify_confirm_receive(
        self,
        *,
        transaction_id: str | None = None,
        merchant_id: str | None = None,
        sub_merchant_id: str | None = None,
        merchant_trade_no: str | None = None,
        received_time: Any = None,
    ) -> dict[str, Any]:
        """Remind the buyer to confirm receipt (``notify_confirm_receive``): once per payment, express only.

        ``received_time``: Unix **seconds** or an aware datetime; None is now.
        """
        return self._checked_call(
            "notify_confirm_receive",
            shipping_fields.clean_confirm_receive,
            transaction_id=transaction_id,
            merchant_id=merchant_id,
            sub_merchant_id=sub_merchant_id,
            merchant_trade_no=merchant_trade_no,
            received_time=received_time,
        )

    def set_msg_jump_path(self, *, path: str) -> dict[str, Any]:
        """The mini program page WeChat's shipping messages open (``set_msg_jump_path``)."""
        return self._checked_call("set_msg_jump_path", _clean_path, path=path)

    def is_trade_managed(self, *, appid: str | None = None) -> bool:
        """Whether WeChat holds this mini program's payments until shipping is recorded."""
        payload = self._checked_call("is_trade_managed", _clean_appid, appid=appid or wx_settings.APPID)
        return bool(payload.get("is_trade_managed"))

    def is_trade_management_confirmation_completed(self, *, appid: str | None = None) -> bool:
        """Whether the mini program has completed trade management's confirmation in WeChat's console."""
        payload = self._checked_call(
            "is_trade_management_confirmation_completed", _clean_appid, appid=appid or wx_settings.APPID
        )
        return bool(payload.get("completed"))

    # -- the tracking component ------------------------------------------------------------------

    def trace_waybill(
        self,
        *,
        openid: str,
        receiver_phone: str,
        waybill_id: str,
        goods_info: Mapping[str, Any],
        trans_id: str | None = None,
        delivery_id: str | None = None,
        sender_phone: str | None = None,
        order_detail_path: str | None = None,
    ) -> str:
        """Register a waybill with the tracking component (``trace_waybill``); its ``waybill_token``.

        The mini program opens the parcel's page with the token; keep it for the order.
        """
        payload = self._checked_call(
            "trace_waybill",
            tracking_fields.clean_trace_waybill,
            secrets=[p for p in (receiver_phone, sender_phone) if p],
            openid=openid,
            receiver_phone=receiver_phone,
            waybill_id=waybill_id,
            goods_info=goods_info,
            trans_id=trans_id,
            delivery_id=delivery_id,
            sender_phone=sender_phone,
            order_detail_path=order_detail_path,
        )
        return str(payload.get("waybill_token") or "")

    def query_trace(self, *, waybill_token: str) -> WaybillTrace:
        """Where the parcel is, as the tracking component shows it (``query_trace``)."""
        payload = self._tracking_call(
            "query_trace", tracking_fields.clean_query_trace, waybill_token=waybill_token
        )
        return WaybillTrace.from_api(payload)

    def update_waybill_goods(self, *, waybill_token: str, goods_info: Mapping[str, Any]) -> dict[str, Any]:
        """Change the goods WeChat shows with a tracked waybill (``update_waybill_goods``)."""
        return self._tracking_call(
            "update_waybill_goods",
            tracking_fields.clean_update_waybill_goods,
            waybill_token=waybill_token,
            goods_info=goods_info,
        )

    def get_delivery_list(self, *, refresh: bool = False) -> list[Carrier]:
        """The carriers WeChat knows (``get_delivery_list``): the codes ``express_company`` and
        ``delivery_id`` take. Kept for ``CARRIER_LIST_SECONDS`` in the process; ``refresh`` asks again."""
        cached = self._carrier_list
        if cached is None or refresh or clock() - cached[0] >= CARRIER_LIST_SECONDS:
            with self._carrier_lock:
                # Another thread may have fetched it while this one waited: one call per expiry.
                if self._carrier_list is cached:
                    payload = self.call("get_delivery_list", {})
                    items = payload.get("delivery_list")
                    carriers = tuple(
                        Carrier(str(item.get("delivery_id") or ""), str(item.get("delivery_name") or ""))
                        for item in (items if isinstance(items, list) else [])
                        if isinstance(item, dict) and item.get("delivery_id")
                    )
                    self._carrier_list = (clock(), carriers)
                cached = self._carrier_list
        assert cached is not None
        return list(cached[1])

    def _checked_call(
        self, api: str, clean: Callable[..., dict[str, Any]], *, secrets: Iterable[str] = (), **fields: Any
    ) -> dict[str, Any]:
        """WeChat's answer to ``api`` called with the body ``clean(**fields)`` makes (checked first)."""
        return self.call(api, checked(api, clean, **fields), secrets=secrets)

    def _tracking_call(
        self, api: str, clean: Callable[..., dict[str, Any]], *, waybill_token: str, **fields: Any
    ) -> dict[str, Any]:
        """``_checked_call`` for a tracked waybill: its token kept secret, and 9300507 its own error."""
        body = checked(api, clean, waybill_token=waybill_token, **fields)
        try:
            return self.call(api, body, secrets=(waybill_token,))
        except InvalidWaybillToken as exc:
            # 9300507 here is about trace_waybill's token, not the order event's Token.
            refused = InvalidTraceToken(exc.errcode, exc.errmsg, exc.api, response=exc.response)
        raise refused


def _clean_path(*, path: Any) -> dict[str, Any]:
    errors = FieldErrors()
    body = {"path": errors.text("path", path)}
    errors.raise_any()
    return body


def _clean_appid(*, appid: Any) -> dict[str, Any]:
    errors = FieldErrors()
    body = {"appid": errors.text("appid", appid)}
    errors.raise_any()
    return body

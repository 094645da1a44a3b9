"""What WeChat says of a payment and which carriers it knows, asked on demand for the admin and the API.

:func:`wechat_order` asks ``get_order`` for one of the shop's payments and answers a
:class:`WeChatOrder` that may be shown to any member of staff: the payer's openid masked,
the contacts WeChat reports masked again (WeChat masks them itself; an unmasked phone never
shows). :func:`carrier_list` is ``get_delivery_list``, kept by the client for hours.
WeChat's errors propagate as the client's :class:`~django_wxlogistics.exceptions.WeChatError`
subclasses; :func:`wechat_order_error_message` words them for staff.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from datetime import timezone as dt_timezone
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from .client import get_client
from .contact_masks import mask_contact
from .exceptions import InvalidRequestData, PaymentNotYetKnown
from .masking import encodable
from .merchant_answers import Carrier, OrderState, PaymentOrder
from .models import Payment
from .shipping_fields import DeliveryMode, LogisticsType
from .wechat_error_words import wechat_error_message

__all__ = [
    "Carrier",
    "ShippedParcel",
    "WeChatOrder",
    "carrier_list",
    "mask_openid",
    "wechat_order",
    "wechat_order_error_message",
]

#: Characters of an openid kept at each end when it is masked; a shorter one is masked whole.
_OPENID_HEAD, _OPENID_TAIL, _OPENID_SHORTEST = 3, 4, 12
#: Above this a time is milliseconds, not seconds (the year 5138 in seconds).
_MILLISECONDS_FROM = 10**11


def mask_openid(openid: str) -> str:
    """``oPayer0000000000000000000001`` → ``oPa****0001``: never the whole openid, nor its length."""
    openid = encodable(str(openid or "")).strip()
    if not openid:
        return ""
    if len(openid) < _OPENID_SHORTEST:
        return "****"
    return f"{openid[:_OPENID_HEAD]}****{openid[-_OPENID_TAIL:]}"


def _moment(value: Any) -> datetime | None:
    """An aware datetime from WeChat's Unix seconds (or RFC 3339 text); None for 0, empty or nonsense."""
    if isinstance(value, str):
        text = value.strip()
        if not text.lstrip("-").isdigit():
            try:
                moment = datetime.fromisoformat(text.replace("z", "Z"))
            except ValueError:
                return None
            return moment if moment.tzinfo is not None else None
        value = int(text)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        return None
    seconds = value / 1000 if value >= _MILLISECONDS_FROM else value
    try:
        return datetime.fromtimestamp(seconds, tz=dt_timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


def _text(value: Any) -> str:
    return "" if value is None else encodable(str(value))


def _int_or_none(value: Any) -> int | None:
    try:
        return None if value is None or isinstance(value, bool) else int(value)
    except (TypeError, ValueError):
        return None


def _iso(moment: datetime | None) -> str | None:
    """In the current time zone, as the API's other times (DRF's DateTimeField) are written."""
    return timezone.localtime(moment).isoformat() if moment is not None else None


@dataclass(frozen=True)
class ShippedParcel:
    """One item of the shipping WeChat recorded for a payment (``shipping.shipping_list``).

    ``item_desc`` is what WeChat calls ``goods_desc`` here; the contacts are masked.
    """

    tracking_no: str
    express_company: str
    item_desc: str
    upload_time: datetime | None
    consignor_contact: str
    receiver_contact: str

    @classmethod
    def from_api(cls, item: dict[str, Any]) -> ShippedParcel:
        contact = item.get("contact")
        contact = contact if isinstance(contact, dict) else {}
        return cls(
            tracking_no=_text(item.get("tracking_no")),
            express_company=_text(item.get("express_company")),
            item_desc=_text(item.get("goods_desc") or item.get("item_desc")),
            upload_time=_moment(item.get("upload_time")),
            consignor_contact=_masked_phone(contact.get("consignor_contact")),
            receiver_contact=_masked_phone(contact.get("receiver_contact")),
        )

    @property
    def contact(self) -> dict[str, str]:
        """The contacts as WeChat's ``contact`` object names them, masked."""
        return {"consignor_contact": self.consignor_contact, "receiver_contact": self.receiver_contact}

    def as_dict(self) -> dict[str, Any]:
        return {
            "tracking_no": self.tracking_no,
            "express_company": self.express_company,
            "item_desc": self.item_desc,
            "upload_time": _iso(self.upload_time),
            "contact": self.contact,
        }


def _masked_phone(value: Any) -> str:
    text = _text(value).strip()
    return mask_contact(text) if text else ""


@dataclass(frozen=True)
class WeChatOrder:
    """A payment as WeChat's ``get_order`` shows it, fit to show any member of staff.

    ``order_state`` is WeChat's number as it came (1 to 5 documented, 6 seen in practice, any
    other kept); ``order_state_label`` is its name in the active language, "Unknown state 7" for
    one WeChat has not documented. ``paid_amount`` is in fen. ``upload_time`` is the latest
    shipping WeChat recorded, None before any. The payer's openid is never held whole.
    """

    order_state: int
    order_state_label: str
    order_state_known: bool
    transaction_id: str
    merchant_id: str
    sub_merchant_id: str
    merchant_trade_no: str
    description: str
    paid_amount: int
    pay_time: datetime | None
    trade_create_time: datetime | None
    upload_time: datetime | None
    openid_masked: str
    in_complaint: bool
    logistics_type: int | None
    delivery_mode: int | None
    finish_shipping: bool
    finish_shipping_count: int
    shipping: list[ShippedParcel] = field(default_factory=list)

    @classmethod
    def from_payment_order(cls, order: PaymentOrder) -> WeChatOrder:
        """From the client's answer, dropping the openid and masking the contacts."""
        recorded = order.shipping
        items = recorded.get("shipping_list")
        parcels = (
            [ShippedParcel.from_api(i) for i in items if isinstance(i, dict)]
            if isinstance(items, list)
            else []
        )
        uploads = [p.upload_time for p in parcels if p.upload_time is not None]
        state = OrderState(int(order.order_state))
        return cls(
            order_state=int(state),
            order_state_label=state.label,
            order_state_known=state.known,
            transaction_id=order.transaction_id,
            merchant_id=order.merchant_id,
            sub_merchant_id=order.sub_merchant_id,
            merchant_trade_no=order.merchant_trade_no,
            description=encodable(order.description),
            paid_amount=order.paid_amount,
            pay_time=_moment(order.pay_time),
            trade_create_time=_moment(order.trade_create_time),
            upload_time=max(uploads) if uploads else _moment(recorded.get("upload_time")),
            openid_masked=mask_openid(order.openid),
            in_complaint=order.in_complaint,
            logistics_type=_int_or_none(recorded.get("logistics_type")),
            delivery_mode=_int_or_none(recorded.get("delivery_mode")),
            finish_shipping=bool(recorded.get("finish_shipping")),
            finish_shipping_count=_int_or_none(recorded.get("finish_shipping_count")) or 0,
            shipping=parcels,
        )

    @property
    def logistics_type_label(self) -> str:
        """``logistics_type``'s name (express, same-city, …); "" before any shipping."""
        return _choice_label(LogisticsType, self.logistics_type)

    @property
    def delivery_mode_label(self) -> str:
        """``delivery_mode``'s name (unified or split); "" before any shipping."""
        return _choice_label(DeliveryMode, self.delivery_mode)

    @property
    def paid_yuan(self) -> str:
        """``paid_amount`` in yuan, for people: ``12.34``."""
        return f"{self.paid_amount / 100:.2f}"

    def as_dict(self) -> dict[str, Any]:
        """The order as JSON can carry it: times in ISO 8601 with their offset, or None."""
        return {
            "order_state": self.order_state,
            "order_state_label": self.order_state_label,
            "order_state_known": self.order_state_known,
            "transaction_id": self.transaction_id,
            "merchant_id": self.merchant_id,
            "sub_merchant_id": self.sub_merchant_id,
            "merchant_trade_no": self.merchant_trade_no,
            "description": self.description,
            "paid_amount": self.paid_amount,
            "pay_time": _iso(self.pay_time),
            "trade_create_time": _iso(self.trade_create_time),
            "upload_time": _iso(self.upload_time),
            "openid_masked": self.openid_masked,
            "in_complaint": self.in_complaint,
            "logistics_type": self.logistics_type,
            "logistics_type_label": self.logistics_type_label,
            "delivery_mode": self.delivery_mode,
            "delivery_mode_label": self.delivery_mode_label,
            "finish_shipping": self.finish_shipping,
            "finish_shipping_count": self.finish_shipping_count,
            "shipping": [parcel.as_dict() for parcel in self.shipping],
        }


def _choice_label(choices: type[LogisticsType] | type[DeliveryMode], value: int | None) -> str:
    if value is None:
        return ""
    try:
        return str(choices(value).label)
    except ValueError:  # a number WeChat has not documented: shown as it came
        return str(value)


def wechat_order(payment: Payment) -> WeChatOrder:
    """What WeChat says of ``payment`` now (``get_order``): by its transaction ID when it has
    one, else by merchant number and ``out_trade_no``.

    One call to WeChat, nothing kept. WeChat's errors propagate (``PaymentNotYetKnown`` for
    10060001, a payment WeChat does not know), as do ``ConfigurationError`` and, for a payment
    without a key, ``InvalidRequestData``.
    """
    if payment.transaction_id:
        answer = get_client().get_order(transaction_id=payment.transaction_id)
    else:
        answer = get_client().get_order(merchant_id=payment.mchid, merchant_trade_no=payment.out_trade_no)
    return WeChatOrder.from_payment_order(answer)


def carrier_list(*, refresh: bool = False) -> list[Carrier]:
    """The carriers WeChat knows (``get_delivery_list``): ``delivery_id`` is the code that
    ``express_company`` (shipping information) and ``delivery_id`` (``trace_waybill``) take.

    Kept by the process's client for hours; ``refresh`` asks WeChat again. WeChat's errors propagate.
    """
    return get_client().get_delivery_list(refresh=refresh)


def wechat_order_error_message(exc: BaseException) -> str:
    """Why WeChat's view of a payment or its carrier list could not be loaded, in the active
    language, with a next step; WeChat's errcode kept, never a secret."""
    code = getattr(exc, "errcode", None)
    params = {"errcode": code}
    if isinstance(exc, PaymentNotYetKnown):
        return (
            _(
                "WeChat does not know this payment (%(errcode)s). Right after a payment this lasts a few "
                "seconds: try again shortly. If it lasts, check the payment's transaction ID, or its "
                "merchant number and out_trade_no, against WeChat Pay."
            )
            % params
        )
    if isinstance(exc, InvalidRequestData):
        return _(
            "WeChat cannot be asked about this payment: it needs a transaction ID, or a merchant number "
            "and an out_trade_no."
        )
    return wechat_error_message(exc, _("WeChat's answer could not be loaded."))

"""What WeChat answers on the merchant's side, typed: orders and their states, parcels' traces, carriers.

Plain values, no I/O: the client builds them from WeChat's JSON, and the admin and the API can
show them without importing the client. A state WeChat has not documented (``order_state`` 6
arrives in practice) is kept as the number it is, never refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

_State = TypeVar("_State", bound="_LabelledState")


class _LabelledState(int):
    """An int WeChat sent, with a label when WeChat's page lists it."""

    LABELS: ClassVar[Mapping[int, Promise]] = {}

    @classmethod
    def from_api(cls: type[_State], value: Any) -> _State:
        """The state of a value WeChat sent; anything that is no integer reads as 0."""
        try:
            return cls(int(value))
        except (TypeError, ValueError):
            return cls(0)

    @property
    def known(self) -> bool:
        """Whether WeChat's documentation lists this state."""
        return int(self) in self.LABELS

    @property
    def label(self) -> str:
        label = self.LABELS.get(int(self))
        return str(label) if label is not None else str(_("Unknown state %(value)d") % {"value": int(self)})

    @classmethod
    def choices(cls) -> list[tuple[int, Promise]]:
        """The documented states as model or form choices."""
        return list(cls.LABELS.items())

    def __repr__(self) -> str:
        return f"{type(self).__name__}({int(self)})"


class OrderState(_LabelledState):
    """``order_state`` of ``get_order``: 1 to 5 documented, 6 seen in practice, others kept as they come."""

    WAITING_FOR_SHIPMENT: ClassVar[int] = 1
    SHIPPED: ClassVar[int] = 2
    RECEIPT_CONFIRMED: ClassVar[int] = 3
    COMPLETED: ClassVar[int] = 4
    REFUNDED: ClassVar[int] = 5
    AWAITING_SETTLEMENT: ClassVar[int] = 6

    LABELS: ClassVar[Mapping[int, Promise]] = {
        1: _("Awaiting shipment"),
        2: _("Shipped"),
        3: _("Receipt confirmed"),
        4: _("Completed"),
        5: _("Refunded"),
        6: _("Funds awaiting settlement"),
    }


class WaybillStatus(_LabelledState):
    """``waybill_info.status`` of ``query_trace``: where the parcel is."""

    LABELS: ClassVar[Mapping[int, Promise]] = {
        0: _("Not found or not picked up yet"),
        1: _("Picked up"),
        2: _("In transit"),
        3: _("Out for delivery"),
        4: _("Signed for"),
        5: _("Exception"),
        6: _("Signed for by someone else"),
    }


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


@dataclass(frozen=True)
class PaymentOrder:
    """One payment as ``get_order`` and ``get_order_list`` show it; ``raw`` is WeChat's object whole."""

    transaction_id: str
    merchant_id: str
    sub_merchant_id: str
    merchant_trade_no: str
    description: str
    paid_amount: int
    openid: str
    trade_create_time: int
    pay_time: int
    order_state: OrderState
    in_complaint: bool
    shipping: dict[str, Any]
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_api(cls, order: Any) -> PaymentOrder:
        order = _object(order)
        return cls(
            transaction_id=_text(order.get("transaction_id")),
            merchant_id=_text(order.get("merchant_id")),
            sub_merchant_id=_text(order.get("sub_merchant_id")),
            merchant_trade_no=_text(order.get("merchant_trade_no")),
            description=_text(order.get("description")),
            paid_amount=_int(order.get("paid_amount")),
            openid=_text(order.get("openid")),
            trade_create_time=_int(order.get("trade_create_time")),
            pay_time=_int(order.get("pay_time")),
            order_state=OrderState.from_api(order.get("order_state")),
            in_complaint=bool(order.get("in_complaint")),
            shipping=_object(order.get("shipping")),
            raw=order,
        )


@dataclass(frozen=True)
class OrderList:
    """A page of ``get_order_list``: pass ``last_index`` back for the next while ``has_more``."""

    orders: list[PaymentOrder]
    last_index: str
    has_more: bool

    @classmethod
    def from_api(cls, payload: Mapping[str, Any]) -> OrderList:
        orders = payload.get("order_list")
        return cls(
            orders=[PaymentOrder.from_api(o) for o in orders] if isinstance(orders, list) else [],
            last_index=_text(payload.get("last_index")),
            has_more=bool(payload.get("has_more")),
        )


@dataclass(frozen=True)
class Carrier:
    """One carrier of ``get_delivery_list``: ``delivery_id`` is the code ``express_company`` takes."""

    delivery_id: str
    delivery_name: str


@dataclass(frozen=True)
class WaybillTrace:
    """``query_trace``'s answer: the parcel's status, its carrier and the goods WeChat shows."""

    waybill_id: str
    status: WaybillStatus
    delivery_id: str
    delivery_name: str
    goods: list[dict[str, Any]]
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_api(cls, payload: Mapping[str, Any]) -> WaybillTrace:
        waybill = _object(payload.get("waybill_info"))
        delivery = _object(payload.get("delivery_info"))
        goods = _object(_object(payload.get("shop_info")).get("goods_info")).get("detail_list")
        return cls(
            waybill_id=_text(waybill.get("waybill_id")),
            status=WaybillStatus.from_api(waybill.get("status")),
            delivery_id=_text(delivery.get("delivery_id")),
            delivery_name=_text(delivery.get("delivery_name")),
            goods=[g for g in goods if isinstance(g, dict)] if isinstance(goods, list) else [],
            raw=dict(payload),
        )

"""The waybills registered with WeChat's tracking component (物流查询组件): their ``waybill_token``s,
the goods WeChat shows with them, and where the parcel is."""

from __future__ import annotations

import copy
import secrets
import threading
from dataclasses import dataclass
from typing import Any

#: waybill_info.status of query_trace, as WeChat's page lists them
WAYBILL_STATUSES: dict[int, tuple[str, str]] = {
    0: ("运单不存在或者未揽收", "Not found or not picked up yet"),
    1: ("已揽件", "Picked up"),
    2: ("运输中", "In transit"),
    3: ("派件中", "Out for delivery"),
    4: ("已签收", "Signed for"),
    5: ("异常", "Exception"),
    6: ("代签收", "Signed for by someone else"),
}


@dataclass
class TrackedWaybill:
    waybill_id: str
    openid: str
    receiver_phone: str
    goods: list[dict[str, str]]
    sender_phone: str | None = None
    delivery_id: str | None = None
    trans_id: str | None = None
    order_detail_path: str | None = None
    status: int = 0
    #: how many waybill_tokens trace_waybill handed out for it, and goods updates made
    tokens: int = 0
    goods_updates: int = 0

    def to_dict(self) -> dict[str, Any]:
        """As the control API and the page show it: never a waybill_token."""
        return {
            "waybill_id": self.waybill_id,
            "openid": self.openid,
            "receiver_phone": self.receiver_phone,
            "sender_phone": self.sender_phone,
            "delivery_id": self.delivery_id,
            "trans_id": self.trans_id,
            "order_detail_path": self.order_detail_path,
            "goods": copy.deepcopy(self.goods),
            "status": self.status,
            "tokens": self.tokens,
            "goods_updates": self.goods_updates,
        }


class TrackingBook:
    """The tracking component's waybills of one sandbox, behind one lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.waybills: dict[str, TrackedWaybill] = {}
            self._tokens: dict[str, str] = {}  # waybill_token -> waybill_id

    def trace(self, fields: dict[str, Any]) -> str:
        """Register the waybill (``trace_waybill``) and hand out a new ``waybill_token`` for it.

        As WeChat does, a waybill registered before keeps the goods it was first given: change
        them with ``update_waybill_goods``.
        """
        token = "o_" + secrets.token_urlsafe(48)[:62]
        with self.lock:
            waybill = self.waybills.get(fields["waybill_id"])
            if waybill is None:
                waybill = TrackedWaybill(
                    waybill_id=fields["waybill_id"],
                    openid=fields["openid"],
                    receiver_phone=fields["receiver_phone"],
                    goods=fields["goods"],
                    sender_phone=fields.get("sender_phone"),
                    delivery_id=fields.get("delivery_id"),
                    trans_id=fields.get("trans_id"),
                    order_detail_path=fields.get("order_detail_path"),
                )
                self.waybills[waybill.waybill_id] = waybill
            waybill.tokens += 1
            self._tokens[token] = waybill.waybill_id
            return token

    def find(self, token: str) -> TrackedWaybill | None:
        with self.lock:
            waybill_id = self._tokens.get(token)
            return None if waybill_id is None else self.waybills[waybill_id]

    def update_goods(self, waybill: TrackedWaybill, goods: list[dict[str, str]]) -> None:
        with self.lock:
            waybill.goods = goods
            waybill.goods_updates += 1

    def set_status(self, waybill_id: str, status: Any) -> dict[str, Any]:
        """Move the parcel (query_trace's ``waybill_info.status``); ValueError, LookupError."""
        if isinstance(status, bool) or status not in WAYBILL_STATUSES:
            raise ValueError(f"status must be one of {', '.join(map(str, WAYBILL_STATUSES))}, not {status!r}")
        with self.lock:
            waybill = self.waybills.get(waybill_id)
            if waybill is None:
                raise LookupError(f"no waybill {waybill_id!r} was registered with trace_waybill")
            waybill.status = status
            return waybill.to_dict()

    def waybill_dict(self, waybill_id: str) -> dict[str, Any]:
        with self.lock:
            waybill = self.waybills.get(waybill_id)
            if waybill is None:
                raise LookupError(f"no waybill {waybill_id!r} was registered with trace_waybill")
            return waybill.to_dict()

    def waybill_list(self) -> list[dict[str, Any]]:
        with self.lock:
            return [w.to_dict() for w in self.waybills.values()]

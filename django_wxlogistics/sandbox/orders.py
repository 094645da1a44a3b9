"""Orders placed in the sandbox: pushed to the shop as ``add_waybill``, their waybills known to
updatePath and getContact once the shop answers, cancelled with ``cancel_waybill``."""

from __future__ import annotations

import copy
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .order_events import PROVIDER_ASSIGNS, add_waybill_fields, cancel_waybill_fields, contact
from .pusher import PUSH_FAULTS, PushConfig, push

if TYPE_CHECKING:
    from .state import SandboxState

#: a placement fault: the same add_waybill pushed twice, one after the other or both at once
ORDER_FAULTS = ("duplicate", "concurrent_duplicate", *PUSH_FAULTS)
#: the default ShopAppID: the merchant's mini program that places the orders
SHOP_APPID = "wxsandboxshop00001"

PUSHING = "pushing"  # the add_waybill push is on its way; the shop has not answered yet
PLACED = "placed"  # the shop answered ResultCode 0 with a WayBillID
REFUSED = "refused"  # the shop answered another ResultCode
FAILED = "failed"  # no usable answer: no reply, an HTTP error, a bad signature, ...
CANCELLED = "cancelled"  # the shop accepted cancel_waybill


class OrderError(ValueError):
    """The push of an order did not succeed; ``order`` is the order as it stands."""

    def __init__(self, message: str, order: dict[str, Any], status: int = 502) -> None:
        super().__init__(message)
        self.order = order
        self.status = status


@dataclass
class SandboxOrder:
    event: dict[str, Any]  # the add_waybill fields
    state: str = PUSHING
    waybill_id: str | None = None
    result_code: int | None = None
    result_msg: str | None = None
    error: str | None = None
    #: every WayBillID the shop answered for this order: more than one is a broken promise
    waybill_ids: list[str] = field(default_factory=list)
    pushes: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "order_id": self.event["OrderID"],
            "biz_id": self.event["BizID"],
            "token": self.event["Token"],
            "waybill_id": self.waybill_id,
            "state": self.state,
            "result_code": self.result_code,
            "result_msg": self.result_msg,
            "error": self.error,
            "waybill_ids": list(self.waybill_ids),
            "pushes": list(self.pushes),
            "event": {**self.event, "BizPwd": "***"},
        }


class OrderBook:
    """The orders and the push log of one sandbox, behind one lock."""

    def __init__(self, config: PushConfig, max_pushes: int = 10_000) -> None:
        self._initial = config
        self.lock = threading.Lock()
        self.pushes: deque[dict[str, Any]] = deque(maxlen=max_pushes)
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.config = self._initial
            self.orders: dict[str, SandboxOrder] = {}
            self.pushes.clear()
            self._next_push = 1

    def configure(self, data: dict[str, Any]) -> PushConfig:
        with self.lock:
            self.config = self.config.updated(data)
            return self.config

    def add(self, order: SandboxOrder) -> None:
        with self.lock:
            if order.event["OrderID"] in self.orders:
                raise OrderError(
                    f"order {order.event['OrderID']!r} was placed before: push it again with "
                    "POST /__sandbox__/orders/<order_id>/repeat",
                    self.orders[order.event["OrderID"]].to_dict(),
                    status=409,
                )
            self.orders[order.event["OrderID"]] = order

    def get(self, order_id: str) -> SandboxOrder:
        with self.lock:
            order = self.orders.get(order_id)
        if order is None:
            raise LookupError(f"no order {order_id!r} was placed in the sandbox")
        return order

    def record(self, order: SandboxOrder, pushed: dict[str, Any]) -> None:
        with self.lock:
            pushed["id"] = self._next_push
            self._next_push += 1
            self.pushes.append(pushed)
            order.pushes.append(pushed["id"])

    def awaiting(self, token: str) -> SandboxOrder | None:
        """The order whose Token is ``token`` while the shop's answer is still on its way."""
        with self.lock:
            for order in self.orders.values():
                if order.state == PUSHING and order.event["Token"] == token:
                    return order
        return None

    def order_list(self) -> list[dict[str, Any]]:
        with self.lock:
            return [o.to_dict() for o in self.orders.values()]

    def order_dict(self, order_id: str) -> dict[str, Any]:
        order = self.get(order_id)
        with self.lock:
            return order.to_dict()

    def push_list(self, order_id: str | None = None, event: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            pushes = [copy.deepcopy(p) for p in self.pushes]
        return [
            p
            for p in pushes
            if (not order_id or p["order_id"] == order_id) and (not event or p["event"] == event)
        ]


def _apply_add_reply(state: SandboxState, order: SandboxOrder, pushed: dict[str, Any]) -> None:
    """What the shop's answer to add_waybill makes of the order (and of the sandbox's waybills)."""
    book = state.orders
    waybill_id = pushed["waybill_id"]
    with book.lock:
        if waybill_id and pushed["ok"] and waybill_id not in order.waybill_ids:
            order.waybill_ids.append(waybill_id)
        if order.state in (PLACED, CANCELLED):
            return  # a later push of the same order changes nothing the shop already answered
        order.result_code, order.result_msg, order.error = (
            pushed["result_code"],
            pushed["result_msg"],
            pushed["error"],
        )
        if pushed["ok"]:
            order.state, order.waybill_id = PLACED, waybill_id
        else:
            order.state = REFUSED if pushed["result_code"] not in (None, 0) else FAILED
    if pushed["ok"]:
        register(state, order, waybill_id)


def register(state: SandboxState, order: SandboxOrder, waybill_id: str) -> None:
    """Make the order's waybill known to updatePath and getContact (its trace is kept)."""
    state.register_waybill(
        waybill_id,
        order.event["Token"],
        sender=contact(order.event["Sender"]),
        receiver=contact(order.event["Receiver"]),
    )


def _push(
    state: SandboxState, order: SandboxOrder, fields: dict[str, Any], fault: str | None
) -> dict[str, Any]:
    pushed = push(state.orders.config, fields, None if fault not in PUSH_FAULTS else fault)
    if pushed["ok"] and fields["Event"] == "add_waybill" and pushed["waybill_id"] in (None, PROVIDER_ASSIGNS):
        pushed["ok"] = False
        pushed["error"] = "the shop answered ResultCode 0 without a WayBillID"
    state.orders.record(order, pushed)
    return pushed


def _push_add(state: SandboxState, order: SandboxOrder, fault: str | None) -> None:
    if fault == "concurrent_duplicate":
        # WeChat retrying while the first push is still being answered: both at once.
        results: list[dict[str, Any]] = []
        threads = [
            threading.Thread(target=lambda: results.append(_push(state, order, order.event, None)))
            for _ in range(2)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for pushed in results:
            _apply_add_reply(state, order, pushed)
        return
    _apply_add_reply(state, order, _push(state, order, order.event, fault))
    if fault == "duplicate":
        _apply_add_reply(state, order, _push(state, order, order.event, None))


def _raise_unless_placed(state: SandboxState, order: SandboxOrder) -> dict[str, Any]:
    with state.orders.lock:
        result = order.to_dict()
    if len(result["waybill_ids"]) > 1:
        raise OrderError(
            f"the shop answered different WayBillIDs for order {result['order_id']!r}: "
            f"{', '.join(result['waybill_ids'])}",
            result,
        )
    if result["state"] != PLACED:
        raise OrderError(f"order {result['order_id']!r} was not placed: {result['error']}", result)
    return result


def place_order(state: SandboxState, given: dict[str, Any], fault: str | None = None) -> dict[str, Any]:
    """Place an order: push add_waybill (``given``: WeChat's fields over the defaults).

    Returns the order; OrderError when the shop did not accept it (the order is kept).
    """
    if fault is not None and fault not in ORDER_FAULTS:
        raise ValueError(f"fault must be one of {', '.join(ORDER_FAULTS)}, not {fault!r}")
    missing = state.orders.config.missing()
    if missing:
        raise ValueError(missing)
    order = SandboxOrder(event=add_waybill_fields(given, shop_appid=SHOP_APPID))
    state.orders.add(order)
    _push_add(state, order, fault)
    return _raise_unless_placed(state, order)


def repeat_order(state: SandboxState, order_id: str, fault: str | None = None) -> dict[str, Any]:
    """Push an order's add_waybill again, as WeChat does when it got no answer in time."""
    if fault is not None and fault not in PUSH_FAULTS:
        raise ValueError(f"fault must be one of {', '.join(PUSH_FAULTS)}, not {fault!r}")
    order = state.orders.get(order_id)
    with state.orders.lock:
        if order.state == FAILED or order.state == REFUSED:
            order.state = PUSHING  # a retry of an order the shop never placed may place it now
    _apply_add_reply(state, order, _push(state, order, order.event, fault))
    return _raise_unless_placed(state, order)


def cancel_order(state: SandboxState, order_id: str, fault: str | None = None) -> dict[str, Any]:
    """Push cancel_waybill for a placed order; returns it, cancelled, or OrderError."""
    if fault is not None and fault not in PUSH_FAULTS:
        raise ValueError(f"fault must be one of {', '.join(PUSH_FAULTS)}, not {fault!r}")
    order = state.orders.get(order_id)
    with state.orders.lock:
        waybill_id, current = order.waybill_id, order.state
    if waybill_id is None:
        raise OrderError(
            f"order {order_id!r} has no waybill to cancel (it is {current})", order.to_dict(), 409
        )
    pushed = _push(state, order, cancel_waybill_fields(order.event, waybill_id), fault)
    with state.orders.lock:
        if pushed["ok"]:
            order.state = CANCELLED
        result = order.to_dict()
    if not pushed["ok"]:
        raise OrderError(f"the shop did not cancel order {order_id!r}: {pushed['error']}", result)
    return result

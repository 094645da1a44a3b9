"""Handlers and hooks the tests name by dotted path, as a shop would in its settings."""

from __future__ import annotations

from typing import Any

from django_wxlogistics.events.message import PushMessage, WaybillOrder
from django_wxlogistics.events.results import EventResult

calls: list[Any] = []


def crash_with_the_token(message: PushMessage) -> EventResult:
    raise RuntimeError(f"crash_with_the_token: cannot use token {message.text('Token')}")


def answer_42(message: PushMessage) -> Any:
    return 42


def single_waybill(message: PushMessage) -> EventResult:
    return EventResult(fields={"WayBillID": message.text("WaybillId") or "SW1"})


def fixed_quota(message: PushMessage) -> EventResult:
    return EventResult(result_msg="ours", fields={"Quota": 77})


def sequential_ids(order: WaybillOrder) -> str:
    calls.append(order.order_id)
    return f"SEQ{len(calls):06d}"


def taken_then_free(order: WaybillOrder) -> str:
    calls.append(order.order_id)
    return "TAKEN1" if len(calls) == 1 else "FREE2"


def shop_order_number(order: WaybillOrder, result: EventResult) -> Any:
    calls.append(order)
    return f"SHOP-{order.order_id[-6:]}"

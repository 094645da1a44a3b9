"""The control API of the merchant's side: create payments and act on them (refund, the payer's
receipt, settlement, unknown for a while), read what WeChat received; the tracking component's
waybills, the carrier list, the account's switches; and the page's forms that do the same."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

from .payments import PaymentConflict
from .replies import Reply, form_route, json_object, json_reply, only_fields, redirect

if TYPE_CHECKING:
    from .state import SandboxState

#: POST /payments/<transaction_id>/<action>: what each does, and the body field it takes
PAYMENT_ACTIONS = ("refund", "confirm", "settle", "state", "unknown")


def _answer(key: str, run: Callable[[], Any], status: int = 200) -> Reply:
    try:
        return json_reply({key: run()}, status=status)
    except PaymentConflict as exc:
        return json_reply({"error": str(exc)}, status=409)
    except LookupError as exc:
        return json_reply({"error": str(exc.args[0])}, status=404)


def _payment_action(state: SandboxState, transaction_id: str, action: str, raw: bytes) -> Reply:
    book = state.merchant.payments
    data = json_object(raw)
    if action == "state":
        only_fields(data, "state")
        if "state" not in data:
            raise ValueError('give "state": the order_state to set, e.g. 6')
        return _answer("payment", lambda: book.set_state(transaction_id, data["state"]))
    if action == "unknown":
        only_fields(data, "seconds")
        if "seconds" not in data:
            raise ValueError('give "seconds": how long WeChat answers 10060001 for the payment')
        return _answer("payment", lambda: book.set_unknown(transaction_id, data["seconds"]))
    only_fields(data)
    run = {"refund": book.refund, "confirm": book.user_confirm, "settle": book.settle}[action]
    return _answer("payment", lambda: run(transaction_id))


def _payment_calls(state: SandboxState, transaction_id: str) -> list[dict[str, Any]]:
    book = state.merchant.payments
    book.get(transaction_id)  # LookupError for a payment the sandbox never had
    return [c for c in state.call_list() if book.concerns(transaction_id, c["body"])]


def route_payments(
    state: SandboxState, method: str, path: str, query: dict[str, str], raw: bytes, headers: Mapping[str, str]
) -> Reply | None:
    """The reply to a merchant's-side control request; None if ``path`` is not one."""
    merchant = state.merchant
    if path.startswith("/page/payments") or path.startswith("/page/tracked"):
        return _page_form(state, method, path, raw, headers)
    if path == "/payments":
        if method == "GET":
            return json_reply({"payments": merchant.payments.payment_list()})
        if method == "POST":
            return _answer("payment", lambda: merchant.payments.create(json_object(raw)), status=201)
    if path.startswith("/payments/"):
        transaction_id, _, action = path[len("/payments/") :].partition("/")
        transaction_id = unquote(transaction_id)
        if method == "GET" and not action:
            return _answer("payment", lambda: merchant.payments.payment_dict(transaction_id))
        if method == "GET" and action == "calls":
            return _answer("calls", lambda: _payment_calls(state, transaction_id))
        if method == "POST" and action in PAYMENT_ACTIONS:
            return _payment_action(state, transaction_id, action, raw)
    if path == "/merchant":
        if method == "GET":
            return json_reply({"merchant": merchant.payments.config()})
        if method == "POST":
            return json_reply({"merchant": merchant.payments.configure(json_object(raw))})
    if path == "/carriers":
        if method == "GET":
            return json_reply({"carriers": merchant.carriers.delivery_list()})
        if method == "POST":
            data = json_object(raw)
            only_fields(data, "delivery_id", "delivery_name")
            carrier = merchant.carriers.add(data.get("delivery_id"), data.get("delivery_name"))
            return json_reply({"carrier": carrier}, status=201)
    if path == "/tracked" and method == "GET":
        return json_reply({"waybills": merchant.tracking.waybill_list()})
    if path.startswith("/tracked/"):
        waybill_id, _, action = path[len("/tracked/") :].partition("/")
        waybill_id = unquote(waybill_id)
        if method == "GET" and not action:
            return _answer("waybill", lambda: merchant.tracking.waybill_dict(waybill_id))
        if method == "POST" and action == "status":
            data = json_object(raw)
            only_fields(data, "status")
            return _answer("waybill", lambda: merchant.tracking.set_status(waybill_id, data.get("status")))
    return None


@form_route
def _page_form(state: SandboxState, path: str, form: dict[str, str], back: str) -> Reply | None:
    """The page's payment forms (create, refund, the payer's receipt, settle, a parcel's status)."""
    book = state.merchant.payments
    try:
        if path == "/page/payments":
            data: dict[str, Any] = {
                k: form[k].strip() for k in ("openid", "description") if form.get(k, "").strip()
            }
            if form.get("amount", "").strip():
                data["amount"] = int(form["amount"])
            if form.get("unknown_for", "").strip():
                data["unknown_for"] = float(form["unknown_for"])
            book.create(data)
        elif path.startswith("/page/payments/"):
            transaction_id, _, action = path[len("/page/payments/") :].partition("/")
            run = {"refund": book.refund, "confirm": book.user_confirm, "settle": book.settle}.get(action)
            if run is None:
                return None
            run(unquote(transaction_id))
        elif path.startswith("/page/tracked/"):
            waybill_id, _, action = path[len("/page/tracked/") :].partition("/")
            if action != "status":
                return None
            state.merchant.tracking.set_status(unquote(waybill_id), int(form.get("status", "")))
        else:
            return None
    except (ValueError, LookupError) as exc:
        return redirect(f"{back}&payment_problem={quote(str(exc))}")
    return redirect(back)

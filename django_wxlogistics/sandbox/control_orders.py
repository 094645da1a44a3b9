"""The control API's orders: configure the push, place, push again and cancel orders, read the
push log; and the forms of the sandbox's page that do the same from a browser."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

from .order_events import ORDER_FIELDS
from .orders import OrderError, cancel_order, place_order, repeat_order
from .replies import Reply, json_object, json_reply, page_form, redirect

if TYPE_CHECKING:
    from .state import SandboxState

#: what POST /__sandbox__/orders takes beside WeChat's fields
ORDER_OPTIONS = ("fault",)
#: the Receiver fields the page's form fills in
FORM_RECEIVER = ("Name", "Mobile", "Address")


def _fault(data: dict[str, Any]) -> str | None:
    fault = data.get("fault")
    if fault is not None and not isinstance(fault, str):
        raise ValueError("fault must be a string or null")
    return fault


def _order_reply(run: Any, status: int = 200) -> Reply:
    try:
        return json_reply({"order": run()}, status=status)
    except OrderError as exc:
        return json_reply({"error": str(exc), "order": exc.order}, status=exc.status)
    except LookupError as exc:
        return json_reply({"error": str(exc.args[0])}, status=404)


def route_orders(
    state: SandboxState, method: str, path: str, query: dict[str, str], raw: bytes
) -> Reply | None:
    """The reply to an orders or push request of the control API; None if ``path`` is not one."""
    book = state.orders
    if path == "/push":
        if method == "GET":
            return json_reply({"push": book.config.to_dict()})
        if method == "POST":
            return json_reply({"push": book.configure(json_object(raw)).to_dict()})
    if path == "/orders":
        if method == "GET":
            return json_reply({"orders": book.order_list()})
        if method == "POST":
            data = json_object(raw)
            unknown = set(data) - set(ORDER_FIELDS) - set(ORDER_OPTIONS)
            if unknown:
                raise ValueError(
                    f"unknown field(s) {', '.join(sorted(unknown))}; use WeChat's add_waybill fields "
                    f"({', '.join(ORDER_FIELDS)}) and fault"
                )
            fault = _fault(data)
            given = {k: v for k, v in data.items() if k in ORDER_FIELDS}
            return _order_reply(lambda: place_order(state, given, fault), status=201)
    if path.startswith("/orders/"):
        order_id, _, action = path[len("/orders/") :].partition("/")
        order_id = unquote(order_id)
        if method == "GET" and not action:
            return _order_reply(lambda: book.order_dict(order_id))
        if method == "POST" and action in ("repeat", "cancel"):
            data = json_object(raw)
            unknown = set(data) - set(ORDER_OPTIONS)
            if unknown:
                raise ValueError(f"unknown field(s) {', '.join(sorted(unknown))}; use fault")
            run = repeat_order if action == "repeat" else cancel_order
            return _order_reply(lambda: run(state, order_id, _fault(data)))
    if path == "/pushes" and method == "GET":
        return json_reply(
            {"pushes": book.push_list(order_id=query.get("order_id"), event=query.get("event"))}
        )
    return None


def route_page_forms(
    state: SandboxState, method: str, path: str, raw: bytes, headers: Mapping[str, str]
) -> Reply | None:
    """The page's forms (place, push again, cancel): do it, then show the page again."""
    if not path.startswith("/page/"):
        return None
    posted = page_form(method, raw, headers)
    if not isinstance(posted, tuple):
        return posted
    form, back = posted
    fault = form.get("fault") or None
    try:
        if path == "/page/orders":
            receiver = {k: form[k].strip() for k in FORM_RECEIVER if form.get(k, "").strip()}
            given: dict[str, Any] = {"Receiver": receiver} if receiver else {}
            if form.get("Remark", "").strip():
                given["Remark"] = form["Remark"].strip()
            place_order(state, given, fault)
        elif path.startswith("/page/orders/"):
            order_id, _, action = path[len("/page/orders/") :].partition("/")
            if action == "cancel":
                cancel_order(state, unquote(order_id), fault)
            elif action == "repeat":
                repeat_order(state, unquote(order_id), fault)
            else:
                return None
        else:
            return None
    except (OrderError, LookupError):
        pass  # the page shows the order's state and the shop's answer
    except ValueError as exc:
        return redirect(f"{back}&problem={quote(str(exc))}")
    return redirect(back)

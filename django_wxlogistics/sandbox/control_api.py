"""The JSON control API under ``/__sandbox__/``: register waybills, place orders, create payments,
read calls and pushes, set faults, move the clock."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from . import calls_page, order_page, payment_page, trace_page, trade_push_page
from .control_orders import route_orders, route_page_forms
from .control_payments import route_payments
from .control_trade_pushes import route_trade_pushes
from .faults import FaultPlan
from .replies import Reply, html_reply, json_object, json_reply
from .wechat_api import ROUTES

#: The APIs of WeChat the sandbox answers, by name, for the page of what it received.
API_NAMES = sorted({api for api, _method in ROUTES.values()})

if TYPE_CHECKING:
    from .server import SandboxHTTPServer


def _error(message: str, status: int = 400) -> Reply:
    return json_reply({"error": message}, status=status)


def _move_clock(server: SandboxHTTPServer, data: dict[str, Any]) -> dict[str, Any]:
    """``{"advance": seconds}`` moves the clock forward, ``{"stopped": true}`` stops it."""
    unknown = set(data) - {"advance", "stopped"}
    if unknown or not data:
        raise ValueError(
            f"unknown field(s) {', '.join(sorted(unknown))}; use advance, stopped"
            if unknown
            else 'give "advance" (seconds to move the clock forward) and/or "stopped" (true or false)'
        )
    if "stopped" in data and not isinstance(data["stopped"], bool):
        raise ValueError("stopped must be true or false")
    clock = server.state.clock
    if "advance" in data:
        clock.advance(data["advance"])
    if "stopped" in data:
        clock.stop(data["stopped"])
    # Time passed for WeChat: payments 48 hours unshipped are reminded of now.
    server.state.trade_pushes.remind_due()
    return clock.to_dict()


def handle_control(
    server: SandboxHTTPServer,
    method: str,
    path: str,
    query: dict[str, str],
    raw: bytes,
    headers: Mapping[str, str] | None = None,
) -> Reply:
    """Answer one control request; ``path`` is relative to ``/__sandbox__``."""
    path = path.rstrip("/") or "/"
    try:
        reply = route_page_forms(server.state, method, path, raw, headers or {})
        if reply is None:
            reply = route_orders(server.state, method, path, query, raw)
        if reply is None:
            reply = route_payments(server.state, method, path, query, raw, headers or {})
        if reply is None:
            reply = route_trade_pushes(server.state, method, path, query, raw, headers or {})
        return reply if reply is not None else _route(server, method, path, query, raw)
    except ValueError as exc:
        return _error(str(exc))


def _route(server: SandboxHTTPServer, method: str, path: str, query: dict[str, str], raw: bytes) -> Reply:
    state = server.state
    lang = query.get("lang", "zh")
    if path == "/" and method == "GET":
        orders = order_page.render_orders(state.orders, lang, query.get("problem"))
        payments = payment_page.render_payments(state.merchant, lang, query.get("payment_problem"))
        pushed = trade_push_page.render_trade_pushes(state.trade_pushes.push_list(), lang)
        index = trace_page.render_index(state.waybill_list(), lang, before=payments + pushed + orders)
        return html_reply(index)
    if path.startswith("/trace/") and method == "GET":
        waybill_id = unquote(path[len("/trace/") :])
        events = state.trace(waybill_id)
        if events is None:
            return html_reply(trace_page.render_not_found(waybill_id, lang), status=404)
        steps = order_page.render_order_steps(state.orders, waybill_id, lang)
        return html_reply(trace_page.render_trace(waybill_id, events, lang, after=steps))
    if path == "/received" and method == "GET":
        api, waybill_id = query.get("api", ""), query.get("waybill_id", "")
        calls = state.call_list(api=api or None, waybill_id=waybill_id or None)
        return html_reply(calls_page.render_calls(calls, API_NAMES, lang, api, waybill_id))
    if path == "/waybills":
        if method == "GET":
            return json_reply({"waybills": state.waybill_list()})
        if method == "POST":
            data = json_object(raw)
            unknown = set(data) - {"waybill_id", "token", "sender", "receiver", "list_shape"}
            if unknown:
                raise ValueError(
                    f"unknown field(s) {', '.join(sorted(unknown))}; "
                    "use waybill_id, token, sender, receiver, list_shape"
                )
            waybill = state.register_waybill(
                data.get("waybill_id"),
                data.get("token"),
                sender=data.get("sender"),
                receiver=data.get("receiver"),
                list_shape=data.get("list_shape", False),
            )
            return json_reply({"waybill": waybill.to_dict()}, status=201)
    if path.startswith("/waybills/") and method == "GET":
        rest = path[len("/waybills/") :]
        waybill_id = unquote(rest.removesuffix("/trace"))
        events = state.trace(waybill_id)
        if events is None:
            return _error(f"no waybill {waybill_id!r} is registered", status=404)
        return json_reply({"waybill_id": waybill_id, "trace": events})
    if path == "/calls" and method == "GET":
        return json_reply(
            {"calls": state.call_list(api=query.get("api"), waybill_id=query.get("waybill_id"))}
        )
    if path == "/faults":
        if method == "GET":
            return json_reply({"faults": server.faults.plan.to_dict()})
        if method == "POST":
            plan = FaultPlan.from_dict(json_object(raw))
            server.faults.set_plan(plan)
            return json_reply({"faults": plan.to_dict()})
        if method == "DELETE":
            server.faults.set_plan(FaultPlan())
            return json_reply({"faults": FaultPlan().to_dict()})
    if path == "/expire_tokens" and method == "POST":
        return json_reply({"expired": state.expire_tokens()})
    if path == "/clock":
        if method == "GET":
            return json_reply({"clock": state.clock.to_dict()})
        if method == "POST":
            return json_reply({"clock": _move_clock(server, json_object(raw))})
    if path == "/release" and method == "POST":
        return json_reply({"released": server.release()})
    if path == "/reset" and method == "POST":
        server.reset()
        return json_reply({"reset": True})
    if path == "/stats" and method == "GET":
        return json_reply({**state.stats(), "held": server.held, "most_held": server.most_held})
    if path == "/config":
        if method == "GET":
            return json_reply(state.config())
        if method == "POST":
            return json_reply(state.configure(json_object(raw)))
    return _error(
        f"no control endpoint {method} /__sandbox__{path}; see the sandbox documentation for "
        "waybills, orders, pushes, push, payments, trade_pushes, merchant, carriers, tracked, calls, faults, "
        "expire_tokens, clock, release, reset, stats and config",
        status=404,
    )

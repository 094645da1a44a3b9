"""The control API's ``trade_manage_*`` pushes: push each of them now, wait for the queue to empty,
read them with their outcome; and the page's forms that push them from a browser."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

from .payments import PaymentConflict
from .replies import Reply, form_route, json_object, json_reply, only_fields, redirect

if TYPE_CHECKING:
    from .state import SandboxState

#: how long POST /trade_pushes/wait waits unless told, and at most
WAIT_DEFAULT, WAIT_MOST = 10.0, 60.0


def _transaction_id(data: dict[str, Any], required: bool) -> str | None:
    value = data.get("transaction_id")
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        raise ValueError('give "transaction_id": the payment the push is about')
    return value


def _queued(run: Any) -> Reply:
    try:
        return json_reply({"trade_push": run()}, status=202)
    except PaymentConflict as exc:
        return json_reply({"error": str(exc)}, status=409)
    except LookupError as exc:
        return json_reply({"error": str(exc.args[0])}, status=404)


def _timeout(data: dict[str, Any]) -> float:
    value = data.get("timeout", WAIT_DEFAULT)
    valid = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if not valid or not 0 <= value <= WAIT_MOST:
        raise ValueError(f"timeout must be a number of seconds from 0 to {WAIT_MOST:g}, not {value!r}")
    return float(value)


def route_trade_pushes(
    state: SandboxState, method: str, path: str, query: dict[str, str], raw: bytes, headers: Mapping[str, str]
) -> Reply | None:
    """The reply to a ``trade_pushes`` request of the control API; None if ``path`` is not one."""
    pushes = state.trade_pushes
    if path.startswith("/page/trade_pushes/"):
        return _page_form(state, method, path, raw, headers)
    if path == "/trade_pushes" and method == "GET":
        listed = pushes.push_list(query.get("transaction_id"), query.get("event"))
        return json_reply({"trade_pushes": listed})
    if not path.startswith("/trade_pushes/") or method != "POST":
        return None
    action = path[len("/trade_pushes/") :]
    data = json_object(raw)
    if action == "wait":
        only_fields(data, "timeout")
        idle = pushes.wait(_timeout(data))
        return json_reply({"idle": idle, "trade_pushes": pushes.push_list()})
    if action == "remind_shipping":
        only_fields(data, "transaction_id")
        transaction_id = _transaction_id(data, required=False)
        if transaction_id is not None:
            return _queued(lambda: pushes.remind_shipping(transaction_id))
        missing = state.orders.config.missing()
        if missing:
            raise ValueError(missing)
        return json_reply({"trade_pushes": pushes.remind_due()}, status=202)
    if action == "order_settlement":
        only_fields(data, "transaction_id")
        transaction_id = _transaction_id(data, required=True)
        assert transaction_id is not None
        return _queued(lambda: pushes.order_settlement(transaction_id))
    if action == "remind_access_api":
        only_fields(data, "msg")
        return _queued(lambda: pushes.remind_access_api(data.get("msg")))
    return None


@form_route
def _page_form(state: SandboxState, path: str, form: dict[str, str], back: str) -> Reply | None:
    """The page's push buttons: a payment's shipping reminder, the reminders due, the API reminder."""
    pushes = state.trade_pushes
    action, _, transaction_id = path[len("/page/trade_pushes/") :].partition("/")
    transaction_id = unquote(transaction_id)
    try:
        if action == "remind_shipping" and transaction_id:
            pushes.remind_shipping(transaction_id)
        elif action == "remind_shipping":
            missing = state.orders.config.missing()
            if missing:
                raise ValueError(missing)
            pushes.remind_due()
        elif action == "order_settlement" and transaction_id:
            pushes.order_settlement(transaction_id)
        elif action == "remind_access_api":
            pushes.remind_access_api(form.get("msg", "").strip() or None)
        else:
            return None
    except (ValueError, LookupError) as exc:
        return redirect(f"{back}&payment_problem={quote(str(exc.args[0]) if exc.args else str(exc))}")
    return redirect(back)

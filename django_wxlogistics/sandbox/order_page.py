"""The orders part of the sandbox's page, in Chinese or English: the form that places an order,
the orders with their buttons, and the pushes the shop answered."""

from __future__ import annotations

import datetime
from html import escape
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from .orders import ORDER_FAULTS, PLACED
from .trace_page import CHINA_TIME

if TYPE_CHECKING:
    from .orders import OrderBook

TEXT = {
    "zh": {
        "place": "下单",
        "place_hint": "沙箱像微信一样，把下单事件 add_waybill 推送到商店的事件地址。",
        "push_to": "推送到",
        "not_configured": "尚未配置推送（见沙箱文档）",
        "Name": "收件人",
        "Mobile": "手机",
        "Address": "地址",
        "Remark": "备注",
        "fault": "故障",
        "no_fault": "无",
        "duplicate": "重复推送",
        "concurrent_duplicate": "同时推送两次",
        "bad_signature": "签名错误",
        "wrong_appid": "AppID 错误",
        "stale_timestamp": "过期的时间戳",
        "safe": "安全模式",
        "plain": "明文模式",
        "problem": "无法下单",
        "orders": "订单",
        "no_orders": "还没有订单",
        "order": "订单号",
        "waybill": "运单号",
        "state": "状态",
        "result": "商店的答复",
        "pushing": "推送中",
        "placed": "已下单",
        "refused": "被拒绝",
        "failed": "失败",
        "cancelled": "已取消",
        "repeat": "再推送一次",
        "cancel": "取消订单",
        "mismatch": "商店对同一订单答复了不同的运单号",
        "pushes": "推送记录",
        "no_pushes": "还没有推送",
        "steps": "订单事件",
        "waybills": "运单",
    },
    "en": {
        "place": "Place an order",
        "place_hint": "The sandbox pushes the order placement event, add_waybill, to the shop's events URL, "
        "as WeChat does.",
        "push_to": "Pushes go to",
        "not_configured": "No push is configured yet (see the sandbox's documentation)",
        "Name": "Receiver",
        "Mobile": "Mobile",
        "Address": "Address",
        "Remark": "Remark",
        "fault": "Fault",
        "no_fault": "None",
        "duplicate": "Push twice",
        "concurrent_duplicate": "Push twice at once",
        "bad_signature": "Wrong signature",
        "wrong_appid": "Wrong AppID",
        "stale_timestamp": "Stale timestamp",
        "safe": "safe mode",
        "plain": "plain mode",
        "problem": "Could not place the order",
        "orders": "Orders",
        "no_orders": "No orders yet",
        "order": "Order",
        "waybill": "Waybill",
        "state": "State",
        "result": "The shop's answer",
        "pushing": "Pushing",
        "placed": "Placed",
        "refused": "Refused",
        "failed": "Failed",
        "cancelled": "Cancelled",
        "repeat": "Push again",
        "cancel": "Cancel",
        "mismatch": "The shop answered different waybill ids for one order",
        "pushes": "Pushes",
        "no_pushes": "No pushes yet",
        "steps": "Order events",
        "waybills": "Waybills",
    },
}

#: the latest pushes the page lists
SHOWN_PUSHES = 20


def _lang(lang: str) -> str:
    return lang if lang in TEXT else "zh"


def _time(moment: float) -> str:
    return datetime.datetime.fromtimestamp(moment, CHINA_TIME).strftime("%Y-%m-%d %H:%M:%S")


def _answer(pushed: dict[str, Any]) -> str:
    """What the shop answered a push, in one line."""
    ok = f"ResultCode 0 {pushed['result_msg'] or ''}".strip()
    detail = ok if pushed["ok"] else pushed["error"] or ""
    return f"{detail} · {pushed['duration_ms']} ms" if pushed["duration_ms"] is not None else detail


def _form(text: dict[str, str], lang: str, book: OrderBook) -> str:
    config = book.config
    if config.missing() is None:
        target = f"{text['push_to']} {config.url} ({config.format.upper()}, {text[config.mode]})"
    else:
        target = text["not_configured"]
    inputs = "".join(
        f'<label>{escape(text[name])} <input name="{name}" size="14"></label> '
        for name in ("Name", "Mobile", "Address", "Remark")
    )
    faults = f'<option value="">{escape(text["no_fault"])}</option>' + "".join(
        f'<option value="{f}">{escape(text[f])}</option>' for f in ORDER_FAULTS
    )
    return (
        f'<div class="card"><h2>{escape(text["place"])}</h2>'
        f'<p class="time">{escape(text["place_hint"])} {escape(target)}</p>'
        f'<form method="post" action="/__sandbox__/page/orders">'
        f'<input type="hidden" name="lang" value="{lang}">'
        f'{inputs}<label>{escape(text["fault"])} <select name="fault">{faults}</select></label> '
        f'<button type="submit">{escape(text["place"])}</button></form></div>'
    )


def _button(order_id: str, action: str, label: str, lang: str) -> str:
    return (
        f'<form method="post" style="display:inline" '
        f'action="/__sandbox__/page/orders/{escape(quote(order_id, safe=""))}/{action}">'
        f'<input type="hidden" name="lang" value="{lang}">'
        f'<button type="submit">{escape(label)}</button></form>'
    )


def _order_row(order: dict[str, Any], text: dict[str, str], lang: str) -> str:
    waybill = order["waybill_id"]
    waybill_cell = (
        f'<a href="/__sandbox__/trace/{escape(quote(waybill, safe=""))}?lang={lang}">{escape(waybill)}</a>'
        if waybill
        else "—"
    )
    if order["result_code"] is not None or order["error"]:
        answer = order["error"] or f"ResultCode {order['result_code']} {order['result_msg'] or ''}"
    else:
        answer = ""
    warning = (
        f'<div class="msg"><strong>{escape(text["mismatch"])}</strong></div>'
        if len(order["waybill_ids"]) > 1
        else ""
    )
    buttons = _button(order["order_id"], "repeat", text["repeat"], lang)
    if order["state"] == PLACED:
        buttons += " " + _button(order["order_id"], "cancel", text["cancel"], lang)
    return (
        f"<tr><td>{escape(order['order_id'])}</td><td>{waybill_cell}</td>"
        f"<td>{escape(text.get(order['state'], order['state']))}</td>"
        f"<td>{escape(answer.strip())}{warning}</td><td>{buttons}</td></tr>"
    )


def _pushes(pushes: list[dict[str, Any]], text: dict[str, str]) -> str:
    if not pushes:
        return f'<p class="time">{escape(text["no_pushes"])}</p>'
    items = "".join(
        f'<li class="{"ok" if p["ok"] else "bad"}">'
        f'<div class="label">{escape(p["event"])} · {escape(str(p["order_id"]))}</div>'
        f'<p class="msg">{escape(_answer(p))}</p>'
        f'<div class="time">{escape(_time(p["time"]))} · {escape(p["format"].upper())} · '
        f"{escape(text[p['mode']])}"
        f"{' · ' + escape(text[p['fault']]) if p['fault'] else ''}</div></li>"
        for p in reversed(pushes)
    )
    return f"<ol>{items}</ol>"


def render_orders(book: OrderBook, lang: str, problem: str | None = None) -> str:
    """The orders part of the index page: the form, the orders, the latest pushes."""
    lang = _lang(lang)
    text = TEXT[lang]
    parts = [_form(text, lang, book)]
    if problem:
        parts.append(f'<div class="card"><strong>{escape(text["problem"])}</strong>: {escape(problem)}</div>')
    orders = book.order_list()
    if orders:
        header = "".join(f"<th>{escape(text[k])}</th>" for k in ("order", "waybill", "state", "result"))
        rows = "".join(_order_row(o, text, lang) for o in reversed(orders))
        table = f"<table><tr>{header}<th></th></tr>{rows}</table>"
    else:
        table = f'<p class="time">{escape(text["no_orders"])}</p>'
    parts.append(f'<div class="card"><h2>{escape(text["orders"])}</h2>{table}</div>')
    pushes = book.push_list()[-SHOWN_PUSHES:]
    parts.append(f'<div class="card"><h2>{escape(text["pushes"])}</h2>{_pushes(pushes, text)}</div>')
    parts.append(f"<h2>{escape(text['waybills'])}</h2>")
    return "".join(parts)


def render_order_steps(book: OrderBook, waybill_id: str, lang: str) -> str:
    """Below a waybill's trace: the pushes of the order it came from, if it came from one."""
    text = TEXT[_lang(lang)]
    order_ids = [o["order_id"] for o in book.order_list() if waybill_id in o["waybill_ids"]]
    if not order_ids:
        return ""
    pushes = [p for p in book.push_list() if p["order_id"] in order_ids]
    return f'<div class="card"><h2>{escape(text["steps"])}</h2>{_pushes(pushes, text)}</div>'

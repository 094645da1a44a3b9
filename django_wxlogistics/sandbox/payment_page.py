"""The merchant's part of the sandbox's page, in Chinese or English: each payment with its shipping
state as WeChat records it, and the waybills registered with the tracking component."""

from __future__ import annotations

import datetime
import math
from html import escape
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from .payments import ORDER_STATES, REFUNDED, SHIPPED, WAITING
from .trace_page import CHINA_TIME
from .tracking import WAYBILL_STATUSES

if TYPE_CHECKING:
    from .merchant import MerchantSide

TEXT: dict[str, dict[str, Any]] = {
    "zh": {
        "payments": "微信支付订单（发货信息管理）",
        "hint": "商店用 upload_shipping_info 录入发货信息、用 notify_confirm_receive 提醒收货；"
        "这里是微信记录的状态。",
        "create": "新建支付单",
        "openid": "支付者 openid",
        "amount": "金额（分）",
        "unknown_for": "几秒后微信才查得到",
        "description": "商品描述",
        "problem": "操作失败",
        "no_payments": "还没有支付单",
        "payment": "支付单",
        "state": "订单状态",
        "shipping": "发货信息",
        "reminder": "收货提醒",
        "unknown": "微信暂时查不到（10060001），还剩",
        "seconds": "秒",
        "reshipped": "已用重新发货机会",
        "not_shipped": "未发货",
        "received": "签收时间",
        "refund": "退款",
        "confirm": "用户确认收货",
        "settle": "结算",
        "remind_shipping": "推送未发货提醒",
        "account": "账号",
        "trade_managed": "已开通发货信息管理服务",
        "confirmation_completed": "已完成交易结算管理确认",
        "jump_path": "消息跳转路径",
        "yes": "是",
        "no": "否",
        "logistics": {1: "快递", 2: "同城配送", 3: "虚拟商品", 4: "用户自提"},
        "tracked": "物流查询组件的运单",
        "no_tracked": "尚未登记（trace_waybill）",
        "waybill": "运单号",
        "status": "状态",
        "goods": "商品",
        "set": "设置",
    },
    "en": {
        "payments": "WeChat Pay payments (shipping information)",
        "hint": "The shop records shipping with upload_shipping_info and reminds of receipt with "
        "notify_confirm_receive; this is the state WeChat records.",
        "create": "Create a payment",
        "openid": "Payer openid",
        "amount": "Amount (fen)",
        "unknown_for": "Unknown to WeChat for (s)",
        "description": "Description",
        "problem": "Could not do that",
        "no_payments": "No payments yet",
        "payment": "Payment",
        "state": "Order state",
        "shipping": "Shipping",
        "reminder": "Receipt reminder",
        "unknown": "Not known to WeChat yet (10060001) for",
        "seconds": "s",
        "reshipped": "re-ship used",
        "not_shipped": "Not shipped",
        "received": "received",
        "refund": "Refund",
        "confirm": "Payer confirms receipt",
        "settle": "Settle",
        "remind_shipping": "Push a shipping reminder",
        "account": "Account",
        "trade_managed": "Shipping information service on",
        "confirmation_completed": "Settlement management confirmed",
        "jump_path": "Message jump path",
        "yes": "yes",
        "no": "no",
        "logistics": {1: "express", 2: "same-city", 3: "virtual goods", 4: "pickup"},
        "tracked": "Waybills of the tracking component",
        "no_tracked": "None registered yet (trace_waybill)",
        "waybill": "Waybill",
        "status": "Status",
        "goods": "Goods",
        "set": "Set",
    },
}


def _time(moment: int | None) -> str:
    if moment is None:
        return ""
    return datetime.datetime.fromtimestamp(moment, CHINA_TIME).strftime("%Y-%m-%d %H:%M:%S")


def _button(path: str, label: str, lang: str) -> str:
    return (
        f'<form method="post" style="display:inline" action="/__sandbox__/page/{path}">'
        f'<input type="hidden" name="lang" value="{lang}">'
        f'<button type="submit">{escape(label)}</button></form>'
    )


def _state(state: int, lang: str) -> str:
    labels = ORDER_STATES.get(state)
    return f"{state} {labels[0] if lang == 'zh' else labels[1]}" if labels else str(state)


def _shipping(payment: dict[str, Any], text: dict[str, Any]) -> str:
    shipping = payment["shipping"]
    if shipping is None:
        return escape(text["not_shipped"])
    packages = "<br>".join(
        escape(" ".join(filter(None, (p.get("express_company"), p.get("tracking_no"), p["item_desc"]))))
        for p in shipping["shipping_list"]
    )
    kind = text["logistics"].get(shipping["logistics_type"], str(shipping["logistics_type"]))
    notes = [kind, shipping["upload_time"]] + ([text["reshipped"]] if payment["reshipped"] else [])
    return f'{packages}<div class="time">{escape(" · ".join(notes))}</div>'


def _payment_row(payment: dict[str, Any], text: dict[str, Any], lang: str) -> str:
    tid = payment["transaction_id"]
    seconds = f"{math.ceil(payment['known_in'])} {text['seconds']}"
    unknown = (
        "" if payment["known"] else f'<div class="time">{escape(text["unknown"])} {escape(seconds)}</div>'
    )

    reminder = (
        f"{escape(text['received'])} {escape(_time(payment['received_time']))}"
        if payment["reminded_at"] is not None
        else ""
    )
    path = f"payments/{escape(quote(tid, safe=''))}"
    buttons = []
    if payment["order_state"] != REFUNDED:
        buttons.append(_button(f"{path}/refund", text["refund"], lang))
    if payment["order_state"] == SHIPPED:
        buttons.append(_button(f"{path}/confirm", text["confirm"], lang))
    if payment["order_state"] in (3, 6):
        buttons.append(_button(f"{path}/settle", text["settle"], lang))
    if payment["order_state"] == WAITING and payment["combined_into"] is None:
        remind = f"trade_pushes/remind_shipping/{escape(quote(tid, safe=''))}"
        buttons.append(_button(remind, text["remind_shipping"], lang))
    return (
        f"<tr><td>{escape(tid)}<div class='time'>{escape(payment['out_trade_no'])} · "
        f"{escape(payment['openid'])} · ¥{payment['amount'] / 100:.2f}</div>{unknown}</td>"
        f'<td style="white-space:nowrap">{escape(_state(payment["order_state"], lang))}</td>'
        f"<td>{_shipping(payment, text)}</td><td>{reminder}</td><td>{' '.join(buttons)}</td></tr>"
    )


def _form(text: dict[str, Any], lang: str) -> str:
    inputs = "".join(
        f'<label>{escape(text[name])} <input name="{name}" size="12"></label> '
        for name in ("openid", "amount", "unknown_for", "description")
    )
    return (
        f'<form method="post" action="/__sandbox__/page/payments">'
        f'<input type="hidden" name="lang" value="{lang}">{inputs}'
        f'<button type="submit">{escape(text["create"])}</button></form>'
    )


def _account(merchant: MerchantSide, text: dict[str, Any]) -> str:
    config = merchant.payments.config()
    yes_no = {True: text["yes"], False: text["no"]}
    parts = [
        f"{escape(text['trade_managed'])}: {escape(yes_no[config['trade_managed']])}",
        f"{escape(text['confirmation_completed'])}: {escape(yes_no[config['confirmation_completed']])}",
        f"{escape(text['jump_path'])}: {escape(config['msg_jump_path'] or '—')}",
    ]
    return f'<p class="time">{escape(text["account"])}: {" · ".join(parts)}</p>'


def _tracked(merchant: MerchantSide, text: dict[str, Any], lang: str) -> str:
    waybills = merchant.tracking.waybill_list()
    if not waybills:
        return f'<p class="time">{escape(text["no_tracked"])}</p>'
    rows = []
    for waybill in waybills:
        options = "".join(
            f'<option value="{code}"{" selected" if code == waybill["status"] else ""}>'
            f"{code} {escape(labels[0] if lang == 'zh' else labels[1])}</option>"
            for code, labels in WAYBILL_STATUSES.items()
        )
        status_form = (
            f'<form method="post" style="display:inline" '
            f'action="/__sandbox__/page/tracked/{escape(quote(waybill["waybill_id"], safe=""))}/status">'
            f'<input type="hidden" name="lang" value="{lang}"><select name="status">{options}</select> '
            f'<button type="submit">{escape(text["set"])}</button></form>'
        )
        carrier = merchant.carriers.name(waybill["delivery_id"] or "") or waybill["delivery_id"] or ""
        goods = ", ".join(g["goods_name"] for g in waybill["goods"])
        rows.append(
            f"<tr><td>{escape(waybill['waybill_id'])}<div class='time'>{escape(carrier)}</div></td>"
            f"<td>{status_form}</td><td>{escape(goods)}</td></tr>"
        )
    header = "".join(f"<th>{escape(text[k])}</th>" for k in ("waybill", "status", "goods"))
    return f"<table><tr>{header}</tr>{''.join(rows)}</table>"


def render_payments(merchant: MerchantSide, lang: str, problem: str | None = None) -> str:
    """The merchant's part of the index page: the payments, the account, the tracked waybills."""
    lang = lang if lang in TEXT else "zh"
    text = TEXT[lang]
    payments = merchant.payments.payment_list()
    if payments:
        header = "".join(f"<th>{escape(text[k])}</th>" for k in ("payment", "state", "shipping", "reminder"))
        rows = "".join(_payment_row(p, text, lang) for p in reversed(payments))
        table = f"<table><tr>{header}<th></th></tr>{rows}</table>"
    else:
        table = f'<p class="time">{escape(text["no_payments"])}</p>'
    problem_html = f"<p><strong>{escape(text['problem'])}</strong>: {escape(problem)}</p>" if problem else ""
    return (
        f'<div class="card"><h2>{escape(text["payments"])}</h2>'
        f'<p class="time">{escape(text["hint"])}</p>{_account(merchant, text)}{_form(text, lang)}'
        f"{problem_html}{table}</div>"
        f'<div class="card"><h2>{escape(text["tracked"])}</h2>{_tracked(merchant, text, lang)}</div>'
    )

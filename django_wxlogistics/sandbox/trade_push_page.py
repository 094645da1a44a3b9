"""The sandbox page's part on WeChat's shipping-information pushes (``trade_manage_*``), in Chinese or
English: each push with its outcome, and the buttons that push the reminders."""

from __future__ import annotations

import datetime
from html import escape
from typing import Any

from .trace_page import CHINA_TIME

TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "title": "发货信息管理的消息推送（trade_manage_*）",
        "hint": "发货完成、确认收货、超过 48 小时未发货时，沙箱像微信一样推送到商店的消息地址，"
        "商店答复 success 为止（最多重试三次）。",
        "no_pushes": "还没有推送",
        "remind_due": "推送到期的未发货提醒",
        "remind_access_api": "推送接口接入提醒",
        "trade_manage_order_settlement": "订单结算",
        "trade_manage_remind_shipping": "未发货提醒",
        "trade_manage_remind_access_api": "接口接入提醒",
        "queued": "待推送",
        "delivered": "商店已答复 success",
        "failed": "失败",
        "attempts": "次推送",
        "settled": "已结算",
        "shipped": "已发货",
    },
    "en": {
        "title": "Shipping-information pushes (trade_manage_*)",
        "hint": "When shipping completes, receipt is confirmed or a payment is 48 hours unshipped, the "
        "sandbox pushes to the shop's message URL as WeChat does, until the shop answers success "
        "(three retries at most).",
        "no_pushes": "No pushes yet",
        "remind_due": "Push the shipping reminders due",
        "remind_access_api": "Push the API access reminder",
        "trade_manage_order_settlement": "Order settlement",
        "trade_manage_remind_shipping": "Shipping reminder",
        "trade_manage_remind_access_api": "API access reminder",
        "queued": "Queued",
        "delivered": "The shop answered success",
        "failed": "Failed",
        "attempts": "attempt(s)",
        "settled": "settled",
        "shipped": "shipped",
    },
}


def _time(moment: float) -> str:
    return datetime.datetime.fromtimestamp(moment, CHINA_TIME).strftime("%Y-%m-%d %H:%M:%S")


def _button(action: str, label: str, lang: str) -> str:
    return (
        f'<form method="post" style="display:inline" action="/__sandbox__/page/trade_pushes/{action}">'
        f'<input type="hidden" name="lang" value="{lang}">'
        f'<button type="submit">{escape(label)}</button></form>'
    )


def _item(pushed: dict[str, Any], text: dict[str, str]) -> str:
    fields = pushed["fields"]
    what = text.get(pushed["event"], pushed["event"])
    if pushed["event"] == "trade_manage_order_settlement":
        what += f" ({text['settled'] if 'settlement_time' in fields else text['shipped']})"
    payment = " · ".join(filter(None, (pushed["transaction_id"], pushed["merchant_trade_no"])))
    outcome = text[pushed["state"]]
    if pushed["error"] and not pushed["ok"]:
        outcome += f": {pushed['error']}"
    css = {"delivered": "ok", "failed": "bad"}.get(pushed["state"], "none")
    return (
        f'<li class="{css}"><div class="label">{escape(what)} · {escape(pushed["event"])}</div>'
        f'<p class="msg">{escape(outcome)}</p>'
        f'<div class="time">{escape(_time(pushed["queued_at"]))}'
        f"{' · ' + escape(payment) if payment else ''} · {pushed['attempts']} {escape(text['attempts'])}"
        "</div></li>"
    )


def render_trade_pushes(pushes: list[dict[str, Any]], lang: str) -> str:
    """The card of the index page: the buttons, then the pushes, latest first."""
    lang = lang if lang in TEXT else "zh"
    text = TEXT[lang]
    buttons = (
        f"<p>{_button('remind_shipping', text['remind_due'], lang)} "
        f"{_button('remind_access_api', text['remind_access_api'], lang)}</p>"
    )
    if pushes:
        body = "<ol>" + "".join(_item(p, text) for p in reversed(pushes)) + "</ol>"
    else:
        body = f'<p class="time">{escape(text["no_pushes"])}</p>'
    return (
        f'<div class="card"><h2>{escape(text["title"])}</h2>'
        f'<p class="time">{escape(text["hint"])}</p>{buttons}{body}</div>'
    )

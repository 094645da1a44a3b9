"""The trace page a customer would see on WeChat, in Chinese or English."""

from __future__ import annotations

import datetime
from html import escape
from typing import Any
from urllib.parse import quote

from .labels import action_label

# WeChat shows times in China Standard Time.
CHINA_TIME = datetime.timezone(datetime.timedelta(hours=8))

TEXT = {
    "zh": {
        "title": "物流详情",
        "index_title": "沙箱运单",
        "waybill": "运单号",
        "empty": "暂无物流信息",
        "no_waybills": "还没有运单",
        "not_found": "找不到该运单",
        "events": "条轨迹",
        "back": "全部运单",
        "received": "微信收到的调用",
        "received_here": "该运单的调用",
        "other": "English",
    },
    "en": {
        "title": "Tracking details",
        "index_title": "Sandbox waybills",
        "waybill": "Waybill",
        "empty": "No updates yet",
        "no_waybills": "No waybills yet",
        "not_found": "No such waybill",
        "events": "updates",
        "back": "All waybills",
        "received": "What WeChat received",
        "received_here": "Calls about this waybill",
        "other": "中文",
    },
}

STYLE = """
body{font-family:-apple-system,"PingFang SC","Microsoft YaHei",sans-serif;margin:0;
background:#f5f5f5;color:#111}
header{background:#07c160;color:#fff;padding:14px 16px;display:flex;justify-content:space-between}
header a{color:#fff}
main{max-width:640px;margin:0 auto;padding:12px 16px}
.card{background:#fff;border-radius:8px;padding:12px 16px;margin-bottom:12px}
ol{list-style:none;margin:0;padding:0}
li{position:relative;padding:0 0 16px 20px;border-left:2px solid #e5e5e5;margin-left:6px}
li:before{content:"";position:absolute;left:-7px;top:2px;width:12px;height:12px;border-radius:6px;background:#ccc}
ol.trace li:first-child:before,li.ok:before{background:#07c160}
ol.trace li:first-child .label{color:#07c160}
li.bad:before{background:#fa5151}
.label{font-weight:600}.time{color:#888;font-size:13px}.msg{margin:4px 0}
h2{font-size:16px;margin:4px 0 8px}table{border-collapse:collapse;width:100%;font-size:14px}
th,td{text-align:left;padding:4px;border-bottom:1px solid #eee;vertical-align:top}
label{display:inline-block;margin:0 8px 6px 0}
pre{white-space:pre-wrap;word-break:break-all;margin:4px 0;font-size:13px}
nav{margin:0 0 12px}
"""


def _lang(lang: str) -> str:
    return lang if lang in TEXT else "zh"


def page(title: str, body: str, lang: str, other_href: str) -> str:
    """A whole page of the sandbox: its header, with the link to the other language, and ``body``."""
    text = TEXT[lang]
    return (
        f'<!DOCTYPE html><html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
        f"<header><span>{escape(title)}</span>"
        f'<a href="{escape(other_href)}">{escape(text["other"])}</a></header>'
        f"<main>{body}</main></body></html>"
    )


def _other(lang: str) -> str:
    return "en" if lang == "zh" else "zh"


def format_time(action_time: Any) -> str:
    """The time in China Standard Time; a value no date can show is shown as it was received."""
    try:
        moment = datetime.datetime.fromtimestamp(action_time, CHINA_TIME)
    except (OverflowError, OSError, ValueError, TypeError):
        return str(action_time)
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def render_trace(waybill_id: str, events: list[dict[str, Any]], lang: str, after: str = "") -> str:
    """The trace of one waybill, latest first, as on WeChat's trace page; ``after``: HTML below it."""
    lang = _lang(lang)
    text = TEXT[lang]
    # Latest first by action_time; equal times keep the order WeChat received them in.
    ordered = [
        e for _, e in sorted(enumerate(events), key=lambda p: (p[1]["action_time"], p[0]), reverse=True)
    ]
    if ordered:
        items = "".join(
            f'<li><div class="label">{escape(action_label(e["action_type"], lang))}</div>'
            f'<p class="msg">{escape(e["action_msg"])}</p>'
            f'<div class="time">{escape(format_time(e["action_time"]))}</div></li>'
            for e in ordered
        )
        timeline = f'<ol class="trace">{items}</ol>'
    else:
        timeline = f"<p>{escape(text['empty'])}</p>"
    received = f"/__sandbox__/received?waybill_id={escape(quote(waybill_id, safe=''))}&amp;lang={lang}"
    body = (
        f'<div class="card">{escape(text["waybill"])}: <strong>{escape(waybill_id)}</strong></div>'
        f'<div class="card">{timeline}</div>{after}'
        f'<p><a href="/__sandbox__/?lang={lang}">{escape(text["back"])}</a> · '
        f'<a href="{received}">{escape(text["received_here"])}</a></p>'
    )
    return page(text["title"], body, lang, f"?lang={_other(lang)}")


def render_not_found(waybill_id: str, lang: str) -> str:
    lang = _lang(lang)
    text = TEXT[lang]
    body = (
        f'<div class="card">{escape(text["not_found"])}: <strong>{escape(waybill_id)}</strong></div>'
        f'<p><a href="/__sandbox__/?lang={lang}">{escape(text["back"])}</a></p>'
    )
    return page(text["title"], body, lang, f"?lang={_other(lang)}")


def render_index(waybills: list[dict[str, Any]], lang: str, before: str = "") -> str:
    """Every registered waybill, each linking to its trace page; ``before``: HTML above them."""
    lang = _lang(lang)
    text = TEXT[lang]
    if waybills:
        # Green for a waybill WeChat has a trace of; grey (neutral) for one with none yet.
        rows = "".join(
            f'<li class="{"ok" if w["events"] else "none"}">'
            f'<a href="/__sandbox__/trace/{escape(quote(w["waybill_id"], safe=""))}?lang={lang}">'
            f"{escape(w['waybill_id'])}</a> "
            f'<span class="time">{w["events"]} {escape(text["events"])}</span></li>'
            for w in waybills
        )
        body = f'<div class="card"><ol class="waybills">{rows}</ol></div>'
    else:
        body = f'<div class="card"><p>{escape(text["no_waybills"])}</p></div>'
    nav = f'<nav><a href="/__sandbox__/received?lang={lang}">{escape(text["received"])}</a></nav>'
    return page(text["index_title"], nav + before + body, lang, f"?lang={_other(lang)}")

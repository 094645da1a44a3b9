"""The page of what WeChat received, in Chinese or English: every call to the sandbox's WeChat
API, latest first, with its body and WeChat's answer (the ``/__sandbox__/calls`` log, for people).

Tokens and secrets are shown as ``***``: the access token, the waybill's Token, the AppSecret.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any
from urllib.parse import quote, urlencode

from .labels import action_label
from .trace_page import format_time, page

#: the latest calls the page lists
SHOWN_CALLS = 200
#: keys whose values the page never shows, wherever they sit in a body or an answer
HIDDEN_KEYS = frozenset({"access_token", "token", "waybill_token", "secret", "Token", "BizPwd"})

TEXT = {
    "zh": {
        "title": "微信收到的调用",
        "hint": "沙箱收到的每次调用，最新的在前：请求内容和微信的答复。Token 和密钥显示为 ***。",
        "api": "接口",
        "all": "全部",
        "waybill": "运单号",
        "filter": "筛选",
        "none": "还没有调用",
        "shown": "共 {total} 次调用，显示最新的 {shown} 次",
        "count": "共 {total} 次调用",
        "body": "请求内容",
        "reply": "微信的答复",
        "no_reply": "无答复（连接被重置）",
        "fault": "注入的故障",
        "back": "全部运单",
    },
    "en": {
        "title": "What WeChat received",
        "hint": "Every call the sandbox received, latest first: what was sent and what WeChat answered. "
        "Tokens and secrets are shown as ***.",
        "api": "API",
        "all": "All",
        "waybill": "Waybill",
        "filter": "Filter",
        "none": "No calls yet",
        "shown": "{total} calls; the latest {shown} are shown",
        "count": "{total} calls",
        "body": "Sent",
        "reply": "WeChat's answer",
        "no_reply": "No answer (the connection was reset)",
        "fault": "injected fault",
        "back": "All waybills",
    },
}


def _lang(lang: str) -> str:
    return lang if lang in TEXT else "zh"


def hide_secrets(value: Any) -> Any:
    """``value`` with the values of :data:`HIDDEN_KEYS` replaced by ``***``, at any depth."""
    if isinstance(value, dict):
        return {k: ("***" if k in HIDDEN_KEYS and v else hide_secrets(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [hide_secrets(v) for v in value]
    return value


def _json(value: Any) -> str:
    return json.dumps(hide_secrets(value), ensure_ascii=False, indent=2, sort_keys=False)


def _accepted(call: dict[str, Any]) -> bool:
    """Whether WeChat accepted the call: HTTP 200 and no errcode but 0 (no errcode is a success)."""
    reply = call["reply"]
    if call["status"] != 200 or call["fault"]:
        return False
    return not isinstance(reply, dict) or reply.get("errcode", 0) == 0


def _outcome(call: dict[str, Any]) -> str:
    reply = call["reply"]
    if call["status"] is None:
        return "—"
    if isinstance(reply, dict) and "errcode" in reply:
        return f"HTTP {call['status']} · errcode {reply['errcode']} {reply.get('errmsg', '')}".strip()
    return f"HTTP {call['status']}"


def _summary(call: dict[str, Any], lang: str) -> str:
    """The call in one line: its waybill (linked to its trace page) and, for a trace, its step."""
    body = call["body"] if isinstance(call["body"], dict) else {}
    parts = []
    waybill_id = body.get("waybill_id")
    if isinstance(waybill_id, str) and waybill_id:
        href = f"/__sandbox__/trace/{quote(waybill_id, safe='')}?lang={lang}"
        parts.append(f'<a href="{escape(href)}">{escape(waybill_id)}</a>')
    action_type = body.get("action_type")
    if isinstance(action_type, int):
        parts.append(escape(action_label(action_type, lang)))
    message = body.get("action_msg")
    if isinstance(message, str) and message:
        parts.append(escape(message))
    return f'<p class="msg">{" · ".join(parts)}</p>' if parts else ""


def _call(call: dict[str, Any], text: dict[str, str], lang: str) -> str:
    fault = f" · {escape(text['fault'])}: {escape(call['fault'])}" if call["fault"] else ""
    reply = (
        f"<pre>{escape(_json(call['reply']))}</pre>"
        if call["status"] is not None
        else f'<p class="time">{escape(text["no_reply"])}</p>'
    )
    body = f"<pre>{escape(_json(call['body']))}</pre>" if call["body"] is not None else ""
    return (
        f'<li class="{"ok" if _accepted(call) else "bad"}">'
        f'<div class="label">{escape(call["api"])} · {escape(_outcome(call))}</div>'
        f"{_summary(call, lang)}"
        f'<div class="time">{escape(format_time(call["time"]))} · {escape(call["method"])} '
        f"{escape(call['path'])}{fault}</div>"
        f"<details><summary>{escape(text['body'])}</summary>{body}</details>"
        f"<details><summary>{escape(text['reply'])}</summary>{reply}</details></li>"
    )


def _filters(apis: list[str], api: str, waybill_id: str, text: dict[str, str], lang: str) -> str:
    options = f'<option value="">{escape(text["all"])}</option>' + "".join(
        f'<option value="{escape(name)}"{" selected" if name == api else ""}>{escape(name)}</option>'
        for name in apis
    )
    return (
        '<form method="get" action="/__sandbox__/received">'
        f'<input type="hidden" name="lang" value="{lang}">'
        f'<label>{escape(text["api"])} <select name="api">{options}</select></label> '
        f'<label>{escape(text["waybill"])} <input name="waybill_id" size="18" value="{escape(waybill_id)}">'
        f'</label> <button type="submit">{escape(text["filter"])}</button></form>'
    )


def render_calls(
    calls: list[dict[str, Any]], apis: list[str], lang: str, api: str = "", waybill_id: str = ""
) -> str:
    """The page: the filters, then ``calls`` (oldest first, as the log keeps them) latest first."""
    lang = _lang(lang)
    text = TEXT[lang]
    shown = calls[-SHOWN_CALLS:][::-1]
    if shown:
        count = text["shown" if len(calls) > len(shown) else "count"].format(
            total=len(calls), shown=len(shown)
        )
        listing = (
            f'<p class="time">{escape(count)}</p><ol>{"".join(_call(c, text, lang) for c in shown)}</ol>'
        )
    else:
        listing = f"<p>{escape(text['none'])}</p>"
    filters = [(k, v) for k, v in (("api", api), ("waybill_id", waybill_id)) if v]
    other = "?" + urlencode([*filters, ("lang", "en" if lang == "zh" else "zh")])
    body = (
        f'<div class="card"><p class="time">{escape(text["hint"])}</p>'
        f"{_filters(apis, api, waybill_id, text, lang)}</div>"
        f'<div class="card">{listing}</div>'
        f'<p><a href="/__sandbox__/?lang={lang}">{escape(text["back"])}</a></p>'
    )
    return page(text["title"], body, lang, other)

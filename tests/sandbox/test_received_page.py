"""The page of what WeChat received, and the index's dots: a waybill WeChat has no trace of is
not marked as one that has."""

from __future__ import annotations

import re

import pytest
import requests

from .conftest import WeChatCaller

TOKEN = "waybill-token-never-shown"


@pytest.fixture
def calls(wechat_sandbox, wechat: WeChatCaller):
    wechat_sandbox.register_waybill("SF<1>", TOKEN)
    wechat_sandbox.register_waybill("SF2", TOKEN + "2")
    assert (
        wechat.update_path(waybill_id="SF<1>", token=TOKEN, action_msg="<b>Deng</b> is on the way")["errcode"]
        == 0
    )
    assert wechat.update_path(waybill_id="SF-UNKNOWN", token=TOKEN)["errcode"] == 40199
    wechat.get_contact(waybill_id="SF2", token=TOKEN + "2")
    return wechat_sandbox


def received(sandbox, **query: str) -> str:
    reply = requests.get(f"{sandbox.url}/__sandbox__/received", params=query, timeout=5)
    assert reply.status_code == 200
    assert reply.headers["Content-Type"] == "text/html; charset=utf-8"
    return reply.text


def test_the_page_lists_every_call_latest_first_with_what_wechat_answered(calls):
    page = received(calls, lang="en")
    assert "<title>What WeChat received</title>" in page
    assert page.index("logistics.getContact") < page.index("errcode 40199") < page.index("errcode 0 ok")
    assert "stable_token" in page  # the access token was fetched first
    assert '<a href="/__sandbox__/trace/SF%3C1%3E?lang=en">SF&lt;1&gt;</a>' in page
    assert "Out for delivery · &lt;b&gt;Deng&lt;/b&gt; is on the way" in page
    assert "<b>Deng</b>" not in page
    assert '<li class="bad">' in page and '<li class="ok">' in page
    assert f"{len(calls.calls())} calls" in page


def test_no_token_or_secret_is_shown(calls):
    page = received(calls, lang="en")
    assert TOKEN not in page
    for call in calls.calls():
        if call["access_token"]:
            assert call["access_token"] not in page
        reply = call["reply"] or {}
        if isinstance(reply, dict) and reply.get("access_token"):
            assert reply["access_token"] not in page
    assert "&quot;token&quot;: &quot;***&quot;" in page  # the waybill's Token in updatePath's body
    assert "&quot;access_token&quot;: &quot;***&quot;" in page  # in stable_token's answer


def test_in_chinese_and_filtered(calls):
    page = received(calls)
    assert "<title>微信收到的调用</title>" in page and '<html lang="zh-CN">' in page
    assert "运单号" in page and "派送中" in page
    one = received(calls, lang="en", waybill_id="SF<1>")
    assert "errcode 0 ok" in one and "40199" not in one and "getContact" not in one.split("<ol>", 1)[1]
    assert 'value="SF&lt;1&gt;"' in one
    contacts = received(calls, lang="en", api="logistics.getContact")
    assert "1 calls" in contacts and '<option value="logistics.getContact" selected>' in contacts
    assert (
        'href="?api=logistics.getContact&amp;lang=zh"' in contacts
        or "api=logistics.getContact&lang=zh" in contacts
    )


def test_before_any_call(wechat_sandbox):
    assert "No calls yet" in received(wechat_sandbox, lang="en")
    assert "还没有调用" in received(wechat_sandbox)


def test_the_index_and_the_trace_page_link_to_it(calls):
    index = requests.get(f"{calls.url}/__sandbox__/?lang=en", timeout=5).text
    assert '<a href="/__sandbox__/received?lang=en">What WeChat received</a>' in index
    trace = requests.get(calls.trace_url("SF<1>", lang="en"), timeout=5).text
    assert (
        'href="/__sandbox__/received?waybill_id=SF%3C1%3E&amp;lang=en">Calls about this waybill</a>' in trace
    )


def test_the_index_marks_only_waybills_with_a_trace(calls):
    index = requests.get(f"{calls.url}/__sandbox__/?lang=en", timeout=5).text
    waybills = index.split('<ol class="waybills">', 1)[1].split("</ol>", 1)[0]
    marks = dict(re.findall(r'<li class="(\w+)"><a href="/__sandbox__/trace/([^?"]+)', waybills))
    assert {waybill: mark for mark, waybill in marks.items()} == {"SF%3C1%3E": "ok", "SF2": "none"}
    # Only a trace's latest step is green by position; the lists of waybills and pushes are not.
    assert "ol.trace li:first-child:before" in index and "\nli:first-child:before" not in index

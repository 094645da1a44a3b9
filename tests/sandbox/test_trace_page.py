"""The trace page in Chinese and English, and the index of waybills."""

from __future__ import annotations

import pytest
import requests

from .conftest import WeChatCaller


@pytest.fixture
def shipped(wechat_sandbox, wechat: WeChatCaller):
    wechat_sandbox.register_waybill("SF<1>", "T1")
    for action_time, action_type, msg in [
        (1700000000, 100001, "快递员已揽件"),
        (1700007200, 300002, "Courier <b>Deng</b> [18666666666] is on the way & close"),
        (1700003600, 200001, "到达广州转运中心"),
    ]:
        reply = wechat.update_path(
            waybill_id="SF<1>", token="T1", action_time=action_time, action_type=action_type, action_msg=msg
        )
        assert reply["errcode"] == 0
    return wechat_sandbox


def test_trace_page_in_chinese_latest_first(shipped):
    response = requests.get(shipped.trace_url("SF<1>", lang="zh"), timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    page = response.text
    assert "物流详情" in page
    assert page.index("派送中") < page.index("运输中") < page.index("揽件成功")
    assert "2023-11-15 06:13:20" in page  # 1700000000 in China Standard Time
    assert '<html lang="zh-CN">' in page


def test_trace_page_in_english(shipped):
    page = requests.get(shipped.trace_url("SF<1>", lang="en"), timeout=5).text
    assert "Tracking details" in page
    assert page.index("Out for delivery") < page.index("In transit") < page.index("Picked up")


def test_trace_page_escapes_html(shipped):
    page = requests.get(shipped.trace_url("SF<1>", lang="en"), timeout=5).text
    assert "<b>Deng</b>" not in page
    assert "&lt;b&gt;Deng&lt;/b&gt;" in page
    assert "&amp; close" in page
    assert "SF&lt;1&gt;" in page and "SF<1>" not in page


def test_unknown_waybill_page_is_404(wechat_sandbox):
    response = requests.get(wechat_sandbox.trace_url("<script>", lang="en"), timeout=5)
    assert response.status_code == 404
    assert "No such waybill" in response.text
    assert "<script>" not in response.text


def test_empty_trace(wechat_sandbox):
    wechat_sandbox.register_waybill("SF2", "T")
    assert "暂无物流信息" in requests.get(wechat_sandbox.trace_url("SF2"), timeout=5).text


def test_index_links_each_waybill(shipped):
    page = requests.get(f"{shipped.url}/__sandbox__/?lang=en", timeout=5).text
    assert "Sandbox waybills" in page
    assert 'href="/__sandbox__/trace/SF%3C1%3E?lang=en"' in page
    assert "SF&lt;1&gt;</a>" in page
    assert "3 updates" in page
    chinese = requests.get(f"{shipped.url}/__sandbox__/", timeout=5).text
    assert "沙箱运单" in chinese and "3 条轨迹" in chinese
    assert "还没有运单" not in chinese


def test_index_without_waybills(wechat_sandbox):
    assert "还没有运单" in requests.get(f"{wechat_sandbox.url}/__sandbox__/", timeout=5).text
    assert "No waybills yet" in requests.get(f"{wechat_sandbox.url}/__sandbox__/?lang=en", timeout=5).text


def test_the_latest_action_time_renders(wechat_sandbox, wechat: WeChatCaller):
    wechat_sandbox.register_waybill("SF3", "T3")
    assert wechat.update_path(waybill_id="SF3", token="T3", action_time=2**32 - 1)["errcode"] == 0
    response = requests.get(wechat_sandbox.trace_url("SF3"), timeout=5)
    assert response.status_code == 200
    assert "2106-02-07 14:28:15" in response.text  # 2**32 - 1 in China Standard Time


@pytest.mark.parametrize("action_time", [10**20, -(10**20), 2**63])
def test_a_time_no_date_can_show_does_not_break_the_page(wechat_sandbox, action_time):
    # updatePath refuses such a time (47001); an event stored another way still renders.
    server = wechat_sandbox.server
    waybill = server.state.register_waybill("SF4", "T4")
    server.state.add_event(waybill, {"action_time": action_time, "action_type": 100001, "action_msg": "揽件"})
    response = requests.get(wechat_sandbox.trace_url("SF4"), timeout=5)
    assert response.status_code == 200
    assert f'<div class="time">{action_time}</div>' in response.text
    assert "揽件" in response.text

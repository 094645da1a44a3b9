"""Token endpoints, updatePath, getContact and the control API, over real HTTP."""

from __future__ import annotations

import pytest
import requests

from django_wxlogistics.sandbox import SandboxControl, SandboxServer

from .conftest import GET_CONTACT, UPDATE_PATH, WeChatCaller


def test_update_path_is_accepted_and_recorded_in_the_trace(wechat_sandbox, wechat: WeChatCaller):
    wechat_sandbox.register_waybill("SF1", "T1")
    assert wechat.update_path(action_time=1700000000, action_type=100001, action_msg="揽件") == {
        "errcode": 0,
        "errmsg": "ok",
    }
    assert wechat.update_path(action_time=1700000100, action_type=200001, action_msg="运输中") == {
        "errcode": 0,
        "errmsg": "ok",
    }
    trace = wechat_sandbox.trace("SF1")
    assert [(e["action_time"], e["action_type"], e["action_msg"]) for e in trace] == [
        (1700000000, 100001, "揽件"),
        (1700000100, 200001, "运输中"),
    ]


def test_get_contact_replies_like_the_documented_example(wechat_sandbox, wechat: WeChatCaller):
    wechat_sandbox.register_waybill("12345678901234567890", "TOKEN")
    reply = wechat.get_contact("12345678901234567890", "TOKEN")
    assert "errcode" not in reply
    assert reply["waybill_id"] == "12345678901234567890"
    assert reply["sender"] == {
        "address": (
            "xx on Block XX, XX Building, No. XX, XX Road, Haizhu District, Guangzhou, Guangdong Province"
        ),
        "name": "Jim",
        "tel": "020-88888888",
        "mobile": "18666666666",
    }
    assert reply["receiver"]["name"] == "Wang Xiaomeng"
    assert reply["receiver"]["mobile"] == "18610000000"


def test_get_contact_with_registered_contacts_and_list_shape(wechat_sandbox, wechat: WeChatCaller):
    sender = {"name": "张三", "tel": "", "mobile": "13800000000", "address": "广东省广州市海珠区"}
    wechat_sandbox.register_waybill("SF2", "T2", sender=sender, list_shape=True)
    reply = wechat.get_contact("SF2", "T2")
    assert reply["sender"] == [sender]
    assert isinstance(reply["receiver"], list) and reply["receiver"][0]["name"] == "Wang Xiaomeng"


def test_calls_are_recorded_with_api_body_status_and_reply(wechat_sandbox, wechat: WeChatCaller):
    wechat_sandbox.register_waybill("SF1", "T1")
    token = wechat.access_token()
    wechat.post(
        UPDATE_PATH,
        {"token": "T1", "waybill_id": "SF1", "action_time": 1, "action_type": 100001, "action_msg": "m"},
        access_token=token,
    )
    wechat.post(GET_CONTACT, {"token": "T1", "waybill_id": "SF1"}, access_token=token)
    calls = wechat_sandbox.calls()
    assert [c["api"] for c in calls] == ["stable_token", "logistics.updatePath", "logistics.getContact"]
    update = wechat_sandbox.calls(api="logistics.updatePath")[0]
    assert update["method"] == "POST"
    assert update["path"] == UPDATE_PATH
    assert update["body"]["action_msg"] == "m"
    assert update["status"] == 200
    assert update["reply"] == {"errcode": 0, "errmsg": "ok"}
    assert update["access_token"] == token
    assert update["fault"] is None
    assert isinstance(update["time"], float)
    assert [c["api"] for c in wechat_sandbox.calls(waybill_id="SF1")] == [
        "logistics.updatePath",
        "logistics.getContact",
    ]
    assert wechat_sandbox.calls(waybill_id="other") == []


def test_stats_count_calls_and_token_fetches(wechat_sandbox, wechat: WeChatCaller):
    wechat_sandbox.register_waybill("SF1", "T1")
    wechat.update_path()
    wechat.get_token()
    stats = wechat_sandbox.stats()
    assert stats["token_fetches"] == 2
    assert stats["calls"] == 3
    assert stats["calls_by_api"] == {"stable_token": 1, "logistics.updatePath": 1, "token": 1}
    assert stats["events_accepted"] == 1
    assert stats["waybills"] == 1


def test_reset_forgets_everything(wechat_sandbox, wechat: WeChatCaller):
    wechat_sandbox.register_waybill("SF1", "T1")
    token = wechat.access_token()
    wechat_sandbox.set_faults(latency_ms=5)
    wechat_sandbox.reset()
    assert wechat_sandbox.waybills() == []
    assert wechat_sandbox.calls() == []
    assert wechat_sandbox.stats()["calls"] == 0
    assert wechat_sandbox.faults()["latency_ms"] == 0
    reply = wechat.post(GET_CONTACT, {"token": "T1", "waybill_id": "SF1"}, access_token=token).json()
    assert reply["errcode"] == 40001


def test_control_client_drives_a_server_by_url_only():
    with SandboxServer(port=0) as server:
        ctl = SandboxControl(server.url)
        ctl.register_waybill("W", "T")
        assert [w["waybill_id"] for w in ctl.waybills()] == ["W"]
        assert server.url.startswith("http://127.0.0.1:")
    try:
        requests.get(f"{server.url}/__sandbox__/stats", timeout=2)
    except requests.ConnectionError:
        pass
    else:
        raise AssertionError("the server still answers after stop()")


def test_fixture_points_api_base_url_at_the_sandbox_and_keeps_other_settings(wechat_sandbox):
    from django.conf import settings

    from django_wxlogistics.conf import wx_settings

    assert settings.WXLOGISTICS["API_BASE_URL"] == wechat_sandbox.url
    assert wx_settings.API_BASE_URL == wechat_sandbox.url
    assert wx_settings.APPID == "wxdemo0000000001"  # the project's own value survives the merge
    assert wechat_sandbox.server is not None and wechat_sandbox.server.url == wechat_sandbox.url


def test_chunked_and_oversized_bodies_are_refused(wechat_sandbox):
    import socket
    from urllib.parse import urlsplit

    url = urlsplit(wechat_sandbox.url)
    path = "/cgi-bin/express/delivery/path/update"
    for headers, status in [
        ("Transfer-Encoding: chunked\r\n", b"411"),
        (f"Content-Length: {2 * 1024 * 1024}\r\n", b"413"),
    ]:
        with socket.create_connection((url.hostname, url.port), timeout=5) as sock:
            sock.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\n{headers}\r\n".encode())
            assert sock.recv(4096).split(b" ")[1] == status


def test_the_call_log_keeps_the_latest_calls_only():
    with SandboxServer(port=0, max_calls=3) as server:
        ctl = SandboxControl(server.url)
        session = requests.Session()
        for _ in range(5):
            session.get(f"{server.url}/cgi-bin/token", params={"grant_type": "x"}, timeout=5)
        assert len(ctl.calls()) == 3
        assert ctl.stats()["calls"] == 5


@pytest.mark.wechat_sandbox(auto_register=True, token_grace=1, faults={"latency_ms": 1, "seed": 5})
def test_a_marker_sets_options_for_one_test(wechat_sandbox):
    assert wechat_sandbox.stats()["calls"] == 0
    config = requests.get(f"{wechat_sandbox.url}/__sandbox__/config", timeout=5).json()
    assert config == {"auto_register": True, "token_ttl": 7200, "token_grace": 1.0}
    assert wechat_sandbox.faults()["latency_ms"] == 1
    assert wechat_sandbox.faults()["seed"] == 5


def test_options_of_a_marker_do_not_leak_into_the_next_test(wechat_sandbox):
    assert wechat_sandbox.faults()["latency_ms"] == 0
    assert (
        requests.get(f"{wechat_sandbox.url}/__sandbox__/config", timeout=5).json()["auto_register"] is False
    )

"""updatePath, getContact and the delivery provider's APIs: every field check and error path."""

from __future__ import annotations

import logging

import pytest
import requests

from .conftest import GET_CONTACT, PREVIEW_TEMPLATE, UPDATE_BUSINESS, UPDATE_PATH, WeChatCaller

GOOD = {
    "token": "T1",
    "waybill_id": "SF1",
    "action_time": 1533052800,
    "action_type": 300002,
    "action_msg": "Denglijun [18666666666] is delivering your package",
}


@pytest.fixture(autouse=True)
def waybill(wechat_sandbox):
    wechat_sandbox.register_waybill("SF1", "T1")


def without(key: str) -> dict:
    return {k: v for k, v in GOOD.items() if k != key}


@pytest.mark.parametrize(
    "body",
    [
        without("token"),
        without("waybill_id"),
        without("action_time"),
        without("action_type"),
        without("action_msg"),
        {**GOOD, "token": 123},
        {**GOOD, "token": ""},
        {**GOOD, "waybill_id": 12345678901234567890},
        {**GOOD, "action_time": "1533052800"},
        {**GOOD, "action_time": 1533052800.5},
        {**GOOD, "action_time": True},
        {**GOOD, "action_time": -1},
        {**GOOD, "action_time": 2**32},
        {**GOOD, "action_time": 10**20},
        {**GOOD, "action_type": "300002"},
        {**GOOD, "action_type": 300001},
        {**GOOD, "action_type": False},
        {**GOOD, "action_msg": ""},
        {**GOOD, "action_msg": "   "},
        {**GOOD, "action_msg": 42},
        {**GOOD, "action_msg": None},
        [GOOD],
        None,
    ],
)
def test_update_path_rejects_missing_or_mistyped_fields(wechat_sandbox, wechat: WeChatCaller, body):
    reply = wechat.post(UPDATE_PATH, body).json()
    assert reply["errcode"] == 47001
    assert reply["errmsg"].startswith("data format error")
    assert wechat_sandbox.trace("SF1") == []


@pytest.mark.parametrize("action_time", [0, 2**32 - 1])
def test_update_path_accepts_action_times_from_0_to_2_pow_32_minus_1(
    wechat_sandbox, wechat: WeChatCaller, action_time
):
    assert wechat.update_path(action_time=action_time)["errcode"] == 0
    assert [e["action_time"] for e in wechat_sandbox.trace("SF1")] == [action_time]


def test_an_action_time_out_of_range_is_named_in_the_error(wechat: WeChatCaller):
    reply = wechat.update_path(action_time=10**20)
    assert reply["errcode"] == 47001
    assert "action_time" in reply["errmsg"] and "4294967295" in reply["errmsg"]


@pytest.mark.parametrize(
    "body",
    [
        {"token": "T1", "waybill_id": 12345678901},
        {"token": "T1", "waybill_id": ["SF1"]},
        {"token": "T1", "waybill_id": None},
        {"token": "T1", "waybill_id": ""},
        {"token": "T1"},
        {"token": 1, "waybill_id": "SF1"},
        {"token": "", "waybill_id": "SF1"},
        {"waybill_id": "SF1"},
    ],
)
def test_get_contact_rejects_missing_empty_or_mistyped_fields(wechat: WeChatCaller, body):
    reply = wechat.post(GET_CONTACT, body).json()
    assert reply["errcode"] == 47001
    assert reply["errmsg"].startswith("data format error")
    assert "sender" not in reply and "receiver" not in reply


def test_update_path_with_an_expired_access_token_is_42001(wechat_sandbox, wechat: WeChatCaller):
    access_token = wechat.access_token()
    assert wechat_sandbox.expire_tokens() == 1
    assert wechat.post(UPDATE_PATH, GOOD, access_token=access_token).json()["errcode"] == 42001
    assert wechat_sandbox.trace("SF1") == []


def test_update_path_without_an_access_token_is_41001(wechat_sandbox, wechat: WeChatCaller):
    assert wechat.post(UPDATE_PATH, GOOD, access_token="").json()["errcode"] == 41001
    reply = wechat.session.post(f"{wechat.url}{UPDATE_PATH}", json=GOOD, timeout=5).json()
    assert reply["errcode"] == 41001
    assert wechat_sandbox.trace("SF1") == []


def test_data_format_is_checked_before_the_waybill(wechat: WeChatCaller):
    body = {**GOOD, "waybill_id": "UNKNOWN", "token": "WRONG", "action_time": "soon"}
    assert wechat.post(UPDATE_PATH, body).json()["errcode"] == 47001
    assert wechat.post(GET_CONTACT, {"waybill_id": "UNKNOWN"}).json()["errcode"] == 47001


def test_the_error_message_names_the_field(wechat: WeChatCaller):
    reply = wechat.post(UPDATE_PATH, {**GOOD, "action_time": 1.5}).json()
    assert "action_time" in reply["errmsg"] and "integer" in reply["errmsg"]


@pytest.mark.parametrize("raw", [b"{not json", b"\xff\xfe", b'{"token": "T1",}'])
def test_invalid_json_is_a_data_format_error(wechat: WeChatCaller, raw):
    for path in (UPDATE_PATH, GET_CONTACT):
        reply = wechat.post(path, raw, headers={"Content-Type": "application/json"}).json()
        assert reply["errcode"] == 47001


@pytest.mark.parametrize("depth", [5_000, 100_000])
def test_a_body_nested_thousands_deep_is_a_data_format_error_not_a_dropped_connection(
    wechat_sandbox, wechat: WeChatCaller, depth
):
    raw = b'{"token": ' + b"[" * depth + b"]" * depth + b"}"
    for path in (UPDATE_PATH, GET_CONTACT):
        reply = wechat.post(path, raw, headers={"Content-Type": "application/json"}).json()
        assert reply["errcode"] == 47001
    control = requests.post(f"{wechat_sandbox.url}/__sandbox__/waybills", data=raw, timeout=5)
    assert control.status_code == 400 and "JSON object" in control.json()["error"]


def test_unknown_waybill_is_40199(wechat: WeChatCaller):
    assert wechat.update_path(waybill_id="NOPE")["errcode"] == 40199
    assert wechat.get_contact(waybill_id="NOPE")["errcode"] == 40199


def test_wrong_waybill_token_is_9300507(wechat_sandbox, wechat: WeChatCaller):
    assert wechat.update_path(token="WRONG")["errcode"] == 9300507
    assert wechat.get_contact(token="WRONG")["errcode"] == 9300507
    assert wechat_sandbox.trace("SF1") == []


def test_the_access_token_is_checked_before_the_body(wechat: WeChatCaller):
    reply = wechat.post(UPDATE_PATH, b"{not json", access_token="stale").json()
    assert reply["errcode"] == 40001


def test_business_apis_need_post(wechat: WeChatCaller):
    token = wechat.access_token()
    for path in (UPDATE_PATH, GET_CONTACT, PREVIEW_TEMPLATE, UPDATE_BUSINESS):
        reply = wechat.session.get(f"{wechat.url}{path}", params={"access_token": token}, timeout=5).json()
        assert reply["errcode"] == 43002


def test_unknown_paths_are_404(wechat: WeChatCaller):
    response = wechat.session.post(f"{wechat.url}/cgi-bin/express/business/order/add", json={}, timeout=5)
    assert response.status_code == 404
    assert response.json()["errcode"] == 40066


def test_auto_register_accepts_any_waybill_with_a_token(wechat_sandbox, wechat: WeChatCaller):
    assert wechat.update_path(waybill_id="NEW1", token="NT")["errcode"] == 40199
    wechat_sandbox.configure(auto_register=True)
    assert wechat.update_path(waybill_id="NEW1", token="NT")["errcode"] == 0
    assert wechat.get_contact(waybill_id="NEW1", token="NT")["sender"]["name"] == "Jim"
    assert wechat.update_path(waybill_id="NEW1", token="OTHER")["errcode"] == 9300507
    assert wechat.update_path(waybill_id="NEW2", token="")["errcode"] == 47001
    waybills = {w["waybill_id"]: w for w in wechat_sandbox.waybills()}
    assert waybills["NEW1"]["auto_registered"] is True
    assert len(wechat_sandbox.trace("NEW1")) == 1


def test_reregistering_a_waybill_keeps_its_trace(wechat_sandbox, wechat: WeChatCaller):
    assert wechat.update_path()["errcode"] == 0
    wechat_sandbox.register_waybill("SF1", "T1", receiver={"name": "李四", "mobile": "13900000000"})
    assert len(wechat_sandbox.trace("SF1")) == 1
    assert wechat.get_contact()["receiver"] == {
        "name": "李四",
        "mobile": "13900000000",
        "tel": "",
        "address": "",
    }


def test_preview_template(wechat: WeChatCaller):
    body = {
        "waybill_template": "<html>{{name}}</html>",
        "waybill_data": '{"name": "x"}',
        "custom": {"order_id": "O1"},
    }
    reply = wechat.post(PREVIEW_TEMPLATE, body).json()
    assert reply["errcode"] == 0
    assert reply["waybill_id"] == "O1"
    assert reply["rendered_waybill_template"]
    assert wechat.post(PREVIEW_TEMPLATE, {**body, "custom": "O1"}).json()["errcode"] == 47001
    assert wechat.post(PREVIEW_TEMPLATE, {"waybill_data": "{}", "custom": {}}).json()["errcode"] == 47001


def test_update_business(wechat: WeChatCaller):
    body = {"shop_app_id": "wxshop", "biz_id": "SF_CASH", "result_code": 0, "result_msg": "审核通过"}
    assert wechat.post(UPDATE_BUSINESS, body).json() == {"errcode": 0, "errmsg": "ok"}
    assert wechat.post(UPDATE_BUSINESS, {**body, "result_code": "0"}).json()["errcode"] == 47001
    assert wechat.post(UPDATE_BUSINESS, {"biz_id": "SF_CASH", "result_code": 0}).json()["errcode"] == 47001


def test_log_lines_never_show_tokens_or_secrets(wechat_sandbox, wechat: WeChatCaller, caplog):
    caplog.set_level(logging.INFO, logger="django_wxlogistics.sandbox")
    wechat_sandbox.register_waybill("SF9", "waybill-token-secret")
    access_token = wechat.access_token()
    wechat.get_token(secret="the-app-secret")
    assert wechat.update_path(waybill_id="SF9", token="waybill-token-secret")["errcode"] == 0
    wechat.post(UPDATE_PATH, b"{bad", access_token=access_token)
    # A malformed request line makes the stdlib log an error with the raw request line.
    import socket
    from urllib.parse import urlsplit

    url = urlsplit(wechat.url)
    with socket.create_connection((url.hostname, url.port), timeout=5) as sock:
        sock.sendall(f"BROKEN /x?access_token={access_token} HTTP/1.1 extra\r\n\r\n".encode())
        sock.recv(4096)
    assert "logistics.updatePath POST" in caplog.text
    assert "access_token=***" in caplog.text
    assert access_token not in caplog.text
    assert "the-app-secret" not in caplog.text
    assert "waybill-token-secret" not in caplog.text

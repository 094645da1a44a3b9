"""The JSON control API as documented, spoken directly over HTTP (as ``make demo`` does)."""

from __future__ import annotations

import threading
import time

import pytest
import requests

from .conftest import WeChatCaller


@pytest.fixture
def control(wechat_sandbox):
    session = requests.Session()

    def call(method: str, endpoint: str, **kwargs) -> requests.Response:
        return session.request(method, f"{wechat_sandbox.url}/__sandbox__/{endpoint}", timeout=5, **kwargs)

    yield call
    session.close()


def test_register_and_list_waybills(control):
    response = control(
        "POST",
        "waybills",
        json={
            "waybill_id": "SF100",
            "token": "T",
            "sender": {"name": "张三", "mobile": "13800000000"},
            "list_shape": True,
        },
    )
    assert response.status_code == 201
    waybill = response.json()["waybill"]
    assert waybill["sender"] == {"name": "张三", "mobile": "13800000000", "tel": "", "address": ""}
    assert waybill["receiver"]["name"] == "Wang Xiaomeng"
    assert waybill["list_shape"] is True
    assert [w["waybill_id"] for w in control("GET", "waybills").json()["waybills"]] == ["SF100"]
    assert control("GET", "waybills/SF100/trace").json() == {"waybill_id": "SF100", "trace": []}
    assert control("GET", "waybills/SF100").json()["trace"] == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"token": "T"}, "waybill_id must be a non-empty string"),
        ({"waybill_id": "W"}, "token must be a non-empty string"),
        ({"waybill_id": "W", "token": "T", "sender": "Jim"}, "sender must be an object"),
        ({"waybill_id": "W", "token": "T", "receiver": {"phone": "1"}}, "unknown field(s) phone"),
        ({"waybill_id": "W", "token": "T", "receiver": {"mobile": 138}}, "receiver.mobile must be a string"),
        ({"waybill_id": "W", "token": "T", "list_shape": "yes"}, "list_shape must be true or false"),
        ({"waybill_id": "W", "token": "T", "tokn": "T"}, "unknown field(s) tokn"),
    ],
)
def test_register_refuses_bad_input_with_a_reason(control, body, message):
    response = control("POST", "waybills", json=body)
    assert response.status_code == 400
    assert message in response.json()["error"]


def test_a_body_that_is_not_json_is_refused(control):
    response = control("POST", "waybills", data=b"{nope")
    assert response.status_code == 400
    assert "JSON object" in response.json()["error"]


def test_unknown_waybill_and_unknown_endpoint_are_404(control):
    assert control("GET", "waybills/NOPE/trace").status_code == 404
    response = control("POST", "teleport")
    assert response.status_code == 404
    assert "no control endpoint" in response.json()["error"]


def test_calls_faults_expire_reset_stats_and_config(control, wechat_sandbox):
    assert control("GET", "calls").json() == {"calls": []}
    faults = control("POST", "faults", json={"error_rate": 0.1, "kinds": "errcode,http502"}).json()["faults"]
    assert faults["kinds"] == ["errcode", "http502"]
    assert control("GET", "faults").json()["faults"] == faults
    assert control("DELETE", "faults").json()["faults"]["error_rate"] == 0.0
    assert control("POST", "expire_tokens").json() == {"expired": 0}
    assert control("GET", "stats").json()["calls"] == 0
    assert control("POST", "config", json={"auto_register": True}).json()["auto_register"] is True
    assert control("GET", "config").json() == {"auto_register": True, "token_ttl": 7200, "token_grace": 300.0}
    assert control("POST", "config", json={"token_ttl": 0}).status_code == 400
    assert control("POST", "reset").json() == {"reset": True}
    assert control("GET", "config").json()["auto_register"] is False  # back to the start value


def test_the_clock_moves_forward_stops_and_is_reset(control):
    assert control("GET", "clock").json() == {"clock": {"advanced": 0.0, "stopped": False}}
    assert control("POST", "clock", json={"advance": 90}).json() == {
        "clock": {"advanced": 90.0, "stopped": False}
    }
    both = control("POST", "clock", json={"advance": 0.5, "stopped": True}).json()
    assert both == {"clock": {"advanced": 90.5, "stopped": True}}
    assert control("POST", "reset").json() == {"reset": True}
    assert control("GET", "clock").json() == {"clock": {"advanced": 0.0, "stopped": False}}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"advance": -1}, "the clock never goes back"),
        ({"advance": "5"}, "advance must be a number of seconds"),
        ({"advance": True}, "advance must be a number of seconds"),
        ({"stopped": "yes"}, "stopped must be true or false"),
        ({"stopped": True, "advance": -1}, "the clock never goes back"),
        ({"advanse": 5}, "unknown field(s) advanse"),
        ({}, 'give "advance"'),
    ],
)
def test_moving_the_clock_refuses_bad_input_with_a_reason(control, body, message):
    response = control("POST", "clock", json=body)
    assert response.status_code == 400
    assert message in response.json()["error"]
    assert control("GET", "clock").json() == {"clock": {"advanced": 0.0, "stopped": False}}  # unchanged


def test_release_answers_the_calls_held_back_at_once(control, wechat_sandbox):
    wechat_sandbox.register_waybill("SF1", "T1")
    control("POST", "faults", json={"latency_ms": 600_000})
    replies: list = []

    def call() -> None:
        caller = WeChatCaller(wechat_sandbox.url)
        try:
            replies.append(caller.update_path(token="T1"))
        finally:
            caller.session.close()

    threads = [threading.Thread(target=call) for _ in range(3)]
    for thread in threads:
        thread.start()
    stats = wait_for(lambda: control("GET", "stats").json(), lambda s: s["held"] == 3)
    assert (stats["held"], stats["most_held"], stats["events_accepted"]) == (3, 3, 0)
    assert control("POST", "release").json() == {"released": 3}
    for thread in threads:
        thread.join(timeout=30)
    assert [r["errcode"] for r in replies] == [0, 0, 0]
    stats = control("GET", "stats").json()
    assert (stats["held"], stats["most_held"], stats["events_accepted"]) == (0, 3, 3)
    control("POST", "reset")
    assert control("GET", "stats").json()["most_held"] == 0


def wait_for(read, done, timeout: float = 30.0):
    """Read until ``done`` holds: a ceiling for a condition, never a deadline to race."""
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if done(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.02)

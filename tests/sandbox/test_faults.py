"""Fault injection over real HTTP: every kind, rate limit, latency, seeds and API filters."""

from __future__ import annotations

import threading
import time

import pytest
import requests

from django_wxlogistics.sandbox import SandboxControlError

from .conftest import GET_CONTACT, WeChatCaller


@pytest.fixture(autouse=True)
def waybill(wechat_sandbox):
    wechat_sandbox.register_waybill("SF1", "T1")


def test_errcode_fault_answers_minus_one_and_drops_the_event(wechat_sandbox, wechat: WeChatCaller):
    token = wechat.access_token()  # token APIs are not faulted by default
    wechat_sandbox.set_faults(error_rate=1.0, kinds=["errcode"])
    reply = wechat.post(
        "/cgi-bin/express/delivery/path/update",
        {"token": "T1", "waybill_id": "SF1", "action_time": 1, "action_type": 100001, "action_msg": "m"},
        access_token=token,
    ).json()
    assert reply["errcode"] == -1
    assert wechat_sandbox.trace("SF1") == []
    call = wechat_sandbox.calls(api="logistics.updatePath")[0]
    assert call["fault"] == "errcode"
    assert call["reply"]["errcode"] == -1
    assert wechat_sandbox.stats()["faults_by_kind"] == {"errcode": 1}


def test_the_errcode_fault_can_answer_any_errcode(wechat_sandbox, wechat: WeChatCaller):
    token = wechat.access_token()
    wechat_sandbox.set_faults(error_rate=1.0, kinds=["errcode"], errcode=61010, errmsg="some new error")
    assert wechat_sandbox.faults()["errcode"] == 61010
    reply = wechat.post(
        "/cgi-bin/express/delivery/path/update",
        {"token": "T1", "waybill_id": "SF1", "action_time": 1, "action_type": 100001, "action_msg": "m"},
        access_token=token,
    ).json()
    assert reply["errcode"] == 61010 and reply["errmsg"].startswith("some new error rid: ")
    assert wechat_sandbox.trace("SF1") == []
    wechat_sandbox.clear_faults()
    assert wechat_sandbox.faults()["errcode"] == -1


@pytest.mark.parametrize(("kind", "status"), [("http500", 500), ("http502", 502)])
def test_http_error_faults(wechat_sandbox, wechat: WeChatCaller, kind, status):
    token = wechat.access_token()
    wechat_sandbox.set_faults(error_rate=1.0, kinds=[kind])
    response = wechat.post(GET_CONTACT, {"token": "T1", "waybill_id": "SF1"}, access_token=token)
    assert response.status_code == status
    assert response.headers["Content-Type"].startswith("text/html")
    call = wechat_sandbox.calls(api="logistics.getContact")[0]
    assert (call["fault"], call["status"]) == (kind, status)


def test_reset_fault_closes_the_connection_without_a_reply(wechat_sandbox, wechat: WeChatCaller):
    token = wechat.access_token()
    wechat_sandbox.set_faults(error_rate=1.0, kinds=["reset"])
    with pytest.raises(requests.ConnectionError) as excinfo:
        wechat.post(GET_CONTACT, {"token": "T1", "waybill_id": "SF1"}, access_token=token)
    assert "reset" in str(excinfo.value).lower() or "aborted" in str(excinfo.value).lower()
    call = wechat_sandbox.calls(api="logistics.getContact")[0]
    assert call["fault"] == "reset"
    assert call["status"] is None
    wechat_sandbox.clear_faults()
    assert wechat.get_contact()["waybill_id"] == "SF1"  # the server carries on


def test_hang_holds_the_reply_past_the_client_timeout(wechat_sandbox, wechat: WeChatCaller):
    token = wechat.access_token()
    wechat_sandbox.set_faults(error_rate=1.0, kinds=["hang"], hang_seconds=5)
    body = {"token": "T1", "waybill_id": "SF1", "action_time": 1, "action_type": 100001, "action_msg": "m"}
    started = time.monotonic()
    with pytest.raises(requests.ReadTimeout):
        wechat.session.post(
            f"{wechat.url}/cgi-bin/express/delivery/path/update",
            params={"access_token": token},
            json=body,
            timeout=(2, 0.3),
        )
    assert time.monotonic() - started >= 0.3
    call = wechat_sandbox.calls(api="logistics.updatePath")[0]
    assert call["fault"] == "hang"
    # WeChat handled the call; only its answer was lost, as happens for real.
    assert [e["action_msg"] for e in wechat_sandbox.trace("SF1")] == ["m"]


def test_a_short_hang_replies_normally_afterwards(wechat_sandbox, wechat: WeChatCaller):
    token = wechat.access_token()
    wechat_sandbox.set_faults(error_rate=1.0, kinds=["hang"], hang_seconds=0.3)
    started = time.monotonic()
    reply = wechat.post(GET_CONTACT, {"token": "T1", "waybill_id": "SF1"}, access_token=token).json()
    assert time.monotonic() - started >= 0.3
    assert reply["waybill_id"] == "SF1"


def test_latency_delays_each_call(wechat_sandbox, wechat: WeChatCaller):
    token = wechat.access_token()
    wechat_sandbox.set_faults(latency_ms=250)
    started = time.monotonic()
    reply = wechat.post(GET_CONTACT, {"token": "T1", "waybill_id": "SF1"}, access_token=token).json()
    assert time.monotonic() - started >= 0.25
    assert reply["waybill_id"] == "SF1"


def test_rate_limit_answers_45009_beyond_n_calls_per_second(wechat_sandbox, wechat: WeChatCaller):
    token = wechat.access_token()
    wechat_sandbox.set_faults(rate_limit=3)
    wechat_sandbox.stop_clock()  # all six calls fall in one second of the sandbox's, however slow
    body = {"token": "T1", "waybill_id": "SF1"}
    codes = [wechat.post(GET_CONTACT, body, access_token=token).json().get("errcode") for _ in range(6)]
    assert codes == [None, None, None, 45009, 45009, 45009]
    wechat_sandbox.advance_clock(0.5)
    assert wechat.post(GET_CONTACT, body, access_token=token).json().get("errcode") == 45009
    wechat_sandbox.advance_clock(1)  # the window has moved past the first three
    assert wechat.post(GET_CONTACT, body, access_token=token).json().get("errcode") is None
    assert wechat_sandbox.stats()["faults_by_kind"]["rate_limit"] == 4


def outcomes(wechat_sandbox, wechat: WeChatCaller, token: str, **faults) -> list:
    wechat_sandbox.set_faults(**faults)
    body = {"token": "T1", "waybill_id": "SF1"}
    return [wechat.post(GET_CONTACT, body, access_token=token).status_code for _ in range(30)]


def test_faults_are_deterministic_for_a_seed(wechat_sandbox, wechat: WeChatCaller):
    token = wechat.access_token()
    options = {"error_rate": 0.5, "kinds": ["http500", "http502"], "seed": 7}
    first = outcomes(wechat_sandbox, wechat, token, **options)
    second = outcomes(wechat_sandbox, wechat, token, **options)
    other = outcomes(wechat_sandbox, wechat, token, **{**options, "seed": 8})
    assert first == second
    assert first != other
    assert {200, 500, 502} <= set(first)


def test_faults_apply_to_business_apis_unless_told_otherwise(wechat_sandbox, wechat: WeChatCaller):
    wechat_sandbox.set_faults(error_rate=1.0)
    assert "access_token" in wechat.stable_token()
    wechat_sandbox.set_faults(error_rate=1.0, apis=["stable_token"])
    assert wechat.stable_token()["errcode"] == -1
    assert "access_token" in wechat.get_token()
    wechat_sandbox.set_faults(error_rate=1.0, apis=["logistics.updatePath"])
    token = wechat.get_token()["access_token"]
    assert wechat.post(GET_CONTACT, {"token": "T1", "waybill_id": "SF1"}, access_token=token).json()["sender"]


def test_faults_can_be_read_and_cleared(wechat_sandbox):
    plan = wechat_sandbox.set_faults(
        error_rate=0.25, kinds=["errcode", "reset"], latency_ms=10, rate_limit=50
    )
    assert plan["kinds"] == ["errcode", "reset"]
    assert wechat_sandbox.faults() == plan
    assert plan["hang_seconds"] == 10.0
    wechat_sandbox.clear_faults()
    assert wechat_sandbox.faults()["error_rate"] == 0.0
    assert wechat_sandbox.faults()["rate_limit"] is None


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"error_rate": 1.5}, "error_rate must be a number from 0 to 1"),
        ({"kinds": ["teapot"]}, "kinds: unknown 'teapot'"),
        ({"kinds": []}, "kinds must name at least one"),
        ({"latency_ms": -1}, "latency_ms"),
        ({"rate_limit": 0}, "rate_limit"),
        ({"apis": ["logistics.nothing"]}, "apis: unknown"),
        ({"errcode": 0}, "errcode must be a whole number other than 0"),
        ({"errcode": "40001"}, "errcode must be a whole number"),
        ({"errmsg": 5}, "errmsg must be text"),
    ],
)
def test_bad_fault_options_are_refused_with_a_reason(wechat_sandbox, options, message):
    with pytest.raises(SandboxControlError, match=message):
        wechat_sandbox.set_faults(**options)
    assert wechat_sandbox.faults()["error_rate"] == 0.0


def test_a_hung_call_does_not_hold_up_other_clients(wechat_sandbox, wechat: WeChatCaller):
    token = wechat.access_token()
    wechat_sandbox.set_faults(error_rate=1.0, kinds=["hang"], hang_seconds=30, apis=["logistics.getContact"])
    results: list = []

    def hung_call() -> None:
        try:
            requests.post(
                f"{wechat.url}{GET_CONTACT}",
                params={"access_token": token},
                json={"token": "T1", "waybill_id": "SF1"},
                timeout=(5, 60),
            )
            results.append("answered")
        except requests.RequestException as exc:
            results.append(exc)

    thread = threading.Thread(target=hung_call)
    thread.start()
    while not wechat_sandbox.calls(api="logistics.getContact"):
        time.sleep(0.02)  # the hung call has arrived
    assert wechat.update_path()["errcode"] == 0  # served while the other call hangs
    started = time.monotonic()
    wechat_sandbox.reset()  # releases the held reply
    thread.join(timeout=20)
    assert not thread.is_alive()
    assert time.monotonic() - started < 20
    assert results == ["answered"]


def test_faults_given_to_the_server_at_start():
    from django_wxlogistics.sandbox import SandboxServer

    faults = {"error_rate": 1.0, "kinds": ["errcode"], "apis": ["token"]}
    with SandboxServer(port=0, seed=3, faults=faults) as server:
        reply = requests.get(
            f"{server.url}/cgi-bin/token",
            params={"grant_type": "client_credential", "appid": "a", "secret": "b"},
            timeout=5,
        ).json()
        assert reply["errcode"] == -1
        server.reset()  # back to no faults
        assert (
            "access_token"
            in requests.post(
                f"{server.url}/cgi-bin/stable_token",
                json={"grant_type": "client_credential", "appid": "a", "secret": "b"},
                timeout=5,
            ).json()
        )

"""The access token endpoints and their error paths."""

from __future__ import annotations

import pytest
import requests

from django_wxlogistics.sandbox import SandboxServer

from .conftest import GET_CONTACT, WeChatCaller


def contact_errcode(wechat: WeChatCaller, access_token: str) -> int | None:
    body = {"token": "T1", "waybill_id": "SF1"}
    return wechat.post(GET_CONTACT, body, access_token=access_token).json().get("errcode")


@pytest.fixture
def waybill(wechat_sandbox):
    wechat_sandbox.register_waybill("SF1", "T1")


def test_classic_token_has_expires_in(wechat: WeChatCaller):
    reply = wechat.get_token()
    assert set(reply) == {"access_token", "expires_in"}
    assert reply["expires_in"] == 7200
    assert len(reply["access_token"]) > 32


def test_a_new_classic_token_leaves_the_old_one_valid_for_the_grace_period(
    wechat_sandbox, wechat: WeChatCaller, waybill
):
    wechat_sandbox.stop_clock()  # nothing ages between the calls, however slow they are
    first = wechat.get_token()["access_token"]
    second = wechat.get_token()["access_token"]
    assert first != second
    wechat_sandbox.advance_clock(299)
    assert contact_errcode(wechat, first) is None  # still within the 300 s grace period
    wechat_sandbox.advance_clock(2)
    assert contact_errcode(wechat, first) == 40001
    assert contact_errcode(wechat, second) is None


def test_stable_token_is_the_same_until_force_refresh(wechat: WeChatCaller, waybill):
    first = wechat.stable_token()
    second = wechat.stable_token()
    assert first["access_token"] == second["access_token"]
    assert 0 < second["expires_in"] <= 7200
    forced = wechat.stable_token(force_refresh=True)
    assert forced["access_token"] != first["access_token"]
    assert forced["expires_in"] == 7200
    assert contact_errcode(wechat, first["access_token"]) == 40001
    assert contact_errcode(wechat, forced["access_token"]) is None
    assert wechat.stable_token()["access_token"] == forced["access_token"]


def test_stable_token_is_renewed_in_its_last_minutes_and_the_old_one_lives_on(
    wechat_sandbox, wechat: WeChatCaller, waybill
):
    # WeChat renews a stable token asked for in its last 5 minutes (of its 7200 s).
    wechat_sandbox.stop_clock()
    first = wechat.stable_token()["access_token"]
    wechat_sandbox.advance_clock(7200 - 301)
    same = wechat.stable_token()
    assert same["access_token"] == first and 300 <= same["expires_in"] <= 301  # not its last 5 minutes
    wechat_sandbox.advance_clock(2)
    renewed = wechat.stable_token()
    assert renewed["access_token"] != first
    assert renewed["expires_in"] == 7200
    assert contact_errcode(wechat, first) is None  # the old one lives out its time
    assert contact_errcode(wechat, renewed["access_token"]) is None
    wechat_sandbox.advance_clock(299)
    assert contact_errcode(wechat, first) == 42001
    assert contact_errcode(wechat, renewed["access_token"]) is None
    assert wechat.stable_token()["access_token"] == renewed["access_token"]


def test_a_short_lived_stable_token_is_renewed_in_its_last_24th(
    wechat_sandbox, wechat: WeChatCaller, waybill
):
    # Lifetimes shorter than two hours scale the five minutes down to 1/24: 0.5 s of 12 s.
    wechat_sandbox.configure(token_ttl=12)
    wechat_sandbox.stop_clock()
    first = wechat.stable_token()["access_token"]
    wechat_sandbox.advance_clock(11.4)
    assert wechat.stable_token()["access_token"] == first  # 0.6 s left
    wechat_sandbox.advance_clock(0.2)
    renewed = wechat.stable_token()
    assert renewed["access_token"] != first and renewed["expires_in"] == 12
    assert contact_errcode(wechat, first) is None


def test_stable_and_classic_tokens_do_not_invalidate_each_other(
    wechat_sandbox, wechat: WeChatCaller, waybill
):
    wechat_sandbox.configure(token_grace=0)
    stable = wechat.stable_token()["access_token"]
    wechat.get_token()
    wechat.get_token()
    assert contact_errcode(wechat, stable) is None


def test_expired_tokens_get_42001_and_a_fresh_one_is_issued(wechat_sandbox, wechat: WeChatCaller, waybill):
    token = wechat.access_token()
    assert wechat_sandbox.expire_tokens() == 1
    assert contact_errcode(wechat, token) == 42001
    fresh = wechat.access_token()
    assert fresh != token
    assert contact_errcode(wechat, fresh) is None


def test_tokens_expire_after_the_configured_ttl(wechat_sandbox, wechat: WeChatCaller, waybill):
    wechat_sandbox.configure(token_ttl=60)
    wechat_sandbox.stop_clock()
    reply = wechat.get_token()
    assert reply["expires_in"] == 60
    wechat_sandbox.advance_clock(59.5)
    assert contact_errcode(wechat, reply["access_token"]) is None
    wechat_sandbox.advance_clock(1)
    assert contact_errcode(wechat, reply["access_token"]) == 42001


def test_the_clock_runs_on_from_where_it_was_stopped(wechat_sandbox, wechat: WeChatCaller, waybill):
    wechat_sandbox.configure(token_ttl=3600)
    token = wechat.get_token()["access_token"]
    assert wechat_sandbox.stop_clock() == {"advanced": 0.0, "stopped": True}
    assert wechat_sandbox.advance_clock(3000) == {"advanced": 3000.0, "stopped": True}
    assert wechat_sandbox.stop_clock(False) == {"advanced": 3000.0, "stopped": False}
    assert contact_errcode(wechat, token) is None
    wechat_sandbox.advance_clock(600)  # the 3000 s were kept when the clock started again
    assert contact_errcode(wechat, token) == 42001
    wechat_sandbox.reset()
    assert wechat_sandbox.clock() == {"advanced": 0.0, "stopped": False}


def test_missing_and_unknown_access_tokens(wechat: WeChatCaller, waybill):
    assert contact_errcode(wechat, "") == 41001
    assert contact_errcode(wechat, "not-a-token") == 40001
    reply = wechat.session.post(f"{wechat.url}{GET_CONTACT}", json={}, timeout=5).json()
    assert reply["errcode"] == 41001


@pytest.mark.parametrize(
    ("params", "errcode"),
    [
        ({"grant_type": "password"}, 40002),
        ({"appid": ""}, 41002),
        ({"secret": ""}, 41004),
    ],
)
def test_classic_token_errors(wechat: WeChatCaller, params, errcode):
    query = {"grant_type": "client_credential", "appid": "wxapp", "secret": "s", **params}
    reply = wechat.session.get(f"{wechat.url}/cgi-bin/token", params=query, timeout=5).json()
    assert reply["errcode"] == errcode
    assert "rid: " in reply["errmsg"]


def test_classic_token_needs_get(wechat: WeChatCaller):
    reply = wechat.session.post(f"{wechat.url}/cgi-bin/token", timeout=5).json()
    assert reply["errcode"] == 43001


@pytest.mark.parametrize(
    ("body", "errcode"),
    [
        ({"grant_type": "password", "appid": "a", "secret": "s"}, 40002),
        ({"grant_type": "client_credential", "secret": "s"}, 47001),
        ({"grant_type": "client_credential", "appid": "a", "secret": 5}, 47001),
        ({"grant_type": "client_credential", "appid": "a", "secret": "s", "force_refresh": "yes"}, 47001),
        ({"grant_type": "client_credential", "appid": "", "secret": "s"}, 41002),
        ([1, 2], 47001),
    ],
)
def test_stable_token_errors(wechat: WeChatCaller, body, errcode):
    reply = wechat.session.post(f"{wechat.url}/cgi-bin/stable_token", json=body, timeout=5).json()
    assert reply["errcode"] == errcode


def test_stable_token_with_invalid_json(wechat: WeChatCaller):
    reply = wechat.session.post(f"{wechat.url}/cgi-bin/stable_token", data=b"{not json", timeout=5).json()
    assert reply["errcode"] == 47001
    assert reply["errmsg"].startswith("data format error")


def test_fixed_appid_and_secret_are_enforced():
    with SandboxServer(port=0, appid="wxright", secret="right-secret") as server:
        session = requests.Session()
        url = f"{server.url}/cgi-bin/token"
        base = {"grant_type": "client_credential"}
        wrong_secret = session.get(
            url, params={**base, "appid": "wxright", "secret": "nope"}, timeout=5
        ).json()
        assert wrong_secret["errcode"] == 40125
        assert wrong_secret["errmsg"].startswith("invalid appsecret")
        wrong_appid = session.get(
            url, params={**base, "appid": "wxother", "secret": "right-secret"}, timeout=5
        )
        assert wrong_appid.json()["errcode"] == 40013
        stable = session.post(
            f"{server.url}/cgi-bin/stable_token",
            json={**base, "appid": "wxright", "secret": "nope"},
            timeout=5,
        ).json()
        assert stable["errcode"] == 40125
        ok = session.get(url, params={**base, "appid": "wxright", "secret": "right-secret"}, timeout=5).json()
        assert "access_token" in ok


def test_token_calls_are_logged_without_the_secret(wechat_sandbox, wechat: WeChatCaller):
    wechat.get_token(secret="very-secret-value")
    wechat.stable_token(secret="very-secret-value")
    for call in wechat_sandbox.calls():
        assert "very-secret-value" not in repr(call)
    assert wechat_sandbox.calls(api="token")[0]["query"]["secret"] == "***"
    assert wechat_sandbox.calls(api="stable_token")[0]["body"]["secret"] == "***"

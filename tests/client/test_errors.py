"""Every errcode and failure, over real HTTP: which exception, and what the client does."""

from __future__ import annotations

from typing import Any

import pytest

from django_wxlogistics.client import WeChatLogisticsClient, get_client
from django_wxlogistics.exceptions import (
    RETRYABLE_ERRCODES,
    AccessTokenError,
    ApiUnauthorized,
    InvalidCredentials,
    InvalidRequest,
    InvalidWaybillToken,
    NetworkError,
    PermanentError,
    RateLimited,
    ServerError,
    TransientError,
    WaybillNotFound,
    WeChatError,
    error_for_errcode,
)
from django_wxlogistics.sandbox.server import SandboxServer

from .conftest import APPSECRET, WAYBILL_TOKEN

pytestmark = pytest.mark.django_db

PUSH = (WAYBILL_TOKEN, "SF1", 1533052800, 100001, "picked up")

ERRCODES: list[tuple[Any, type[WeChatError]]] = [
    (-1, TransientError),
    ("-1", TransientError),  # a string errcode is read as a number
    (45009, RateLimited),
    (45011, RateLimited),
    (40199, WaybillNotFound),
    (9300507, InvalidWaybillToken),
    (47001, InvalidRequest),
    (44002, InvalidRequest),
    (40003, InvalidRequest),
    (40097, InvalidRequest),
    (40013, InvalidCredentials),
    (40125, InvalidCredentials),
    (40164, InvalidCredentials),
    (41002, InvalidCredentials),
    (41004, InvalidCredentials),
    (48001, ApiUnauthorized),
    (48004, ApiUnauthorized),
    (61451, PermanentError),  # a code we do not know: permanent, never retried forever
]


@pytest.mark.parametrize(("errcode", "cls"), ERRCODES, ids=[str(code) for code, _ in ERRCODES])
def test_each_errcode_raises_its_class_once(scripted: Any, errcode: Any, cls: type[WeChatError]) -> None:
    scripted.reply((200, {"errcode": errcode, "errmsg": "what WeChat said"}))
    with pytest.raises(WeChatError) as info:
        get_client().update_path(*PUSH)
    error = info.value
    assert type(error) is cls
    assert error.errcode == int(errcode)
    assert error.api == "logistics.updatePath"
    assert error.retryable is issubclass(cls, TransientError)
    assert f"errcode {int(errcode)}" in str(error) and "what WeChat said" in str(error)
    assert error.response == {"errcode": errcode, "errmsg": "what WeChat said"}
    assert len(scripted.business_requests()) == 1  # the client itself never retries these


def test_the_retryable_list_is_closed() -> None:
    busy, rate_limited = {-1, 10060012, 10060019}, {45009, 45011, 44990, 9300513}
    assert frozenset({*busy, *rate_limited, 10060001}) == RETRYABLE_ERRCODES
    assert error_for_errcode(123456789) is PermanentError
    assert not issubclass(AccessTokenError, (TransientError, PermanentError))


def test_a_reply_without_errcode_is_a_success(scripted: Any) -> None:
    scripted.reply((200, {"waybill_id": "SF1", "sender": {"name": "Jim"}, "receiver": [{"name": "Wang"}]}))
    contact = get_client().get_contact(WAYBILL_TOKEN, "SF1")
    assert (contact.sender.name, contact.receiver.name) == ("Jim", "Wang")


@pytest.mark.parametrize("errcode", [40001, 40014, 42001, 41001])
def test_a_refused_access_token_is_refetched_and_the_call_repeated_once(scripted: Any, errcode: int) -> None:
    scripted.reply((200, {"errcode": errcode, "errmsg": "access_token refused"}))
    get_client().update_path(*PUSH)
    first, second = scripted.business_requests()
    assert first["query"]["access_token"].startswith("scripted-token-0001")
    assert second["query"]["access_token"].startswith("scripted-token-0002")
    assert first["body"] == second["body"]
    assert scripted.token_fetches == 2


@pytest.mark.parametrize("errcode", [40001, 40014, 42001, 41001])
def test_a_second_refusal_is_raised(scripted: Any, errcode: int) -> None:
    refused = (200, {"errcode": errcode, "errmsg": "access_token refused"})
    scripted.reply(refused, refused, (200, {"errcode": 0}))
    with pytest.raises(AccessTokenError) as info:
        get_client().update_path(*PUSH)
    assert info.value.errcode == errcode
    assert len(scripted.business_requests()) == 2
    assert scripted.token_fetches == 2


@pytest.mark.parametrize(
    ("status", "body", "cls"),
    [
        (500, b"<html>Internal Server Error</html>", ServerError),
        (502, b"<html>Bad Gateway</html>", ServerError),
        (503, b"", ServerError),
        (429, b"slow down", RateLimited),
        (404, b"<html>Not Found</html>", PermanentError),
        (200, b"<html>a captive portal</html>", ServerError),
        (200, [1, 2], ServerError),
    ],
)
def test_http_failures(scripted: Any, status: int, body: Any, cls: type[WeChatError]) -> None:
    scripted.reply((status, body))
    with pytest.raises(WeChatError) as info:
        get_client().update_path(*PUSH)
    assert type(info.value) is cls
    assert info.value.status == (None if status == 200 else status)
    assert info.value.errcode is None
    if status != 200:
        assert f"HTTP {status}" in str(info.value)


# -- the same paths through the sandbox's fault injection ------------------------------------------


@pytest.mark.parametrize(
    ("kind", "cls", "errcode", "status"),
    [
        ("errcode", TransientError, -1, None),
        ("http500", ServerError, None, 500),
        ("http502", ServerError, None, 502),
    ],
)
def test_sandbox_faults(sandbox: Any, kind: str, cls: type[WeChatError], errcode: Any, status: Any) -> None:
    client = get_client()
    client.get_contact(WAYBILL_TOKEN, "SF1")  # the token is fetched before the faults start
    sandbox.set_faults(error_rate=1.0, kinds=(kind,))
    with pytest.raises(cls) as info:
        client.update_path(*PUSH)
    assert (info.value.errcode, info.value.status) == (errcode, status)
    assert info.value.retryable


def test_sandbox_rate_limit(sandbox: Any) -> None:
    client = get_client()
    sandbox.set_faults(rate_limit=1)
    sandbox.stop_clock()  # both calls fall in the same second of the sandbox's, however slow
    client.update_path(*PUSH)
    with pytest.raises(RateLimited) as info:
        client.update_path(*PUSH)
    assert info.value.errcode == 45009


def test_a_hanging_wechat_times_out(sandbox: Any, wx_settings_for: Any) -> None:
    wx_settings_for(sandbox.url, TIMEOUT=(1.0, 0.3))
    client = get_client()
    client.get_contact(WAYBILL_TOKEN, "SF1")
    sandbox.set_faults(error_rate=1.0, kinds=("hang",), hang_seconds=3)
    with pytest.raises(NetworkError) as info:
        client.update_path(*PUSH)
    assert "timed out" in str(info.value)
    assert info.value.retryable


def test_a_reset_connection(sandbox: Any) -> None:
    client = get_client()
    client.get_contact(WAYBILL_TOKEN, "SF1")
    sandbox.set_faults(error_rate=1.0, kinds=("reset",))
    with pytest.raises(NetworkError) as info:
        client.update_path(*PUSH)
    assert "connection failed" in str(info.value)


def test_nothing_listening(wx_settings_for: Any) -> None:
    wx_settings_for("http://127.0.0.1:9")
    with pytest.raises(NetworkError) as info:
        WeChatLogisticsClient(access_token="cloud").update_path(*PUSH)
    assert info.value.retryable and info.value.errcode is None


def test_expired_token_in_the_sandbox_is_refreshed_once(sandbox: Any) -> None:
    client = get_client()
    client.update_path(*PUSH)
    sandbox.expire_tokens()
    client.update_path(*PUSH)
    replies = [c["reply"].get("errcode") for c in sandbox.calls(api="logistics.updatePath")]
    assert replies == [0, 42001, 0]
    assert sandbox.stats()["token_fetches"] == 2


def test_an_unknown_token_in_the_sandbox_is_refreshed_once(sandbox: Any) -> None:
    client = get_client()
    client.update_path(*PUSH)
    sandbox.reset()  # WeChat forgets every token: 40001
    sandbox.register_waybill("SF1", WAYBILL_TOKEN)
    client.update_path(*PUSH)
    replies = [c["reply"].get("errcode") for c in sandbox.calls(api="logistics.updatePath")]
    assert replies == [40001, 0]


@pytest.mark.parametrize(
    ("mode", "api"), [("stable", "auth.getStableAccessToken"), ("classic", "auth.getAccessToken")]
)
@pytest.mark.parametrize(
    ("errcode", "cls"),
    [(40001, InvalidCredentials), (40014, InvalidCredentials), (40002, InvalidRequest)],
)
def test_errcodes_of_the_token_apis(
    scripted: Any, wx_settings_for: Any, mode: str, api: str, errcode: int, cls: type[WeChatError]
) -> None:
    # On the token APIs 40001 means a wrong AppSecret, not a stale access token: no refetch loop.
    wx_settings_for(scripted.url, ACCESS_TOKEN=mode)
    scripted.token_replies.append((200, {"errcode": errcode, "errmsg": "what WeChat said"}))
    with pytest.raises(WeChatError) as info:
        get_client().update_path(*PUSH)
    assert type(info.value) is cls
    assert (info.value.errcode, info.value.api) == (errcode, api)
    assert scripted.token_fetches == 1 and scripted.business_requests() == []
    if cls is InvalidCredentials:
        assert "WXLOGISTICS['APPSECRET']" in str(info.value)


@pytest.mark.parametrize(
    ("appid", "secret", "errcode"),
    [("wxclienttest00001", "the-wrong-secret", 40125), ("wxsomebodyelse001", APPSECRET, 40013)],
)
def test_wrong_credentials(wx_settings_for: Any, appid: str, secret: str, errcode: int) -> None:
    server = SandboxServer(port=0, appid=appid, secret=secret).start()
    try:
        wx_settings_for(server.url)
        with pytest.raises(InvalidCredentials) as info:
            get_client().update_path(*PUSH)
        assert info.value.errcode == errcode
        assert info.value.api == "auth.getStableAccessToken"
        assert "WXLOGISTICS['APPSECRET']" in str(info.value)
    finally:
        server.stop()


def test_exceptions_survive_pickling() -> None:
    import pickle

    error = ServerError(None, "bad gateway", "logistics.updatePath", status=502)
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 (our own bytes)
    assert type(copy) is ServerError
    assert (copy.errcode, copy.errmsg, copy.api, copy.status) == (
        None,
        "bad gateway",
        "logistics.updatePath",
        502,
    )
    assert str(copy) == str(error)


def test_the_message_starts_with_the_class_summary_whatever_its_docstring() -> None:
    class Undocumented(PermanentError):
        pass

    class Documented(PermanentError):
        """A shop's own subclass: what is written here only documents it."""

    for cls in (Undocumented, Documented):
        assert str(cls(40199, "not found", "logistics.getContact")) == (
            "logistics.getContact: WeChat rejected the call; repeating it will not help "
            "(WeChat answered errcode 40199, errmsg 'not found'). Fix the data before trying again"
        )
    assert WaybillNotFound.summary == "Waybill not found"

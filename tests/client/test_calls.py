"""The four calls over real HTTP against the sandbox: bodies, answers, validation before I/O."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from typing import Any

import pytest
from django.test import override_settings

from django_wxlogistics import __version__
from django_wxlogistics.client import TemplatePreview, WeChatLogisticsClient, get_client
from django_wxlogistics.contacts import Contact, Party
from django_wxlogistics.enums import ACTION_MSG_MAX_LENGTH, ActionType
from django_wxlogistics.exceptions import InvalidRequestData, WaybillNotFound

from .conftest import WAYBILL_TOKEN

pytestmark = pytest.mark.django_db


def test_update_path_sends_the_documented_body(client: WeChatLogisticsClient, sandbox: Any) -> None:
    when = datetime(2024, 5, 1, 8, 30, tzinfo=dt_timezone(timedelta(hours=8)))
    client.update_path(
        WAYBILL_TOKEN, "SF1", when, ActionType.OUT_FOR_DELIVERY, "邓丽君 [18666666666] 正在派送"
    )

    [call] = sandbox.calls(api="logistics.updatePath")
    assert call["status"] == 200
    assert call["body"] == {
        "token": WAYBILL_TOKEN,
        "waybill_id": "SF1",
        "action_time": int(when.timestamp()),
        "action_type": 300002,
        "action_msg": "邓丽君 [18666666666] 正在派送",
    }
    assert isinstance(call["body"]["action_time"], int)
    [event] = sandbox.trace("SF1")
    assert event["action_msg"] == "邓丽君 [18666666666] 正在派送"


def test_update_path_takes_unix_seconds_and_plain_ints(client: WeChatLogisticsClient, sandbox: Any) -> None:
    client.update_path(WAYBILL_TOKEN, "SF1", 1533052800, 100001, "picked up")
    [event] = sandbox.trace("SF1")
    assert (event["action_time"], event["action_type"]) == (1533052800, 100001)


@pytest.mark.parametrize("list_shape", [False, True], ids=["object", "one-element-list"])
def test_get_contact_accepts_both_shapes(
    client: WeChatLogisticsClient, sandbox: Any, list_shape: bool
) -> None:
    sender = {"name": "Jim", "tel": "020-88888888", "mobile": "18666666666", "address": "广州市海珠区 XX 路"}
    receiver = {
        "name": "王小萌",
        "tel": "029-77777777",
        "mobile": "18610000000",
        "address": "广州市天河区 XX 路",
    }
    sandbox.register_waybill("SF2", "tok-2-abcdef", sender=sender, receiver=receiver, list_shape=list_shape)
    [reply] = [None]  # the raw reply is checked below, to be sure the sandbox sent that shape

    contact = client.get_contact("tok-2-abcdef", "SF2")

    assert contact == Contact(waybill_id="SF2", sender=Party(**sender), receiver=Party(**receiver))
    reply = sandbox.calls(api="logistics.getContact")[-1]["reply"]
    assert isinstance(reply["sender"], list) is list_shape
    assert "errcode" not in reply or reply["errcode"] == 0


def test_get_contact_of_an_unknown_waybill(client: WeChatLogisticsClient) -> None:
    with pytest.raises(WaybillNotFound) as info:
        client.get_contact(WAYBILL_TOKEN, "NOPE")
    assert info.value.errcode == 40199
    assert info.value.api == "logistics.getContact"
    assert "Waybill not found" in str(info.value)


def test_preview_template_and_update_business(client: WeChatLogisticsClient, sandbox: Any) -> None:
    preview = client.preview_template(
        "SF1", "<div>{{waybill_id}}</div>", {"waybill_id": "SF1"}, {"waybill_id": "SF1", "order_id": "O1"}
    )
    assert isinstance(preview, TemplatePreview)
    assert preview.waybill_id == "SF1"
    assert preview.rendered_waybill_template

    client.update_business("wxshop000000001", "biz-1", 0)
    client.update_business("wxshop000000001", "biz-2", 1, "missing licence")
    bodies = [c["body"] for c in sandbox.calls() if c["path"].endswith("business/update")]
    assert bodies == [
        {"shop_app_id": "wxshop000000001", "biz_id": "biz-1", "result_code": 0},
        {
            "shop_app_id": "wxshop000000001",
            "biz_id": "biz-2",
            "result_code": 1,
            "result_msg": "missing licence",
        },
    ]
    assert all(
        c["status"] == 200 and c["reply"]["errcode"] == 0
        for c in sandbox.calls()
        if c["api"] != "stable_token"
    )


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"token": ""}, "token must be a non-empty string"),
        ({"waybill_id": None}, "waybill_id must be a non-empty string"),
        ({"action_time": datetime(2024, 1, 1)}, "naive datetime"),
        ({"action_time": "yesterday"}, "action_time must be a datetime or Unix seconds"),
        ({"action_time": True}, "action_time must be"),
        ({"action_type": 123}, "action_type 123 is not one WeChat knows"),
        ({"action_msg": "   "}, "must not be empty"),
        ({"action_msg": "x" * (ACTION_MSG_MAX_LENGTH + 1)}, f"the most is {ACTION_MSG_MAX_LENGTH}"),
        ({"action_msg": "bad \udcff surrogate"}, "not valid UTF-8"),
    ],
)
def test_bad_input_is_refused_before_any_io(
    client: WeChatLogisticsClient, sandbox: Any, kwargs: dict[str, Any], words: str
) -> None:
    args: dict[str, Any] = {
        "token": WAYBILL_TOKEN,
        "waybill_id": "SF1",
        "action_time": 1533052800,
        "action_type": 100001,
        "action_msg": "ok",
        **kwargs,
    }
    with pytest.raises(InvalidRequestData) as info:
        client.update_path(**args)
    assert words in str(info.value)
    assert "Nothing was sent to WeChat" in str(info.value)
    assert isinstance(info.value, ValueError)
    assert sandbox.calls() == []  # not even a token fetch


def test_update_business_refusal_needs_a_reason(client: WeChatLogisticsClient, sandbox: Any) -> None:
    with pytest.raises(InvalidRequestData, match="result_msg must say why"):
        client.update_business("wxshop000000001", "biz-1", 2)
    assert sandbox.calls() == []


def test_user_agent_timeout_and_pool(scripted: Any) -> None:
    client = get_client()
    client.update_path(WAYBILL_TOKEN, "SF1", 1533052800, 100001, "ok")
    [request] = scripted.business_requests()
    assert request["headers"]["User-Agent"] == f"django-wxlogistics/{__version__}"
    assert request["headers"]["Content-Type"].startswith("application/json")
    assert client.transport.timeout == (3.05, 5.0)
    adapter = client.transport.session.get_adapter(scripted.url)
    assert adapter._pool_maxsize == 64  # type: ignore[attr-defined]


def test_get_client_follows_settings(scripted: Any, settings: Any) -> None:
    first = get_client()
    assert get_client() is first
    assert first.transport.base_url == scripted.url
    with override_settings(WXLOGISTICS={**settings.WXLOGISTICS, "TIMEOUT": 2, "HTTP_POOL_MAXSIZE": 8}):
        second = get_client()
        assert second is not first
        assert second.transport.timeout == 2.0
        assert second.transport.pool_maxsize == 8
    assert get_client().transport.timeout == (3.05, 5.0)


# Forking a threaded process is what this test is about (Celery's prefork pool does it).
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded, use of fork:DeprecationWarning")
def test_a_forked_child_gets_its_own_session(scripted: Any) -> None:
    client = get_client()
    client.update_path(WAYBILL_TOKEN, "SF1", 1533052800, 100001, "parent")
    parent_session = client.transport.session
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: answer over the pipe, never return into pytest
        try:
            child_session = client.transport.session
            client.update_path(WAYBILL_TOKEN, "SF1", 1533052800, 100001, "child")
            os.write(write, b"new" if child_session is not parent_session else b"shared")
        finally:
            os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    answer = os.read(read, 16)
    os.close(read)
    assert answer == b"new"
    assert client.transport.session is parent_session
    assert [r["body"] for r in scripted.business_requests()][-1].decode().count("child") == 1


def test_proxies_from_the_environment_are_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from django_wxlogistics.transport import Transport

    for name in ("NO_PROXY", "no_proxy", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    session = Transport("https://api.weixin.qq.com").session
    assert session.proxies["https"] == "http://proxy.example:3128"
    assert session.trust_env is False
    monkeypatch.setenv("NO_PROXY", "api.weixin.qq.com")
    assert Transport("https://api.weixin.qq.com").session.proxies == {}

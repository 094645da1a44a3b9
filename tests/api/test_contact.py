"""``waybills/{id}/contact/``: live from the sandbox over real HTTP; masked unless allowed; audited."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.cache.backends.locmem import LocMemCache
from django.test import override_settings
from rest_framework.test import APIClient

from django_wxlogistics.masking import mask_phone
from django_wxlogistics.models import ContactAccess, Waybill
from django_wxlogistics.sandbox.control import SandboxControl
from django_wxlogistics.signals import contact_viewed
from tests.factories import WaybillFactory

SENDER = {
    "name": "Jim",
    "tel": "020-88888888",
    "mobile": "18666666666",
    "address": "广东省广州市海珠区XX路XX号XX大厦",
}
RECEIVER = {
    "name": "王小萌",
    "tel": "029-77777777",
    "mobile": "18610000000",
    "address": "广东省广州市天河区XX路XX号",
}


def url(waybill_id: str) -> str:
    return f"/wxlogistics/api/waybills/{waybill_id}/contact/"


@pytest.fixture
def waybill(db: None, wechat_sandbox: SandboxControl) -> Waybill:
    waybill = WaybillFactory(waybill_id="SF1234567890", token="wb-token-s3cret")
    wechat_sandbox.register_waybill(waybill.waybill_id, waybill.token, sender=SENDER, receiver=RECEIVER)
    return waybill


@pytest.fixture
def viewed() -> Iterator[list[dict[str, Any]]]:
    received: list[dict[str, Any]] = []

    def receiver(**kwargs: Any) -> None:
        received.append(kwargs)

    contact_viewed.connect(receiver)
    yield received
    contact_viewed.disconnect(receiver)


def secrets_of(sandbox: SandboxControl, waybill: Waybill) -> list[str]:
    """The waybill token, the app secret and every access token the sandbox saw."""
    tokens = [call["access_token"] for call in sandbox.calls() if call.get("access_token")]
    from django.conf import settings

    return [waybill.token, settings.WXLOGISTICS["APPSECRET"], *tokens]


def contact_lookups(sandbox: SandboxControl) -> int:
    """getContact calls that reached a waybill lookup (a stale access token's retry does not count)."""
    return sum(
        1
        for call in sandbox.calls(api="logistics.getContact")
        if not (isinstance(call["reply"], dict) and call["reply"].get("errcode") in (40001, 40014, 42001))
    )


def assert_no_secret(response: Any, secrets: list[str]) -> None:
    body = response.content.decode()
    for secret in secrets:
        assert secret not in body


def test_masked_without_view_contact_and_not_audited(
    client_for: Callable[..., APIClient], waybill: Waybill, viewed: list[dict[str, Any]]
) -> None:
    response = client_for("view_waybill").get(url(waybill.waybill_id))
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["waybill_id"], body["masked"]) == ("SF1234567890", True)
    assert {k: v for k, v in body["sender"].items() if k != "address"} == {
        "name": "J**",
        "tel": "020-****8888",
        "mobile": "186****6666",
    }
    assert {k: v for k, v in body["receiver"].items() if k != "address"} == {
        "name": "王**",
        "tel": "029-****7777",
        "mobile": "186****0000",
    }
    assert body["sender"]["address"].startswith("广东省广州市*")
    assert "海珠区" not in response.content.decode()
    assert "18666666666" not in response.content.decode()
    assert not ContactAccess.objects.exists()
    assert viewed == []


def test_unmasked_with_view_contact_and_audited(
    make_user: Callable[..., Any],
    waybill: Waybill,
    viewed: list[dict[str, Any]],
    wechat_sandbox: SandboxControl,
) -> None:
    user = make_user("view_waybill", "view_contact", username="auditor")
    client = APIClient()
    client.force_login(user)
    response = client.get(url(waybill.waybill_id))
    assert response.status_code == 200
    assert response.json() == {
        "waybill_id": "SF1234567890",
        "sender": SENDER,
        "receiver": RECEIVER,
        "masked": False,
    }
    assert response["Cache-Control"] == "no-store, private"
    [access] = ContactAccess.objects.all()
    assert (access.waybill, access.user, access.username, access.channel) == (waybill, user, "auditor", "api")
    assert [(v["waybill"], v["user"], v["channel"], v["access"]) for v in viewed] == [
        (waybill, user, "api", access)
    ]
    # The last call: an earlier one may have carried an access token the sandbox has forgotten.
    call = wechat_sandbox.calls(api="logistics.getContact")[-1]
    assert call["body"] == {"token": "wb-token-s3cret", "waybill_id": "SF1234567890"}
    assert_no_secret(response, secrets_of(wechat_sandbox, waybill)[:2])


def test_list_shaped_answer_is_read_too(
    client_for: Callable[..., APIClient], db: None, wechat_sandbox: SandboxControl
) -> None:
    WaybillFactory(waybill_id="SF9", token="t9")
    wechat_sandbox.register_waybill("SF9", "t9", sender=SENDER, receiver=RECEIVER, list_shape=True)
    response = client_for("view_waybill", "view_contact").get(url("SF9"))
    assert response.json()["receiver"] == RECEIVER


def test_waybill_unknown_to_wechat_is_404_with_errcode(
    client_for: Callable[..., APIClient], db: None, wechat_sandbox: SandboxControl
) -> None:
    waybill = WaybillFactory(waybill_id="SF404", token="tok-unknown-s3cret")
    response = client_for("view_waybill", "view_contact").get(url("SF404"))
    assert response.status_code == 404
    body = response.json()
    assert {k: v for k, v in body.items() if k != "errmsg"} == {
        "detail": "WeChat does not know waybill SF404 (errcode 40199). Check the waybill ID.",
        "errcode": 40199,
    }
    assert body["errmsg"].startswith("logistics.getContact: Waybill not found (WeChat answered errcode 40199")
    assert not ContactAccess.objects.exists()
    assert_no_secret(response, secrets_of(wechat_sandbox, waybill))


def test_wrong_token_is_409_with_errcode(
    client_for: Callable[..., APIClient], waybill: Waybill, wechat_sandbox: SandboxControl
) -> None:
    Waybill.objects.filter(pk=waybill.pk).update(token="stale-token-s3cret")
    waybill.refresh_from_db()
    response = client_for("view_waybill", "view_contact").get(url(waybill.waybill_id))
    assert response.status_code == 409
    body = response.json()
    assert body["errcode"] == 9300507
    assert "refused this waybill's token" in body["detail"] and "PATCH" in body["detail"]
    assert_no_secret(response, secrets_of(wechat_sandbox, waybill))


def test_no_token_is_409_without_calling_wechat(
    client_for: Callable[..., APIClient], db: None, wechat_sandbox: SandboxControl
) -> None:
    WaybillFactory(waybill_id="SF0", token="")
    response = client_for("view_waybill").get(url("SF0"))
    assert response.status_code == 409
    assert response.json()["errcode"] is None
    assert "has no token" in response.json()["detail"]
    assert wechat_sandbox.calls(api="logistics.getContact") == []


@pytest.mark.parametrize(("kind", "errcode"), [("errcode", -1), ("http502", None), ("http500", None)])
def test_wechat_failure_is_502(
    client_for: Callable[..., APIClient],
    waybill: Waybill,
    wechat_sandbox: SandboxControl,
    kind: str,
    errcode: int | None,
) -> None:
    wechat_sandbox.set_faults(error_rate=1.0, kinds=[kind], apis=["logistics.getContact"])
    response = client_for("view_waybill", "view_contact").get(url(waybill.waybill_id))
    assert response.status_code == 502
    body = response.json()
    assert body["errcode"] == errcode
    # The sentence is the API's own, in the request's language; the client's English apart.
    assert body["detail"] == (
        "WeChat could not show the contacts: WeChat is busy (-1). Try again in a moment."
        if errcode
        else "WeChat could not show the contacts: WeChat is not answering. Try again in a moment."
    )
    assert body["errmsg"].startswith("logistics.getContact: ")
    assert ("WeChat answered errcode -1" if errcode else f"WeChat answered HTTP {kind[4:]}") in body["errmsg"]
    assert not ContactAccess.objects.exists()
    assert_no_secret(response, secrets_of(wechat_sandbox, waybill))


def test_rate_limited_is_502(
    client_for: Callable[..., APIClient], waybill: Waybill, wechat_sandbox: SandboxControl
) -> None:
    client = client_for("view_waybill")
    assert client.get(url(waybill.waybill_id)).status_code == 200  # a fresh access token first
    wechat_sandbox.set_faults(rate_limit=1, apis=["logistics.getContact"])
    wechat_sandbox.stop_clock()  # the next two calls fall in one second of the sandbox's
    assert client.get(url(waybill.waybill_id)).status_code == 200
    response = client.get(url(waybill.waybill_id))
    assert response.status_code == 502
    assert response.json()["errcode"] == 45009
    assert response.json()["detail"] == (
        "WeChat could not show the contacts: WeChat is rate limiting this app (45009). Try again in a minute."
    )


def test_unreachable_wechat_is_502(client_for: Callable[..., APIClient], db: None) -> None:
    waybill = WaybillFactory(token="tok-net-s3cret")
    from django.conf import settings

    with override_settings(WXLOGISTICS={**settings.WXLOGISTICS, "API_BASE_URL": "http://127.0.0.1:9"}):
        response = client_for("view_waybill").get(url(waybill.waybill_id))
    assert response.status_code == 502
    body = response.json()
    assert body["errcode"] is None
    assert (
        body["detail"]
        == "WeChat could not show the contacts: WeChat could not be reached. Try again in a moment."
    )
    assert "WeChat could not be reached (connection error or timeout)" in body["errmsg"]
    assert_no_secret(response, [waybill.token, "127.0.0.1:9/cgi-bin"])


def test_missing_settings_are_503(
    client_for: Callable[..., APIClient], waybill: Waybill, wechat_sandbox: SandboxControl
) -> None:
    from django.conf import settings

    with override_settings(WXLOGISTICS={**settings.WXLOGISTICS, "APPID": ""}):
        response = client_for("view_waybill").get(url(waybill.waybill_id))
    assert response.status_code == 503
    body = response.json()
    assert body["detail"] == "Contacts are unavailable until the settings are fixed: WXLOGISTICS['APPID']"
    assert body["errcode"] is None
    assert body["errmsg"].startswith("WXLOGISTICS['APPID'] is not set")


class UnreachableCache(LocMemCache):
    """A cache backend whose server is down: the one thing mocked, as it cannot fail here."""

    def get(self, *args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    set = add = delete = get  # type: ignore[assignment]


def test_an_unexpected_error_is_a_502_and_is_logged(
    client_for: Callable[..., APIClient],
    waybill: Waybill,
    wechat_sandbox: SandboxControl,
    viewed: list[dict[str, Any]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    from django.conf import settings

    with (
        override_settings(
            WXLOGISTICS={**settings.WXLOGISTICS, "CONTACT_CACHE_SECONDS": 60},
            CACHES={"default": {"BACKEND": f"{__name__}.UnreachableCache"}},
        ),
        caplog.at_level("ERROR", logger="django_wxlogistics"),
    ):
        response = client_for("view_waybill", "view_contact").get(url(waybill.waybill_id))
    assert response.status_code == 502
    assert response.json() == {
        "detail": "The contacts are unavailable: an unexpected error occurred on this server while "
        "fetching them. It has been logged; try again in a moment.",
        "errcode": None,
        "errmsg": None,  # the server's own trouble stays in its log
    }
    assert not ContactAccess.objects.exists() and viewed == []
    [record] = [
        r for r in caplog.records if r.name == "django_wxlogistics.api.views" and r.levelname == "ERROR"
    ]
    assert "SF1234567890" in record.getMessage() and "ConnectionError" in record.getMessage()
    assert record.exc_info is not None and "Connection refused" in caplog.text
    for secret in secrets_of(wechat_sandbox, waybill):
        assert secret not in caplog.text


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("18666666666", "186****6666"),
        ("186-6666-6666", "186****6666"),
        ("+86 186 6666 6666", "+86 186****6666"),
        ("+8618666666666", "+86 186****6666"),
        ("0086 186 6666 6666", "0086 186****6666"),
        ("(+86) 18666666666", "(+86) 186****6666"),
        ("020-88888888", "020-****8888"),
        ("0755-12345678", "0755-****5678"),
        ("075512345678", "0755****5678"),
        ("0755-12345678-123", "0755-****5678-***"),
        ("010-1234567 ext. 89", "010-***4567 ext. **"),
        ("0571-8888888转6", "0571-***8888转*"),
        ("(020) 8888 8888", "(020) **** 8888"),
        ("+86 755 1234 5678", "+86 755 **** 5678"),
        ("+86-20-88888888", "+86 20-****8888"),
        ("+86 0755 12345678", "+86 0755 ****5678"),
        ("88888888", "******88"),
        ("12345", "***45"),
        ("", ""),
    ],
)
def test_mask_phone(phone: str, masked: str) -> None:
    assert mask_phone(phone) == masked


def test_numbers_with_country_codes_and_extensions_are_masked_in_the_answer(
    client_for: Callable[..., APIClient], db: None, wechat_sandbox: SandboxControl
) -> None:
    WaybillFactory(waybill_id="SF86", token="t86-s3cret")
    wechat_sandbox.register_waybill(
        "SF86",
        "t86-s3cret",
        sender={**SENDER, "mobile": "+86 186 1234 5678", "tel": "0755-87654321-123"},
        receiver={**RECEIVER, "mobile": "0086 13912348765", "tel": "+86 20 8765 4321"},
    )
    response = client_for("view_waybill").get(url("SF86"))
    body = response.json()
    assert (body["sender"]["mobile"], body["sender"]["tel"]) == ("+86 186****5678", "0755-****4321-***")
    assert (body["receiver"]["mobile"], body["receiver"]["tel"]) == ("0086 139****8765", "+86 20 **** 4321")
    text = response.content.decode()
    for hidden in ("1234", "8765432", "-123", "1391234"):
        assert hidden not in text


# --- the contact cache, and the request's language ---------------------------------------------


def test_cached_contacts_are_asked_of_wechat_once_but_each_read_is_audited(
    make_user: Callable[..., Any],
    waybill: Waybill,
    wechat_sandbox: SandboxControl,
    viewed: list[dict[str, Any]],
) -> None:
    from django.conf import settings
    from django.core.cache import cache

    cache.clear()
    user = make_user("view_waybill", "view_contact", username="auditor")
    client = APIClient()
    client.force_login(user)
    with override_settings(WXLOGISTICS={**settings.WXLOGISTICS, "CONTACT_CACHE_SECONDS": 60}):
        try:
            bodies = [client.get(url(waybill.waybill_id)).json() for _ in range(2)]
        finally:
            cache.clear()
    assert [b["sender"] for b in bodies] == [SENDER, SENDER]
    assert contact_lookups(wechat_sandbox) == 1
    accesses = list(ContactAccess.objects.order_by("pk"))
    assert [(a.username, a.channel) for a in accesses] == [("auditor", "api")] * 2
    assert [v["access"] for v in viewed] == accesses


def test_answers_are_in_chinese_under_accept_language_zh_hans(
    client_for: Callable[..., APIClient], waybill: Waybill, wechat_sandbox: SandboxControl
) -> None:
    from django.utils import timezone

    from django_wxlogistics.enums import ActionType, EventState
    from tests.factories import TraceEventFactory

    TraceEventFactory(waybill=waybill, action_type=ActionType.PICKED_UP, state=EventState.FAILED)
    client = client_for("view_waybill", "view_traceevent", "add_traceevent")
    client.credentials(HTTP_ACCEPT_LANGUAGE="zh-hans")
    events = f"/wxlogistics/api/waybills/{waybill.waybill_id}/events/"

    [event] = client.get(events).json()["results"]
    assert event["action_type_label"] == "已揽收"  # the trace's labels

    future = (timezone.now() + timezone.timedelta(days=1)).isoformat()
    refused = client.post(events, {"action_type": 300003, "action_msg": "已签收", "action_time": future})
    assert refused.status_code == 400
    assert refused.json() == {"action_time": ["轨迹时间比当前时间晚一小时以上。"]}

    unknown = WaybillFactory(waybill_id="SF404", token="tok-unknown-s3cret")
    assert client.get(url(unknown.waybill_id)).json()["detail"] == (
        "微信中没有运单 SF404 的记录（errcode 40199）。请检查运单号。"
    )
    wechat_sandbox.set_faults(error_rate=1.0, kinds=["errcode"], apis=["logistics.getContact"])
    busy = client.get(url(waybill.waybill_id))
    assert busy.status_code == 502
    # All in Chinese: WeChat's English errmsg stays in its own field.
    assert busy.json()["detail"] == "微信无法提供联系人信息：微信系统繁忙（-1），请稍后重试。"
    assert "system error" in busy.json()["errmsg"]


def test_one_and_two_character_values_are_masked_in_the_answer(
    client_for: Callable[..., APIClient], db: None, wechat_sandbox: SandboxControl
) -> None:
    WaybillFactory(waybill_id="SF1C", token="t1c-s3cret")
    wechat_sandbox.register_waybill(
        "SF1C",
        "t1c-s3cret",
        sender={"name": "王", "tel": "12", "mobile": "无", "address": "北京"},
        receiver={"name": "😀", "tel": "7", "mobile": " ", "address": "广东省广州市 "},
    )
    body = client_for("view_waybill").get(url("SF1C")).json()
    assert body["sender"] == {"name": "*", "tel": "*2", "mobile": "*", "address": "**"}
    assert body["receiver"] == {"name": "*", "tel": "*", "mobile": "*", "address": "******"}

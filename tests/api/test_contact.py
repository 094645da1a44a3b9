"""``waybills/{id}/contact/``: live from the sandbox over real HTTP; masked unless allowed; audited."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

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
    assert response.json() == {
        "detail": "WeChat does not know waybill SF404 (errcode 40199). Check the waybill ID.",
        "errcode": 40199,
    }
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
    assert body["detail"].startswith("WeChat could not show the contacts: logistics.getContact:")
    assert not ContactAccess.objects.exists()
    assert_no_secret(response, secrets_of(wechat_sandbox, waybill))


def test_rate_limited_is_502(
    client_for: Callable[..., APIClient], waybill: Waybill, wechat_sandbox: SandboxControl
) -> None:
    client = client_for("view_waybill")
    assert client.get(url(waybill.waybill_id)).status_code == 200  # a fresh access token first
    wechat_sandbox.set_faults(rate_limit=1, apis=["logistics.getContact"])
    assert client.get(url(waybill.waybill_id)).status_code == 200
    response = client.get(url(waybill.waybill_id))
    assert response.status_code == 502
    assert response.json()["errcode"] == 45009


def test_unreachable_wechat_is_502(client_for: Callable[..., APIClient], db: None) -> None:
    waybill = WaybillFactory(token="tok-net-s3cret")
    from django.conf import settings

    with override_settings(WXLOGISTICS={**settings.WXLOGISTICS, "API_BASE_URL": "http://127.0.0.1:9"}):
        response = client_for("view_waybill").get(url(waybill.waybill_id))
    assert response.status_code == 502
    assert response.json()["errcode"] is None
    assert "could not be reached" in response.json()["detail"]
    assert_no_secret(response, [waybill.token, "127.0.0.1:9/cgi-bin"])


def test_missing_settings_are_503(
    client_for: Callable[..., APIClient], waybill: Waybill, wechat_sandbox: SandboxControl
) -> None:
    from django.conf import settings

    with override_settings(WXLOGISTICS={**settings.WXLOGISTICS, "APPID": ""}):
        response = client_for("view_waybill").get(url(waybill.waybill_id))
    assert response.status_code == 503
    assert "APPID" in response.json()["detail"]

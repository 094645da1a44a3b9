"""``CONTACT_RATE``: one counter of contact lookups per user, API and admin alike, against the sandbox.

A refused lookup answers 429 with Retry-After, asks WeChat nothing and records no reveal. The
throttle's clock is moved by the tests, never waited for.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.core.cache import cache as default_cache
from django.test import Client, override_settings
from django.urls import reverse
from rest_framework.test import APIClient

from django_wxlogistics.checks.api import check_api_settings
from django_wxlogistics.conf import parse_contact_rate
from django_wxlogistics.models import ContactAccess, Waybill
from django_wxlogistics.sandbox.control import SandboxControl
from django_wxlogistics.throttling import ContactRateThrottle
from tests.api.conftest import ThrottleClock
from tests.factories import WaybillFactory

FRAGMENT = {"HTTP_X_REQUESTED_WITH": "XMLHttpRequest"}
SENDER_MOBILE = "18666666666"


@pytest.fixture
def clock(stop_throttle_clock: Callable[[type], ThrottleClock]) -> ThrottleClock:
    return stop_throttle_clock(ContactRateThrottle)


@pytest.fixture
def rate(settings: Any) -> Callable[[Any], None]:
    def set_rate(value: Any) -> None:
        settings.WXLOGISTICS = {**settings.WXLOGISTICS, "CONTACT_RATE": value}

    return set_rate


@pytest.fixture
def waybill(db: None, wechat_sandbox: SandboxControl) -> Waybill:
    waybill = WaybillFactory(waybill_id="SF1234567890", token="tok-rate-s3cret")
    wechat_sandbox.register_waybill(waybill.waybill_id, waybill.token)
    return waybill


def api_url(waybill: Waybill) -> str:
    return f"/wxlogistics/api/waybills/{waybill.waybill_id}/contact/"


def admin_url(waybill: Waybill) -> str:
    return reverse("admin:django_wxlogistics_waybill_contact", args=[waybill.pk])


def lookups(sandbox: SandboxControl) -> int:
    """getContact calls the sandbox received that reached a waybill (a stale token's retry aside)."""
    return sum(
        1
        for call in sandbox.calls(api="logistics.getContact")
        if not (isinstance(call["reply"], dict) and call["reply"].get("errcode") in (40001, 40014, 42001))
    )


def clients_of(user: Any) -> tuple[APIClient, Client]:
    api, admin = APIClient(), Client()
    api.force_login(user)
    admin.force_login(user)
    return api, admin


def test_lookups_beyond_the_rate_get_429_and_ask_wechat_nothing(
    make_user: Callable[..., Any],
    waybill: Waybill,
    wechat_sandbox: SandboxControl,
    clock: ThrottleClock,
    rate: Any,
) -> None:
    rate("3/min")
    api, _ = clients_of(make_user("view_waybill", "view_contact"))
    for _ in range(3):  # at 0 s, 20 s and 40 s
        assert api.get(api_url(waybill)).status_code == 200
        clock.now += 20
    clock.now -= 20
    assert (lookups(wechat_sandbox), ContactAccess.objects.count()) == (3, 3)

    refused = api.get(api_url(waybill))
    assert refused.status_code == 429
    assert refused["Retry-After"] == "20"  # when the first lookup is a minute old
    assert refused.json() == {
        "detail": "Too many contact lookups (at most 3/min per user). Try again in 20 seconds.",
        "errcode": None,
    }
    assert (lookups(wechat_sandbox), ContactAccess.objects.count()) == (3, 3)

    clock.now += 19
    again = api.get(api_url(waybill))
    assert (again.status_code, again["Retry-After"]) == (429, "1")
    clock.now += 1  # the first lookup is a minute old: one more may go, and only one
    assert api.get(api_url(waybill)).json()["sender"]["mobile"] == SENDER_MOBILE
    last = api.get(api_url(waybill))
    assert (last.status_code, last["Retry-After"]) == (429, "20")
    assert (lookups(wechat_sandbox), ContactAccess.objects.count()) == (4, 4)


def test_masked_lookups_spend_the_quota_and_count_too(
    client_for: Callable[..., APIClient],
    waybill: Waybill,
    wechat_sandbox: SandboxControl,
    clock: ThrottleClock,
    rate: Any,
) -> None:
    rate("2/min")
    api = client_for("view_waybill")
    assert [api.get(api_url(waybill)).status_code for _ in range(3)] == [200, 200, 429]
    assert lookups(wechat_sandbox) == 2


def test_admin_and_api_share_one_counter_per_user(
    make_user: Callable[..., Any],
    waybill: Waybill,
    wechat_sandbox: SandboxControl,
    clock: ThrottleClock,
    rate: Any,
) -> None:
    rate("2/min")
    api, admin = clients_of(make_user("view_waybill", "view_contact", username="auditor", is_staff=True))
    assert api.get(api_url(waybill)).status_code == 200
    revealed = admin.post(admin_url(waybill), **FRAGMENT)
    assert revealed.status_code == 200 and SENDER_MOBILE in revealed.content.decode()

    assert api.get(api_url(waybill)).status_code == 429
    for refused in (admin.post(admin_url(waybill), **FRAGMENT), admin.get(admin_url(waybill), **FRAGMENT)):
        html = refused.content.decode()
        assert (refused.status_code, refused["Retry-After"]) == (429, "60")
        assert (
            '<p class="errornote wxl-contact-error">Too many contact lookups (at most 2/min per user). '
            "Try again in 60 seconds.</p>" in html
        )
        assert "data-wxl-reload" in html  # the panel offers to try again
        assert SENDER_MOBILE not in html and "186****6666" not in html
    # Without the script: the standalone page says it too.
    page = admin.get(admin_url(waybill))
    assert page.status_code == 429 and "Too many contact lookups" in page.content.decode()

    assert lookups(wechat_sandbox) == 2
    assert [a.channel for a in ContactAccess.objects.order_by("pk")] == ["api", "admin"]

    # A colleague has a counter of their own.
    _, colleague = clients_of(make_user("view_waybill", "view_contact", username="colleague", is_staff=True))
    assert colleague.post(admin_url(waybill), **FRAGMENT).status_code == 200
    assert lookups(wechat_sandbox) == 3


def test_refused_lookups_are_in_the_users_language(
    make_user: Callable[..., Any], waybill: Waybill, clock: ThrottleClock, rate: Any, settings: Any
) -> None:
    rate("1/min")
    api, admin = clients_of(make_user("view_waybill", is_staff=True))
    api.credentials(HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert api.get(api_url(waybill)).status_code == 200
    assert api.get(api_url(waybill)).json()["detail"] == (
        "联系人查询过于频繁（每位用户最多 1/min），请在 60 秒后重试。"
    )
    settings.LANGUAGE_CODE = "zh-hans"
    html = admin.get(admin_url(waybill), **FRAGMENT).content.decode()
    assert "联系人查询过于频繁（每位用户最多 1/min），请在 60 秒后重试。" in html


def test_lookups_that_never_reach_wechat_are_not_counted(
    client_for: Callable[..., APIClient],
    waybill: Waybill,
    wechat_sandbox: SandboxControl,
    clock: ThrottleClock,
    rate: Any,
) -> None:
    rate("1/min")
    api = client_for("view_waybill")
    tokenless = WaybillFactory(token="")
    assert [api.get(api_url(tokenless)).status_code for _ in range(3)] == [409] * 3
    assert api.get("/wxlogistics/api/waybills/NOT-HERE/contact/").status_code == 404
    assert api.get(api_url(waybill)).status_code == 200
    assert api.get(api_url(waybill)).status_code == 429
    assert lookups(wechat_sandbox) == 1


def test_the_default_is_30_a_minute_and_none_turns_the_limit_off(
    client_for: Callable[..., APIClient],
    waybill: Waybill,
    wechat_sandbox: SandboxControl,
    clock: ThrottleClock,
    settings: Any,
    rate: Any,
) -> None:
    settings.WXLOGISTICS = {k: v for k, v in settings.WXLOGISTICS.items() if k != "CONTACT_RATE"}
    api = client_for("view_waybill")
    assert [api.get(api_url(waybill)).status_code for _ in range(31)] == [200] * 30 + [429]
    rate(None)
    assert [api.get(api_url(waybill)).status_code for _ in range(5)] == [200] * 5
    assert lookups(wechat_sandbox) == 35


def test_a_bad_rate_names_the_setting_and_asks_wechat_nothing(
    make_user: Callable[..., Any], waybill: Waybill, wechat_sandbox: SandboxControl, rate: Any
) -> None:
    rate("lots")
    api, admin = clients_of(make_user("view_waybill", "view_contact", is_staff=True))
    response = api.get(api_url(waybill))
    assert response.status_code == 503
    assert "WXLOGISTICS['CONTACT_RATE']" in response.json()["detail"]
    html = admin.post(admin_url(waybill), **FRAGMENT).content.decode()
    assert "WXLOGISTICS[&#x27;CONTACT_RATE&#x27;]" in html
    assert (lookups(wechat_sandbox), ContactAccess.objects.count()) == (0, 0)


def test_the_counter_lives_in_djangos_cache(
    django_user_model: Any, waybill: Waybill, monkeypatch: pytest.MonkeyPatch, clock: ThrottleClock, rate: Any
) -> None:
    # Django's default cache (Redis under CI), as DRF's throttles use: every process shares it.
    monkeypatch.setattr(ContactRateThrottle, "cache", default_cache)
    rate("1/min")
    # An id that no other run sharing the cache gives a user at this moment.
    user = django_user_model.objects.create_user("cached", pk=random.randrange(10**8, 2 * 10**9))
    user.user_permissions.set(Permission.objects.filter(codename="view_waybill"))
    key = f"throttle_wxlogistics_contact_{user.pk}"
    default_cache.delete(key)
    try:
        api = APIClient()
        api.force_login(user)
        assert api.get(api_url(waybill)).status_code == 200
        assert default_cache.get(key) == [clock.now]
        # Another process reads the same counter.
        assert ContactRateThrottle().allow_request(_Request(user), None) is False  # type: ignore[arg-type]
        assert api.get(api_url(waybill)).status_code == 429
    finally:
        default_cache.delete(key)


class _Request:
    def __init__(self, user: Any) -> None:
        self.user = user
        self.META: dict[str, str] = {}


# --- the setting's check --------------------------------------------------------------------


@pytest.mark.parametrize("value", [None, "30/min", "1/s", "5/minute", "100/hour", "1000/day", " 30/min "])
def test_good_rates_pass_the_check(value: Any) -> None:
    with override_settings(WXLOGISTICS={"CONTACT_RATE": value}):
        assert check_api_settings() == []


@pytest.mark.parametrize(
    "value",
    ["lots", "30", "30/", "/min", "0/min", "-1/min", "30/week", "30 / min", "3.5/min", 30, ["30/min"], ""],
)
def test_bad_rates_are_a_check_error_with_a_hint(value: Any) -> None:
    with override_settings(WXLOGISTICS={"CONTACT_RATE": value}):
        [message] = check_api_settings()
    assert message.id == "wxlogistics.E043"
    assert "WXLOGISTICS['CONTACT_RATE']" in message.msg
    assert '"30/min"' in (message.hint or "") and "None" in (message.hint or "")
    with pytest.raises(ValueError):
        parse_contact_rate(value)

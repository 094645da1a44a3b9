"""The contact panel against the sandbox: masking, reveal, audit, permissions, WeChat errors, cache."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.cache import cache
from django.core.cache.backends.locmem import LocMemCache
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from django_wxlogistics.enums import ActionType, EventState
from django_wxlogistics.models import ContactAccess, Waybill
from django_wxlogistics.services import contact_cache_key, fetch_contact
from django_wxlogistics.signals import contact_viewed
from tests.factories import TraceEventFactory, WaybillFactory

pytestmark = pytest.mark.django_db

FRAGMENT = {"HTTP_X_REQUESTED_WITH": "XMLHttpRequest"}
SENDER_MOBILE, RECEIVER_MOBILE = "18666666666", "18610000000"


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def registered(wechat_sandbox) -> Waybill:
    waybill = WaybillFactory(waybill_id="SF1234567890", token="tok-contact-secret-1")
    wechat_sandbox.register_waybill(waybill.waybill_id, waybill.token)
    return waybill


def contact_url(waybill: Waybill) -> str:
    return reverse("admin:django_wxlogistics_waybill_contact", args=[waybill.pk])


def contact_calls(sandbox) -> int:
    """getContact calls that reached a waybill lookup (a stale access token's retry does not count)."""
    calls = sandbox.calls(api="logistics.getContact")
    return sum(
        1
        for call in calls
        if not (isinstance(call["reply"], dict) and call["reply"].get("errcode") in (40001, 40014, 42001))
    )


def test_panel_is_masked_and_not_recorded(supervisor_client, registered, wechat_sandbox):
    response = supervisor_client.get(contact_url(registered), **FRAGMENT)
    html = response.content.decode()
    assert response.status_code == 200
    assert "186****6666" in html and "186****0000" in html
    assert SENDER_MOBILE not in html and RECEIVER_MOBILE not in html
    assert "J**" in html
    assert "Haizhu District" not in html
    assert "data-wxl-reveal" in html
    assert "<html" not in html  # the panel alone, for the change page to insert
    assert ContactAccess.objects.count() == 0
    assert contact_calls(wechat_sandbox) == 1


def test_reveal_shows_contacts_and_records_the_access(supervisor_client, registered):
    seen = []

    def listener(**kwargs):
        seen.append(kwargs)

    contact_viewed.connect(listener)
    try:
        response = supervisor_client.post(contact_url(registered), **FRAGMENT)
    finally:
        contact_viewed.disconnect(listener)
    html = response.content.decode()
    assert response.status_code == 200
    assert SENDER_MOBILE in html and RECEIVER_MOBILE in html
    assert "020-88888888" in html
    assert "Haizhu District, Guangzhou" in html
    assert "Wang Xiaomeng" in html
    assert "recorded" in html
    assert "no-store" in response["Cache-Control"]  # personal data stays out of browser caches
    access = ContactAccess.objects.get()
    assert (access.waybill, access.username, access.channel) == (registered, "supervisor", "admin")
    assert [s["access"] for s in seen] == [access]
    assert registered.token not in html


def test_staff_without_view_contact_see_masked_and_cannot_reveal(clerk_client, registered, wechat_sandbox):
    html = clerk_client.get(contact_url(registered), **FRAGMENT).content.decode()
    assert "186****6666" in html
    assert "data-wxl-reveal" not in html
    assert "Can view unmasked waybill contacts" in html

    response = clerk_client.post(contact_url(registered), **FRAGMENT)
    assert response.status_code == 403
    assert SENDER_MOBILE not in response.content.decode()
    assert ContactAccess.objects.count() == 0
    assert contact_calls(wechat_sandbox) == 1  # the masked GET only


def test_staff_who_may_not_view_waybills_get_nothing(make_client, registered, wechat_sandbox):
    outsider = make_client("outsider", "view_contact")
    assert outsider.get(contact_url(registered), **FRAGMENT).status_code == 403
    assert outsider.post(contact_url(registered), **FRAGMENT).status_code == 403
    assert contact_calls(wechat_sandbox) == 0
    assert ContactAccess.objects.count() == 0


def test_reveal_needs_the_csrf_token(registered, supervisor_client):
    strict = Client(enforce_csrf_checks=True)
    strict.cookies = supervisor_client.cookies
    response = strict.post(contact_url(registered), **FRAGMENT)
    assert response.status_code == 403
    assert ContactAccess.objects.count() == 0

    # The standalone page (no JavaScript) carries the form with its token.
    page = strict.get(contact_url(registered))
    html = page.content.decode()
    assert "csrfmiddlewaretoken" in html and 'method="post"' in html
    token = html.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]
    response = strict.post(contact_url(registered), {"csrfmiddlewaretoken": token})
    assert response.status_code == 200
    assert SENDER_MOBILE in response.content.decode()
    assert ContactAccess.objects.count() == 1


def test_change_page_loads_the_panel_after_the_page(supervisor_client, registered, wechat_sandbox):
    html = supervisor_client.get(
        reverse("admin:django_wxlogistics_waybill_change", args=[registered.pk])
    ).content.decode()
    assert 'id="wxl-contact-panel"' in html
    assert f'data-url="{contact_url(registered)}"' in html
    assert "contact_panel.js" in html
    assert contact_calls(wechat_sandbox) == 0  # the page itself never waits for WeChat


@override_settings(WXLOGISTICS={"APPID": "wxdemo", "APPSECRET": "s", "API_BASE_URL": "http://127.0.0.1:9"})
def test_change_page_renders_when_wechat_is_down(supervisor_client):
    waybill = WaybillFactory()
    page = supervisor_client.get(reverse("admin:django_wxlogistics_waybill_change", args=[waybill.pk]))
    assert page.status_code == 200
    panel = supervisor_client.get(contact_url(waybill), **FRAGMENT)
    assert panel.status_code == 200
    assert "WeChat could not be reached" in panel.content.decode()


def test_unknown_waybill_says_so(supervisor_client, wechat_sandbox):
    waybill = WaybillFactory(waybill_id="SF-NOT-AT-WECHAT")
    response = supervisor_client.post(contact_url(waybill), **FRAGMENT)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Waybill not found (40199)" in html
    assert ContactAccess.objects.count() == 0  # nothing was shown


def test_wrong_token_says_what_to_fix(supervisor_client, wechat_sandbox):
    waybill = WaybillFactory(token="tok-wrong")
    wechat_sandbox.register_waybill(waybill.waybill_id, "tok-right")
    html = supervisor_client.get(contact_url(waybill), **FRAGMENT).content.decode()
    assert "token is wrong (9300507)" in html
    assert "tok-wrong" not in html and "tok-right" not in html


def test_busy_wechat_says_try_again(supervisor_client, registered, wechat_sandbox):
    wechat_sandbox.set_faults(error_rate=1.0, kinds=["errcode"], apis=["logistics.getContact"])
    response = supervisor_client.get(contact_url(registered), **FRAGMENT)
    html = response.content.decode()
    assert response.status_code == 200
    assert "WeChat is busy (-1)" in html
    assert "data-wxl-reload" in html


def test_waybill_without_token_is_not_sent_to_wechat(supervisor_client, wechat_sandbox):
    waybill = WaybillFactory(token="")
    html = supervisor_client.get(contact_url(waybill), **FRAGMENT).content.decode()
    assert "has no token" in html
    assert contact_calls(wechat_sandbox) == 0


def test_list_shaped_contacts_are_shown(supervisor_client, wechat_sandbox):
    waybill = WaybillFactory()
    wechat_sandbox.register_waybill(
        waybill.waybill_id,
        waybill.token,
        receiver={"name": "王小萌", "mobile": "13912345678"},
        list_shape=True,
    )
    html = supervisor_client.post(contact_url(waybill), **FRAGMENT).content.decode()
    assert "王小萌" in html and "13912345678" in html


# --- the optional contact cache ------------------------------------------------------------


def test_contacts_are_fetched_every_time_by_default(registered, wechat_sandbox):
    fetch_contact(registered)
    fetch_contact(registered)
    assert contact_calls(wechat_sandbox) == 2


def test_contact_cache_keeps_answers_for_the_configured_seconds(settings, registered, wechat_sandbox):
    settings.WXLOGISTICS = {**settings.WXLOGISTICS, "CONTACT_CACHE_SECONDS": 60}
    first = fetch_contact(registered)
    assert fetch_contact(registered) == first
    assert contact_calls(wechat_sandbox) == 1
    key = contact_cache_key(registered)
    assert registered.token not in key
    assert cache.get(key)["sender"]["mobile"] == SENDER_MOBILE

    # A replaced token is a new key: WeChat is asked again.
    registered.token = "tok-contact-secret-2"
    wechat_sandbox.register_waybill(registered.waybill_id, registered.token)
    fetch_contact(registered)
    assert contact_calls(wechat_sandbox) == 2


def test_contact_cache_never_keeps_errors(settings, supervisor_client, wechat_sandbox):
    settings.WXLOGISTICS = {**settings.WXLOGISTICS, "CONTACT_CACHE_SECONDS": 60}
    waybill = WaybillFactory()
    assert "40199" in supervisor_client.get(contact_url(waybill), **FRAGMENT).content.decode()
    wechat_sandbox.register_waybill(waybill.waybill_id, waybill.token)
    assert "186****6666" in supervisor_client.get(contact_url(waybill), **FRAGMENT).content.decode()


def test_missing_credentials_name_the_setting(settings, supervisor_client, wechat_sandbox):
    settings.WXLOGISTICS = {**settings.WXLOGISTICS, "APPID": ""}
    response = supervisor_client.get(contact_url(WaybillFactory()), **FRAGMENT)
    assert response.status_code == 200
    assert "APPID" in response.content.decode()


# --- errors of this server, and the words of WeChat's errors ----------------------------------


class UnreachableCache(LocMemCache):
    """A cache backend whose server is down: the one thing mocked, as it cannot fail here."""

    def get(self, *args, **kwargs):
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    set = add = delete = get


BROKEN_CACHE = {"default": {"BACKEND": f"{__name__}.UnreachableCache"}}


@pytest.mark.parametrize("method", ["get", "post"])
def test_an_unexpected_error_shows_the_generic_message_and_is_logged(
    settings, supervisor_client, registered, wechat_sandbox, caplog, method
):
    settings.WXLOGISTICS = {**settings.WXLOGISTICS, "CONTACT_CACHE_SECONDS": 60}
    with override_settings(CACHES=BROKEN_CACHE), caplog.at_level("ERROR", logger="django_wxlogistics"):
        response = getattr(supervisor_client, method)(contact_url(registered), **FRAGMENT)
    html = response.content.decode()
    assert response.status_code == 200
    assert '<p class="errornote wxl-contact-error">The contacts could not be loaded.</p>' in html
    assert "data-wxl-reload" in html  # staff can try again
    assert "6379" not in html and "Technical details" not in html  # the server's trouble stays in the log
    assert SENDER_MOBILE not in html
    assert ContactAccess.objects.count() == 0
    [record] = [
        r for r in caplog.records if r.name == "django_wxlogistics.admin.waybills" and r.levelname == "ERROR"
    ]
    assert registered.waybill_id in record.getMessage() and "ConnectionError" in record.getMessage()
    assert record.exc_info is not None  # with the traceback
    assert "Connection refused" in caplog.text
    for secret in (registered.token, settings.WXLOGISTICS["APPSECRET"]):
        assert secret not in caplog.text


def error_note(html: str) -> str:
    return re.search(r'<p class="errornote wxl-contact-error">(.*?)</p>', html, re.S).group(1)


def test_the_panel_message_is_all_words_the_technical_detail_apart(
    supervisor_client, registered, wechat_sandbox
):
    wechat_sandbox.set_faults(error_rate=1.0, kinds=["errcode"], apis=["logistics.getContact"])
    html = supervisor_client.get(contact_url(registered), **FRAGMENT).content.decode()
    assert error_note(html) == "WeChat is busy (-1). Try again in a moment."
    detail = html[html.index('class="wxl-contact-error-detail"') :]
    assert "logistics.getContact" in detail and "errcode -1" in detail  # the client's words, apart
    assert registered.token not in html


def test_wechat_errors_keep_their_errcode_in_a_whole_sentence(supervisor_client, registered, wechat_sandbox):
    unknown = WaybillFactory(waybill_id="SF-NOT-AT-WECHAT")
    html = supervisor_client.get(contact_url(unknown), **FRAGMENT).content.decode()
    assert error_note(html) == "Waybill not found (40199). WeChat does not know this waybill ID."

    assert "186****6666" in supervisor_client.get(contact_url(registered), **FRAGMENT).content.decode()
    wechat_sandbox.set_faults(rate_limit=1, apis=["logistics.getContact"])
    wechat_sandbox.stop_clock()  # the next two calls fall in one second of the sandbox's
    supervisor_client.get(contact_url(registered), **FRAGMENT)  # this second's one call
    html = supervisor_client.get(contact_url(registered), **FRAGMENT).content.decode()
    assert error_note(html) == "WeChat is rate limiting this app (45009). Try again in a minute."
    assert "errcode 45009" in html.split('class="wxl-contact-error-detail"', 1)[1]

    # An errcode the client has no words for: the sentence still names it.
    wechat_sandbox.set_faults(
        error_rate=1.0, kinds=["errcode"], errcode=61010, errmsg="new error", apis=["logistics.getContact"]
    )
    html = supervisor_client.get(contact_url(registered), **FRAGMENT).content.decode()
    assert error_note(html) == "WeChat answered with errcode 61010."
    assert "new error" in html.split('class="wxl-contact-error-detail"', 1)[1]


# --- the contact cache does not skip the audit -----------------------------------------------


def test_cached_contacts_are_fetched_once_but_every_reveal_is_audited(
    settings, make_client, supervisor_client, registered, wechat_sandbox
):
    settings.WXLOGISTICS = {**settings.WXLOGISTICS, "CONTACT_CACHE_SECONDS": 60}
    api = make_client("api-auditor", "view_waybill", "view_contact")
    seen = []

    def listener(**kwargs):
        seen.append((kwargs["channel"], kwargs["access"]))

    contact_viewed.connect(listener)
    try:
        admin_pages = [supervisor_client.post(contact_url(registered), **FRAGMENT) for _ in range(2)]
        api_answers = [
            api.get(f"/wxlogistics/api/waybills/{registered.waybill_id}/contact/") for _ in range(2)
        ]
    finally:
        contact_viewed.disconnect(listener)
    assert all(SENDER_MOBILE in page.content.decode() for page in admin_pages)
    assert [answer.json()["sender"]["mobile"] for answer in api_answers] == [SENDER_MOBILE] * 2
    assert contact_calls(wechat_sandbox) == 1
    accesses = list(ContactAccess.objects.order_by("pk"))
    assert [(a.username, a.channel) for a in accesses] == [
        ("supervisor", "admin"),
        ("supervisor", "admin"),
        ("api-auditor", "api"),
        ("api-auditor", "api"),
    ]
    assert seen == [(a.channel, a) for a in accesses]


# --- in Chinese --------------------------------------------------------------------------------


def test_the_waybill_page_panel_and_errors_are_in_chinese(
    settings, supervisor_client, registered, wechat_sandbox
):
    settings.LANGUAGE_CODE = "zh-hans"
    TraceEventFactory(waybill=registered, action_type=ActionType.PICKED_UP, state=EventState.FAILED)

    page = supervisor_client.get(reverse("admin:django_wxlogistics_waybill_change", args=[registered.pk]))
    timeline = page.content.decode().split('id="wxl-timeline"', 1)[1].split("</fieldset>", 1)[0]
    for label in (
        "物流轨迹",
        "轨迹节点",
        "轨迹描述",
        "推送状态",
        "最近一次错误",
        "已揽收",
        "推送失败",
        "重试",
    ):
        assert label in timeline, label
    assert "联系人信息" in page.content.decode()  # the panel's heading

    panel = supervisor_client.get(contact_url(registered), **FRAGMENT).content.decode()
    for label in ("寄件人", "收件人", "手机", "固定电话", "地址", "显示未脱敏信息", "186****6666"):
        assert label in panel, label
    assert "Sender" not in panel and "Show unmasked" not in panel
    # A person's name (姓名), not Django's "name" of a thing (名称), whatever the app order.
    assert '<th scope="col">姓名</th>' in panel and "名称" not in panel

    wechat_sandbox.set_faults(error_rate=1.0, kinds=["errcode"], apis=["logistics.getContact"])
    busy = supervisor_client.get(contact_url(registered), **FRAGMENT).content.decode()
    assert error_note(busy) == "微信系统繁忙（-1），请稍后重试。"
    assert "重试" in busy  # the Try again button

    future = timezone.localtime() + timedelta(days=2)
    form = supervisor_client.post(
        reverse("admin:django_wxlogistics_waybill_changelist"),
        {
            "action": "add_trace_event",
            ACTION_CHECKBOX_NAME: [registered.pk],
            "apply": "1",
            "action_type": ActionType.SIGNED,
            "action_msg": "已签收",
            "action_time_0": future.strftime("%Y-%m-%d"),
            "action_time_1": future.strftime("%H:%M:%S"),
        },
    ).content.decode()
    assert "轨迹时间比当前时间晚一小时以上。" in form  # the field's message
    assert "添加轨迹事件" in form

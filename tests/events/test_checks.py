"""The system checks of the push settings: each id with its hint, and what a bad value does at runtime."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import checks
from django.test import override_settings
from django.urls import path

from django_wxlogistics.checks import check_push_routes, check_settings
from django_wxlogistics.conf import wx_settings
from django_wxlogistics.enums import PushVerdict
from django_wxlogistics.exceptions import ConfigurationError
from django_wxlogistics.models import InboundEvent
from tests.events.pushes import ADD_WAYBILL, KEY, event, push_settings

GOOD = {
    "APPID": "wx0123456789abcdef",
    "APPSECRET": "s3cret",
    "PUSH_TOKEN": "Token2024",
    "ENCODING_AES_KEY": KEY,
}
urlpatterns = [path("elsewhere/", lambda request: None)]  # a project that routes no pushes


def found(**changes: Any) -> list[checks.CheckMessage]:
    with override_settings(WXLOGISTICS={**GOOD, **changes}):
        return [m for m in check_settings() if m.id]


def ids(**changes: Any) -> list[str]:
    return [m.id for m in found(**changes)]


def test_good_push_settings_pass():
    assert ids() == []
    assert ids(PUSH_TOKEN="", ENCODING_AES_KEY="") == []
    assert ids(PUSH_MAX_AGE=None, PUSH_MAX_BYTES=1, WAYBILL_ORDER_HANDLER=None, EVENT_HANDLERS={}) == []
    assert ids(EVENT_HANDLERS={"check_biz": "tests.events.handlers.fixed_quota"}) == []


@pytest.mark.parametrize("key", ["A" * 42, "A" * 44, "A" * 42 + "=", "A" * 42 + "-", 43, "短" * 43])
def test_e070_an_encoding_aes_key_of_the_wrong_shape(key):
    [message] = found(ENCODING_AES_KEY=key)
    assert message.id == "wxlogistics.E070"
    assert "43 characters" in message.msg and "EncodingAESKey" in message.hint
    if isinstance(key, str):
        assert key not in message.msg  # the key itself is a secret


def test_e071_a_push_token_that_is_not_text():
    assert ids(PUSH_TOKEN=12345) == ["wxlogistics.E071"]


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("PUSH_MAX_AGE", 0),
        ("PUSH_MAX_AGE", "300"),
        ("PUSH_MAX_AGE", True),
        ("PUSH_MAX_BYTES", 0),
        ("PUSH_MAX_BYTES", 1.5),
    ],
)
def test_e007_numbers(key, value):
    assert ids(**{key: value}) == ["wxlogistics.E007"]


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("WAYBILL_ID_GENERATOR", "no.such.generator", "wxlogistics.E072"),
        ("WAYBILL_ID_GENERATOR", "tests.events.pushes.TOKEN", "wxlogistics.E072"),  # not callable
        ("WAYBILL_ID_GENERATOR", None, "wxlogistics.E072"),
        ("WAYBILL_ORDER_HANDLER", "no.such.handler", "wxlogistics.E073"),
        ("EVENT_HANDLERS", ["check_biz"], "wxlogistics.E074"),
        ("EVENT_HANDLERS", {"check_biz": "no.such.handler"}, "wxlogistics.E074"),
        ("EVENT_HANDLERS", {"": "tests.events.handlers.fixed_quota"}, "wxlogistics.E074"),
    ],
)
def test_e072_to_e074_the_hooks_dotted_paths(key, value, expected):
    [message] = found(**{key: value})
    assert message.id == expected and message.hint


def test_e075_safe_mode_without_an_appid():
    assert ids(APPID="") == ["wxlogistics.E002", "wxlogistics.E075"]


@pytest.mark.parametrize("token", ["demo-push-token", "ab", "x" * 33, "令牌令牌"])
def test_w071_a_token_wechats_console_would_not_take(token):
    [message] = found(PUSH_TOKEN=token)
    assert message.id == "wxlogistics.W071" and token not in message.msg


def test_w070_pushes_routed_without_a_token():
    with override_settings(WXLOGISTICS={**GOOD, "PUSH_TOKEN": ""}):
        [message] = check_push_routes()
        assert message.id == "wxlogistics.W070" and "/wxlogistics/events/" in message.msg
        assert "wxlogistics.W070" in [m.id for m in checks.run_checks(tags=[checks.Tags.urls])]
    with override_settings(WXLOGISTICS=GOOD):
        assert check_push_routes() == []
    with override_settings(WXLOGISTICS={**GOOD, "PUSH_TOKEN": ""}, ROOT_URLCONF=__name__):
        assert check_push_routes() == []


def test_a_bad_value_read_names_its_key():
    with override_settings(WXLOGISTICS={**GOOD, "WAYBILL_ID_GENERATOR": "no.such.generator"}):
        with pytest.raises(ConfigurationError) as raised:
            getattr(wx_settings, "WAYBILL_ID_GENERATOR")  # noqa: B009 (the read is the test)
        assert raised.value.setting == "WAYBILL_ID_GENERATOR"


def test_a_wrong_key_refuses_safe_mode_pushes_without_saying_why_to_the_caller(wechat, settings):
    settings.WXLOGISTICS = push_settings(ENCODING_AES_KEY="A" * 42)
    response = wechat.send(event(ADD_WAYBILL))
    assert response.status_code == 403
    assert b"ENCODING_AES_KEY" not in response.content
    row = InboundEvent.objects.get()
    assert row.verdict == PushVerdict.NOT_CONFIGURED and "ENCODING_AES_KEY" in row.error


def test_w070_in_a_project_without_a_urlconf(settings):
    del settings.ROOT_URLCONF
    with override_settings(WXLOGISTICS={**GOOD, "PUSH_TOKEN": ""}):
        assert check_push_routes() == []

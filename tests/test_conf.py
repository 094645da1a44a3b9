"""The settings accessor: defaults, overrides and errors that name the exact key."""

from __future__ import annotations

import pickle
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from django.utils import translation
from rest_framework.permissions import AllowAny, IsAdminUser

from django_wxlogistics.checks import check_settings
from django_wxlogistics.conf import DEFAULTS, wx_settings
from django_wxlogistics.contact_errors import contact_error_message
from django_wxlogistics.delivery.limits import chain_length, concurrency
from django_wxlogistics.exceptions import ConfigurationError

GOOD = {"APPID": "wx0123456789abcdef", "APPSECRET": "s3cret"}


def test_defaults_apply_when_the_shop_sets_nothing() -> None:
    with override_settings(WXLOGISTICS={"APPID": "wx1"}):
        assert wx_settings.APPID == "wx1"
        assert wx_settings.API_BASE_URL == "https://api.weixin.qq.com"
        assert wx_settings.MAX_ATTEMPTS == DEFAULTS["MAX_ATTEMPTS"]


def test_values_follow_override_settings() -> None:
    with override_settings(WXLOGISTICS={"MAX_ATTEMPTS": 3}):
        assert wx_settings.MAX_ATTEMPTS == 3
    with override_settings(WXLOGISTICS={"MAX_ATTEMPTS": 7}):
        assert wx_settings.MAX_ATTEMPTS == 7


def test_missing_settings_dict_means_all_defaults(settings) -> None:
    del settings.WXLOGISTICS
    assert wx_settings.ACCESS_TOKEN == "stable"


def test_require_names_the_missing_key() -> None:
    with override_settings(WXLOGISTICS={"APPID": ""}):
        with pytest.raises(ConfigurationError, match=r"WXLOGISTICS\['APPID'\] is not set"):
            wx_settings.require("APPID")
    with override_settings(WXLOGISTICS={"APPSECRET": "s"}):
        assert wx_settings.require("APPSECRET") == "s"


def test_unknown_attribute_suggests_the_close_key() -> None:
    with pytest.raises(AttributeError, match=r"no setting 'APP_ID'.*Did you mean 'APPID'"):
        wx_settings.APP_ID  # noqa: B018


def test_settings_that_are_not_a_dict_are_refused() -> None:
    with override_settings(WXLOGISTICS=["APPID"]):
        with pytest.raises(ConfigurationError, match="must be a dict, not list"):
            wx_settings.APPID  # noqa: B018


def test_unknown_keys_are_listed() -> None:
    with override_settings(WXLOGISTICS={"APPID": "wx", "APP_SECRET": "x", "ZZZ": 1}):
        assert wx_settings.unknown_keys() == ["APP_SECRET", "ZZZ"]


def test_a_configuration_error_names_its_setting_as_an_attribute() -> None:
    with override_settings(WXLOGISTICS={"APPID": ""}):
        with pytest.raises(ImproperlyConfigured) as raised:
            wx_settings.require("APPID")
    error = raised.value
    assert isinstance(error, ConfigurationError)
    assert (error.setting, error.setting_name) == ("APPID", "WXLOGISTICS['APPID']")
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 (our own bytes; a Celery result keeps it)
    assert (copy.setting, str(copy)) == ("APPID", str(error))
    with override_settings(WXLOGISTICS=["APPID"]):
        with pytest.raises(ConfigurationError) as raised:
            wx_settings.APPID  # noqa: B018
    assert (raised.value.setting, raised.value.setting_name) == (None, "WXLOGISTICS")


def test_lookup_errors_name_the_setting_from_the_attribute_not_the_text() -> None:
    error = ConfigurationError("The AppID is missing.", setting="APPID")
    with translation.override("en"):
        assert contact_error_message(error) == (
            "The WeChat logistics settings are incomplete: WXLOGISTICS['APPID']"
        )


# --- one table: each value checked once, coerced, and refused by name ---------------------------


@pytest.mark.parametrize(
    ("key", "value", "read"),
    [
        ("PUSH_CONCURRENCY", 2.5, 2),
        ("TIMEOUT", [1, 2], (1.0, 2.0)),
        ("TIMEOUT", [4], 4.0),
        ("RETRY_BACKOFF_BASE", 3, 3.0),
        ("SWEEP_INTERVAL", 0, 0.0),
        ("API_PERMISSION_CLASSES", ["rest_framework.permissions.IsAdminUser"], (IsAdminUser,)),
        ("API_PERMISSION_CLASSES", [], ()),
    ],
)
def test_a_setting_reads_as_its_coerced_value(key: str, value: Any, read: Any) -> None:
    with override_settings(WXLOGISTICS={key: value}):
        assert getattr(wx_settings, key) == read
        assert type(getattr(wx_settings, key)) is type(read)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("PUSH_CHAIN", "4", "WXLOGISTICS['PUSH_CHAIN'] is '4'; it must be a whole number of at least 1."),
        (
            "PUSH_CONCURRENCY",
            "8",
            "WXLOGISTICS['PUSH_CONCURRENCY'] is '8'; it must be a number of at least 1.",
        ),
        ("PUSH_DRAIN", 1, "WXLOGISTICS['PUSH_DRAIN'] is 1; it must be True or False."),
        ("TIMEOUT", None, "WXLOGISTICS['TIMEOUT'] is None; it must be a positive number of seconds"),
        ("CONTACT_RATE", "30/week", "WXLOGISTICS['CONTACT_RATE'] is not a rate: '30/week'"),
        ("ACCESS_TOKEN", "", "WXLOGISTICS['ACCESS_TOKEN'] must be a string, not ''."),
        ("API_BASE_URL", "api.weixin.qq.com", "which is not an absolute http(s) URL"),
        ("STATUS_ACTIONS", {"lost": 999}, "WXLOGISTICS['STATUS_ACTIONS']['lost'] has action_type 999"),
        ("LISTEN_TO", "shop.signals.changed", "WXLOGISTICS['LISTEN_TO'] must be a list of dotted paths"),
        ("API_PERMISSION_CLASSES", ["no.such.Permission"], "names 'no.such.Permission', which cannot be"),
    ],
)
def test_reading_an_unusable_value_raises_naming_the_key_with_the_checks_words(
    key: str, value: Any, message: str
) -> None:
    with override_settings(WXLOGISTICS={**GOOD, key: value}):
        with pytest.raises(ConfigurationError) as raised:
            getattr(wx_settings, key)
        [problem] = wx_settings.problems(key)
        found = [m for m in check_settings() if m.id == f"wxlogistics.E{problem.id:03d}"]
    assert raised.value.setting == key
    assert message in str(raised.value)
    assert str(raised.value) == f"{problem.message} {problem.hint}"
    assert [(m.msg, m.hint) for m in found] == [(problem.message, problem.hint)]
    with override_settings(WXLOGISTICS={**GOOD, key: value}):
        assert wx_settings.valid(key) is None  # how the checks read it: no exception


def test_the_pipeline_refuses_an_unusable_value_rather_than_guess() -> None:
    with override_settings(WXLOGISTICS={"PUSH_CONCURRENCY": "8", "PUSH_CHAIN": 0}):
        assert wx_settings.valid("PUSH_CONCURRENCY") is None
        with pytest.raises(ConfigurationError, match="PUSH_CONCURRENCY"):
            concurrency()
        with pytest.raises(ConfigurationError, match="PUSH_CHAIN"):
            chain_length()


def test_a_value_is_checked_and_coerced_once_until_it_changes() -> None:
    with override_settings(
        WXLOGISTICS={"API_PERMISSION_CLASSES": ["rest_framework.permissions.IsAdminUser"]}
    ):
        first = wx_settings.API_PERMISSION_CLASSES
        assert wx_settings.API_PERMISSION_CLASSES is first
        # A value replaced in the dict, without setting_changed, is a new object: read afresh.
        settings_dict = django_settings.WXLOGISTICS
        settings_dict["API_PERMISSION_CLASSES"] = ["rest_framework.permissions.AllowAny"]
        assert wx_settings.API_PERMISSION_CLASSES == (AllowAny,)
    with override_settings(WXLOGISTICS={"API_PERMISSION_CLASSES": None}):
        assert wx_settings.API_PERMISSION_CLASSES is None

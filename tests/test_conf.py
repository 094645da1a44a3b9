"""The settings accessor: defaults, overrides and errors that name the exact key."""

from __future__ import annotations

import pickle

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from django.utils import translation

from django_wxlogistics.conf import DEFAULTS, wx_settings
from django_wxlogistics.contact_errors import contact_error_message
from django_wxlogistics.exceptions import ConfigurationError


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

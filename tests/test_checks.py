"""Every system check of the WXLOGISTICS settings, by id, with its hint."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings

from django_wxlogistics.checks import check_settings

GOOD = {"APPID": "wx0123456789abcdef", "APPSECRET": "s3cret"}


def ids(wxlogistics: Any) -> list[str]:
    with override_settings(WXLOGISTICS=wxlogistics):
        return [m.id for m in check_settings() if m.id]


def messages(wxlogistics: Any) -> list[checks.CheckMessage]:
    with override_settings(WXLOGISTICS=wxlogistics):
        return list(check_settings())


def test_good_settings_pass() -> None:
    assert ids(GOOD) == []
    assert ids({**GOOD, "API_BASE_URL": "http://127.0.0.1:8900"}) == []
    assert ids({**GOOD, "STATUS_ACTIONS": {"shipped": 100001, "late": {"action_type": 400002}}}) == []


def test_e001_settings_not_a_dict() -> None:
    [message] = messages("wx123")
    assert message.id == "wxlogistics.E001"
    assert "must be a dict" in message.msg
    assert message.hint


def test_e002_e003_missing_credentials() -> None:
    found = messages({})
    assert [m.id for m in found] == ["wxlogistics.E002", "wxlogistics.E003"]
    assert "APPID" in found[0].msg and "AppID" in (found[0].hint or "")
    assert "APPSECRET" in found[1].msg and "environment" in (found[1].hint or "")
    assert ids({"APPID": "wx1"}) == ["wxlogistics.E003"]


def test_cloud_mode_needs_no_credentials() -> None:
    assert ids({"ACCESS_TOKEN": "cloud"}) == []


@pytest.mark.parametrize(
    "url",
    ["api.weixin.qq.com", "ftp://api.weixin.qq.com", "https://", 42, "https://api.weixin.qq.com/cgi-bin"],
)
def test_e004_bad_api_base_url(url: Any) -> None:
    found = messages({**GOOD, "API_BASE_URL": url})
    assert [m.id for m in found] == ["wxlogistics.E004"]
    assert "API_BASE_URL" in found[0].msg
    assert found[0].hint


def test_w002_plain_http_to_a_remote_host() -> None:
    found = messages({**GOOD, "API_BASE_URL": "http://api.weixin.qq.com"})
    assert [m.id for m in found] == ["wxlogistics.W002"]
    assert found[0].level == checks.WARNING


def test_e005_status_actions_not_a_dict() -> None:
    assert ids({**GOOD, "STATUS_ACTIONS": [("shipped", 100001)]}) == ["wxlogistics.E005"]


def test_e005_unknown_action_type_lists_the_valid_ones() -> None:
    found = messages({**GOOD, "STATUS_ACTIONS": {"shipped": 100001, "lost": 999, "odd": {"message": "x"}}})
    assert [m.id for m in found] == ["wxlogistics.E005", "wxlogistics.E005"]
    assert "'lost'" in found[0].msg and "999" in found[0].msg
    assert "300003 (SIGNED)" in (found[0].hint or "")
    assert "'odd'" in found[1].msg


@pytest.mark.parametrize("mode", ["", 5, "no.such.module.Provider"])
def test_e006_unknown_access_token_mode(mode: Any) -> None:
    found = messages({**GOOD, "ACCESS_TOKEN": mode})
    assert [m.id for m in found] == ["wxlogistics.E006"]
    assert "stable, classic, cloud" in (found[0].hint or "")


class CentralTokenService:
    """A shop's own provider: its central token service hands out the token."""

    def get_token(self) -> str:
        return "from-the-central-service"

    def invalidate(self, token: str) -> None:
        pass


def test_e006_accepts_an_importable_provider() -> None:
    assert ids({"ACCESS_TOKEN": "tests.test_checks.CentralTokenService"}) == []


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("TIMEOUT", None),
        ("TIMEOUT", 0),
        ("TIMEOUT", (1, 2, 3)),
        ("TIMEOUT", "5"),
        ("MAX_ATTEMPTS", 0),
        ("MAX_ATTEMPTS", True),
        ("LEASE_SECONDS", "60"),
        ("RETRY_BACKOFF_CAP", -1),
        ("PUSH_CONCURRENCY", 0),
        ("PUSH_CONCURRENCY", "8"),
    ],
)
def test_e007_bad_numbers(key: str, value: Any) -> None:
    found = messages({**GOOD, key: value})
    assert [m.id for m in found] == ["wxlogistics.E007"]
    assert key in found[0].msg


@pytest.mark.parametrize("value", [1, "yes", None])
def test_e007_push_drain_must_be_a_boolean(value: Any) -> None:
    found = messages({**GOOD, "PUSH_DRAIN": value})
    assert [m.id for m in found] == ["wxlogistics.E007"]
    assert "PUSH_DRAIN" in found[0].msg and "True or False" in found[0].msg


@pytest.mark.parametrize("value", [0, 2.5, "4", True])
def test_e007_push_chain_must_be_a_whole_number_of_at_least_one(value: Any) -> None:
    found = messages({**GOOD, "PUSH_CHAIN": value})
    assert [m.id for m in found] == ["wxlogistics.E007"]
    assert "PUSH_CHAIN" in found[0].msg and "whole number" in found[0].msg


def test_w001_unknown_key_suggests_the_close_one() -> None:
    found = messages({**GOOD, "MAX_ATTEMPT": 3})
    assert [m.id for m in found] == ["wxlogistics.W001"]
    assert "Did you mean 'MAX_ATTEMPTS'" in (found[0].hint or "")


def test_manage_py_check_reports_the_errors() -> None:
    with override_settings(WXLOGISTICS={}):
        with pytest.raises(SystemCheckError, match=r"wxlogistics\.E002"):
            call_command("check")

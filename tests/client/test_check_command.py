"""``manage.py wxlogistics_check`` and the client's system checks (E010-E019, W010-W019)."""

from __future__ import annotations

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from django_wxlogistics.checks.client import check_client_settings
from django_wxlogistics.models import AccessToken
from django_wxlogistics.sandbox.server import SandboxServer

from .conftest import APPID, APPSECRET

pytestmark = pytest.mark.django_db


def run_check() -> str:
    out = StringIO()
    call_command("wxlogistics_check", stdout=out)
    return out.getvalue()


def test_working_credentials(sandbox: Any) -> None:
    output = run_check()
    assert "The credentials work" in output and "120 minutes" in output
    assert APPID in output
    assert sandbox.stats()["token_fetches"] == 1
    token = AccessToken.objects.get(appid=APPID).token
    assert token and token not in output and APPSECRET not in output


def test_a_wrong_secret_fails_with_what_wechat_said(wx_settings_for: Any) -> None:
    server = SandboxServer(port=0, appid=APPID, secret="the-real-secret-000").start()
    try:
        wx_settings_for(server.url)
        with pytest.raises(CommandError) as info:
            run_check()
    finally:
        server.stop()
    message = str(info.value)
    assert "The credentials do not work" in message and "errcode 40125" in message
    assert "WXLOGISTICS['APPSECRET']" in message
    assert APPSECRET not in message and "the-real-secret-000" not in message


def test_classic_mode_says_that_the_check_replaces_the_token(sandbox: Any, wx_settings_for: Any) -> None:
    wx_settings_for(sandbox.url, ACCESS_TOKEN="classic")
    output = run_check()
    assert "The credentials work" in output
    assert "stops working about 5 minutes from now" in output
    assert sandbox.stats()["token_fetches"] == 1


def test_stable_mode_does_not_warn(sandbox: Any) -> None:
    assert "5 minutes" not in run_check()


def test_tables_not_migrated(tmp_path: Path) -> None:
    # A shop that has not run migrate yet: a plain error that says what to do, no traceback.
    root = Path(__file__).resolve().parents[2]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'never-migrated.sqlite3'}",
        "WX_APPSECRET": APPSECRET,
    }
    result = subprocess.run(
        [sys.executable, "-m", "django", "wxlogistics_check"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "CommandError: The access token table cannot be used" in result.stderr
    assert "no such table" in result.stderr and "python manage.py migrate" in result.stderr
    assert "Traceback" not in result.stderr and APPSECRET not in result.stderr + result.stdout


def test_wechat_out_of_reach(wx_settings_for: Any) -> None:
    wx_settings_for("http://127.0.0.1:9")
    with pytest.raises(CommandError, match=r"Could not reach WeChat at http://127\.0\.0\.1:9"):
        run_check()


def test_missing_credentials(wx_settings_for: Any) -> None:
    wx_settings_for("http://127.0.0.1:9", APPSECRET="")
    with pytest.raises(CommandError, match=r"WXLOGISTICS\['APPSECRET'\] is not set"):
        run_check()


def test_cloud_and_custom_modes(wx_settings_for: Any) -> None:
    wx_settings_for("http://127.0.0.1:9", ACCESS_TOKEN="cloud")
    assert "no credentials to check" in run_check()
    wx_settings_for("http://127.0.0.1:9", ACCESS_TOKEN="tests.client.test_tokens.SameTokenAlways")
    output = run_check()
    assert "handed out an access token" in output and "the-only-token-there-is" not in output


def _ids(settings_dict: dict[str, Any], wx_settings_for: Any) -> list[str]:
    defaults = {"ACCESS_TOKEN": "stable", "HTTP_POOL_MAXSIZE": 64, "TIMEOUT": (3.05, 5.0)}
    defaults |= {"LEASE_SECONDS": 60, "ACCESS_TOKEN_REFRESH_MARGIN": 300}
    wx_settings_for("https://api.weixin.qq.com", **{**defaults, **settings_dict})
    return [m.id or "" for m in check_client_settings()]


def test_system_checks(wx_settings_for: Any) -> None:
    assert _ids({}, wx_settings_for) == []
    assert _ids({"ACCESS_TOKEN": "tests.client.test_tokens.NotAProvider"}, wx_settings_for) == [
        "wxlogistics.E010"
    ]
    assert _ids({"ACCESS_TOKEN": "tests.client.test_tokens.CentralTokens"}, wx_settings_for) == []
    assert _ids({"ACCESS_TOKEN": "no.such.module.Provider"}, wx_settings_for) == []  # E006 says it
    assert _ids({"HTTP_POOL_MAXSIZE": 0}, wx_settings_for) == ["wxlogistics.E011"]
    assert _ids({"TIMEOUT": (5, 15), "LEASE_SECONDS": 60}, wx_settings_for) == ["wxlogistics.W010"]
    assert _ids({"TIMEOUT": (5, 15), "LEASE_SECONDS": 81}, wx_settings_for) == []
    assert _ids({"TIMEOUT": (5, 15), "LEASE_SECONDS": 30}, wx_settings_for) == ["wxlogistics.W010"]
    assert _ids({"ACCESS_TOKEN_REFRESH_MARGIN": 3600}, wx_settings_for) == ["wxlogistics.W011"]


def test_the_checks_are_registered(wx_settings_for: Any) -> None:
    from django.core import checks

    wx_settings_for("https://api.weixin.qq.com", HTTP_POOL_MAXSIZE="many")
    assert "wxlogistics.E011" in [m.id for m in checks.run_checks()]

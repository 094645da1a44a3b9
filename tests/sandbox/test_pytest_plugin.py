"""The ``wechat_sandbox`` fixture in a host project that has only the package installed."""

from __future__ import annotations

import subprocess
import sys

pytest_plugins = ["pytester"]


def test_fixture_works_without_django(pytester, monkeypatch):
    monkeypatch.delenv("DJANGO_SETTINGS_MODULE", raising=False)
    pytester.makepyfile(
        """
        import requests

        def test_push(wechat_sandbox):
            wechat_sandbox.register_waybill("SF1", "T1")
            token = requests.post(
                wechat_sandbox.url + "/cgi-bin/stable_token",
                json={"grant_type": "client_credential", "appid": "wx", "secret": "s"},
                timeout=5,
            ).json()["access_token"]
            body = {"token": "T1", "waybill_id": "SF1", "action_time": 1, "action_type": 300003,
                    "action_msg": "signed"}
            reply = requests.post(
                wechat_sandbox.url + "/cgi-bin/express/delivery/path/update",
                params={"access_token": token}, json=body, timeout=5,
            ).json()
            assert reply == {"errcode": 0, "errmsg": "ok"}
            assert wechat_sandbox.trace("SF1")[0]["action_msg"] == "signed"

        def test_each_test_starts_from_a_reset_sandbox(wechat_sandbox):
            assert wechat_sandbox.waybills() == []
            assert wechat_sandbox.calls() == []
        """
    )
    # Without pytest-django, as in a project that does not use it.
    result = pytester.runpytest_subprocess("-p", "no:django", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_fixture_points_the_host_projects_settings_at_the_sandbox(pytester, monkeypatch):
    pytester.makepyfile(
        hostsettings="""
        SECRET_KEY = "host"
        INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "django_wxlogistics"]
        DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
        USE_TZ = True
        WXLOGISTICS = {"APPID": "wxhost", "APPSECRET": "host-secret", "API_BASE_URL": "https://api.weixin.qq.com"}
        """,
        test_host="""
        from django.conf import settings

        def test_base_url(wechat_sandbox):
            assert settings.WXLOGISTICS["API_BASE_URL"] == wechat_sandbox.url
            assert settings.WXLOGISTICS["APPID"] == "wxhost"

        def test_settings_are_restored_after_the_test():
            assert settings.WXLOGISTICS["API_BASE_URL"] == "https://api.weixin.qq.com"
        """,
    )
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "hostsettings")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:randomly")
    result.assert_outcomes(passed=2)


def test_the_plugin_is_registered_by_the_pytest11_entry_point():
    from importlib.metadata import entry_points

    names = {ep.name: ep.value for ep in entry_points(group="pytest11")}
    assert names.get("wxlogistics_sandbox") == "django_wxlogistics.sandbox.pytest_plugin"


def test_the_sandbox_does_not_import_django():
    code = (
        "import sys, django_wxlogistics.sandbox.cli; assert 'django' not in sys.modules, sorted(sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=30)

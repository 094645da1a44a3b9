"""The ``wechat_sandbox`` pytest fixture, registered through the ``pytest11`` entry point.

    def test_push(wechat_sandbox):
        wechat_sandbox.register_waybill("SF1234567890", "TOKEN")
        ...  # code under test calls WXLOGISTICS["API_BASE_URL"], which points at the sandbox
        assert wechat_sandbox.trace("SF1234567890")[0]["action_type"] == 300002

One server serves the whole session; each test starts from a reset sandbox. When Django
settings are configured, ``WXLOGISTICS["API_BASE_URL"]`` points at it for the test, and the
orders it places are signed and encrypted with the settings' PUSH_TOKEN, ENCODING_AES_KEY and
APPID (safe mode with a key, plain without): only the shop's events URL is left to give::

    def test_an_order_becomes_a_waybill(wechat_sandbox, live_server):
        wechat_sandbox.configure_push(url=live_server.url + "/wxlogistics/events/")
        order = wechat_sandbox.place_order()

A marker sets options for one test::

    @pytest.mark.wechat_sandbox(auto_register=True, faults={"error_rate": 0.5, "seed": 1})
    @pytest.mark.wechat_sandbox(push={"format": "xml", "mode": "plain"})
    @pytest.mark.wechat_sandbox(merchant={"trade_managed": False, "confirm_on_reminder": True})

The merchant's side has helpers of its own: ``wechat_sandbox.create_payment(unknown_for=10)``,
``refund_payment``, ``payment`` (its shipping state) and ``payment_calls`` (what WeChat received).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

import pytest

from .control import SandboxControl, SandboxControlError
from .server import SandboxServer

MARKER_OPTIONS = ("auto_register", "token_ttl", "token_grace", "faults", "push", "merchant")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "wechat_sandbox(auto_register=None, token_ttl=None, token_grace=None, faults=None, push=None, "
        "merchant=None): "
        "options of the wechat_sandbox fixture for this test",
    )


@pytest.fixture(scope="session")
def wechat_sandbox_server() -> Iterator[SandboxServer]:
    """The session's sandbox server on a free port of 127.0.0.1."""
    server = SandboxServer(host="127.0.0.1", port=0).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def wechat_sandbox(
    request: pytest.FixtureRequest, wechat_sandbox_server: SandboxServer
) -> Iterator[SandboxControl]:
    """A reset sandbox for this test, with ``WXLOGISTICS["API_BASE_URL"]`` pointing at it."""
    wechat_sandbox_server.reset()
    control = SandboxControl(wechat_sandbox_server.url, server=wechat_sandbox_server)
    push = _push_settings()
    if push:
        # Settings a test means to be wrong (a short key, say) leave the push to the test.
        with contextlib.suppress(SandboxControlError):
            control.configure_push(**push)
    marker = request.node.get_closest_marker("wechat_sandbox")
    if marker is not None:
        _apply_marker(control, marker)
    with _api_base_url(wechat_sandbox_server.url):
        try:
            yield control
        finally:
            control.close()
    wechat_sandbox_server.reset()


def _apply_marker(control: SandboxControl, marker: pytest.Mark) -> None:
    if marker.args:
        raise pytest.UsageError("@pytest.mark.wechat_sandbox takes keyword arguments only")
    unknown = set(marker.kwargs) - set(MARKER_OPTIONS)
    if unknown:
        raise pytest.UsageError(
            f"@pytest.mark.wechat_sandbox: unknown option(s) {', '.join(sorted(unknown))}; "
            f"use {', '.join(MARKER_OPTIONS)}"
        )
    options = {k: v for k, v in marker.kwargs.items() if k not in ("faults", "push", "merchant")}
    if options:
        control.configure(**options)
    if marker.kwargs.get("faults"):
        control.set_faults(**marker.kwargs["faults"])
    if marker.kwargs.get("push"):
        control.configure_push(**marker.kwargs["push"])
    if marker.kwargs.get("merchant"):
        control.configure_merchant(**marker.kwargs["merchant"])


def _push_settings() -> dict[str, Any]:
    """The shop's side of the push from its WXLOGISTICS settings, if Django has them."""
    settings = _django_settings()
    config = getattr(settings, "WXLOGISTICS", None) if settings is not None else None
    if not isinstance(config, dict) or not config.get("PUSH_TOKEN"):
        return {}
    push = {"token": config["PUSH_TOKEN"], "mode": "plain"}
    if config.get("ENCODING_AES_KEY") and config.get("APPID"):
        push.update(aes_key=config["ENCODING_AES_KEY"], appid=config["APPID"], mode="safe")
    return push


def _django_settings() -> Any:
    """Django's settings when a project configured them, else None (plain pytest)."""
    try:
        from django.conf import settings
    except ImportError:
        return None
    if not (settings.configured or os.environ.get("DJANGO_SETTINGS_MODULE")):
        return None
    try:
        settings.INSTALLED_APPS  # noqa: B018 (touching a setting loads them, or fails)
    except Exception:
        return None
    return settings


@contextlib.contextmanager
def _api_base_url(url: str) -> Iterator[None]:
    settings = _django_settings()
    if settings is None:
        yield
        return
    from django.test import override_settings

    current = getattr(settings, "WXLOGISTICS", None)
    merged = {**(current if isinstance(current, dict) else {}), "API_BASE_URL": url}
    # override_settings sends setting_changed, so cached clients and sessions can notice.
    with override_settings(WXLOGISTICS=merged):
        yield

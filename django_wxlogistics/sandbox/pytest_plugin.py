"""The ``wechat_sandbox`` pytest fixture, registered through the ``pytest11`` entry point.

    def test_push(wechat_sandbox):
        wechat_sandbox.register_waybill("SF1234567890", "TOKEN")
        ...  # code under test calls WXLOGISTICS["API_BASE_URL"], which points at the sandbox
        assert wechat_sandbox.trace("SF1234567890")[0]["action_type"] == 300002

One server serves the whole session; each test starts from a reset sandbox. When Django
settings are configured, ``WXLOGISTICS["API_BASE_URL"]`` points at it for the test.
A marker sets options for one test::

    @pytest.mark.wechat_sandbox(auto_register=True, faults={"error_rate": 0.5, "seed": 1})
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

import pytest

from .control import SandboxControl
from .server import SandboxServer

MARKER_OPTIONS = ("auto_register", "token_ttl", "token_grace", "faults")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "wechat_sandbox(auto_register=None, token_ttl=None, token_grace=None, faults=None): "
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
    options = {k: v for k, v in marker.kwargs.items() if k != "faults"}
    if options:
        control.configure(**options)
    if marker.kwargs.get("faults"):
        control.set_faults(**marker.kwargs["faults"])


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

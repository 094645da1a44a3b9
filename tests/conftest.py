"""Shared fixtures. Under CI=true, PostgreSQL and Redis must be there: fail loudly if not."""

from __future__ import annotations

import os
import re
import socket
import threading
from typing import Any

import pytest
from django.conf import settings

CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=3):
            return True
    except OSError:
        return False


def django_deprecation_warnings() -> list[type[Warning]]:
    """Every ``RemovedInDjango…Warning`` class the installed Django defines (60 and 61 in 5.2;
    61 and 2028, alias 70, in 6.0): a filter naming one that does not exist stops pytest."""
    from django.utils import deprecation

    found = (
        value
        for name, value in vars(deprecation).items()
        if re.fullmatch(r"RemovedInDjango\w+Warning", name)
        and isinstance(value, type)
        and issubclass(value, Warning)
    )
    return list(dict.fromkeys(found))  # some names are aliases of one class


def pytest_configure(config: pytest.Config) -> None:
    # Django's deprecation warnings are errors, so the code stays ready for the next Django.
    for warning in django_deprecation_warnings():
        config.addinivalue_line("filterwarnings", f"error::{warning.__module__}.{warning.__qualname__}")


CHROMIUM = "/usr/bin/chromium"
INSTALL_BROWSER = "apt-get install chromium fonts-wqy-microhei"


def missing_browser(chromium: str = CHROMIUM) -> str | None:
    """Why the browser tests cannot run, or None: they drive Debian's Chromium, never a download."""
    if os.access(chromium, os.X_OK):
        return None
    return (
        f"{chromium} is missing, and the browser tests drive Debian's Chromium. "
        f"Install it as root: {INSTALL_BROWSER} (make test does this when run as root)."
    )


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    # Fail, not skip: a run without Chromium has not tested what staff see.
    if item.get_closest_marker("browser"):
        reason = missing_browser()
        if reason:
            pytest.fail(reason, pytrace=False)


def pytest_sessionstart(session: pytest.Session) -> None:
    if not CI:
        return
    db = settings.DATABASES["default"]
    problems = []
    if "postgresql" not in db["ENGINE"]:
        problems.append(f"CI=true needs PostgreSQL, but the test database engine is {db['ENGINE']}")
    elif not _reachable(db.get("HOST") or "127.0.0.1", int(db.get("PORT") or 5432)):
        problems.append(f"PostgreSQL is not reachable at {db.get('HOST')}:{db.get('PORT')}")
    if not _reachable("127.0.0.1", 6379):
        problems.append("Redis is not reachable at 127.0.0.1:6379")
    if problems:
        pytest.exit(
            "CI=true, but: " + "; ".join(problems) + ". Start the services (see shared/services.md).",
            returncode=3,
        )


@pytest.fixture
def waybill(db):
    from tests.factories import WaybillFactory

    return WaybillFactory()


@pytest.fixture(autouse=True)
def _forget_stored_access_tokens(request: pytest.FixtureRequest, django_db_blocker: Any) -> Any:
    """Access tokens are committed outside the test's transaction (so a rollback cannot lose
    them); delete them after each test that used the sandbox, whose reset forgets them."""
    yield
    uses_db = request.node.get_closest_marker("django_db") or {"db", "transactional_db"} & set(
        request.fixturenames
    )
    if "wechat_sandbox" not in request.fixturenames or not uses_db:
        return
    from django.db import connections

    from django_wxlogistics.models import AccessToken

    def forget() -> None:
        try:
            AccessToken.objects.all().delete()
        finally:
            connections.close_all()

    # Its own thread, so its own connection: the test's transaction may still be open here.
    with django_db_blocker.unblock():
        thread = threading.Thread(target=forget)
        thread.start()
        thread.join()


@pytest.fixture(autouse=True)
def _fresh_contact_rate_counters(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test counts contact lookups from zero: its own cache for the CONTACT_RATE counters,
    apart from other tests and from another run sharing the Redis cache (user ids repeat)."""
    from uuid import uuid4

    from django.core.cache.backends.locmem import LocMemCache

    from django_wxlogistics.throttling import ContactRateThrottle

    monkeypatch.setattr(ContactRateThrottle, "cache", LocMemCache(f"contact-rate-{uuid4().hex}", {}))


@pytest.fixture(autouse=True)
def _default_language() -> Any:
    """Each test starts in the default language: a request through LocaleMiddleware (a test
    client's Accept-Language) leaves its language active in the thread afterwards."""
    from django.utils import translation

    yield
    translation.deactivate()

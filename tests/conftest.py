"""Shared fixtures. Under CI=true, PostgreSQL and Redis must be there: fail loudly if not."""

from __future__ import annotations

import os
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

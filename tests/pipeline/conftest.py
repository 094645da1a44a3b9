"""The delivery tests run on both paths: PostgreSQL's single statements and the ORM's."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from django_wxlogistics.delivery import storage


@pytest.fixture(params=["statements", "orm"])
def both_paths(request: pytest.FixtureRequest) -> Iterator[str]:
    """On PostgreSQL, ``statements`` runs the single-statement claim and record; ``orm`` the
    ORM's queries, which every other database uses. Elsewhere both are the ORM's."""
    storage.STATEMENTS = request.param == "statements"
    try:
        yield request.param
    finally:
        storage.STATEMENTS = True


@pytest.fixture
def one_at_a_time(settings: object) -> None:
    """PUSH_CHAIN 1: each claim leases one event, for the tests of per-event ordering."""
    settings.WXLOGISTICS = {**settings.WXLOGISTICS, "PUSH_CHAIN": 1}  # type: ignore[attr-defined]

"""Which storage a kind's claims and records go through: chosen once per database alias.

On PostgreSQL the hot path is one statement per round trip (:mod:`.postgres`); every
other database runs the same conditions as ORM queries (:mod:`.orm`).
"""

from __future__ import annotations

import functools

from django.db import connections, router

from ..kinds import OutboxKind
from .base import Failure, Lease, Storage
from .orm import OrmStorage
from .postgres import PostgresStorage

__all__ = ["STATEMENTS", "Failure", "Lease", "Storage", "storage_for"]

#: Set to False to run the ORM path on PostgreSQL too (the tests run both).
STATEMENTS = True


def storage_for(kind: OutboxKind) -> Storage:
    """The storage of ``kind``'s items, on the database its writes go to."""
    alias = router.db_for_write(kind.model)
    return _storage(kind, alias, STATEMENTS and connections[alias].vendor == "postgresql")


@functools.cache
def _storage(kind: OutboxKind, alias: str, statements: bool) -> Storage:
    return PostgresStorage(kind, alias) if statements else OrmStorage(kind, alias)

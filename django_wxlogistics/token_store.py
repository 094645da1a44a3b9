"""Where the fleet keeps its one access token: the AccessToken row of an AppID, the lock on it,
and the transactions of their own that fetches and refusals are written in.

A row lock (``SELECT … FOR UPDATE``; on SQLite, which ignores it, the database's write lock)
lets one process fetch while the others wait for what it stores. A database error on the way
is a :class:`~django_wxlogistics.exceptions.TokenStoreError` (transient: retry later).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, TypeVar

from django.db import OperationalError, connections, router, transaction
from django.db.models import F

from .exceptions import TokenStoreError
from .redaction import redact, remember_secret

T = TypeVar("T")

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


class LockTaken(Exception):
    """Another process holds the token row's lock (it is fetching)."""


@dataclass(frozen=True)
class StoredToken:
    """A token as the row keeps it: expiry and fetch time in seconds since the epoch."""

    token: str
    expires_at: float
    fetched_at: float


class TokenStore:
    """One AppID's row of the ``AccessToken`` table.

    ``lock_wait`` is how long to wait for another process's fetch (one fetch's timeouts and a
    second more); ``api`` names the token API in errors.
    """

    def __init__(self, appid: str, *, lock_wait: float, api: str) -> None:
        self.appid = appid
        self.lock_wait = lock_wait
        self.api = api

    def alias(self) -> str:
        from .models import AccessToken

        return router.db_for_write(AccessToken)

    def rows(self) -> Any:
        from .models import AccessToken

        return AccessToken.objects.using(self.alias())

    def read(self) -> StoredToken | None:
        """The stored token, or None when there is none yet."""
        row = self.rows().filter(appid=self.appid).values_list("token", "expires_at", "fetched_at").first()
        if row is None or not row[0]:
            return None
        entry = StoredToken(row[0], row[1].timestamp(), row[2].timestamp())
        remember_secret(entry.token)
        return entry

    def ensure_row(self) -> None:
        if self.rows().filter(appid=self.appid).exists():
            return
        # Its own short transaction, so the lock below never waits on an uncommitted INSERT.
        with transaction.atomic(using=self.alias()):
            if self._is_sqlite():
                self._take_sqlite_write_lock(wait=True)  # read-then-insert would fail, not wait
            self.rows().get_or_create(appid=self.appid, defaults={"token": "", "expires_at": EPOCH})

    def lock_row(self, *, wait: bool) -> StoredToken | None:
        """Lock the row until the transaction ends and read it; ``LockTaken`` if busy."""
        if self._is_sqlite():
            self._take_sqlite_write_lock(wait=wait)
            row = self.rows().filter(appid=self.appid).first()
        else:
            if wait:
                self._bound_lock_wait()
            skip_locked = not wait and self._can_skip_locked()
            try:
                row = self.rows().select_for_update(skip_locked=skip_locked).filter(appid=self.appid).first()
            except OperationalError:  # the lock wait ran out
                raise LockTaken from None
            if row is None and skip_locked:
                raise LockTaken  # the row exists (ensure_row): it was skipped because it is locked
        if row is None or not row.token:
            return None
        return StoredToken(row.token, row.expires_at.timestamp(), row.fetched_at.timestamp())

    def write(self, token: str, expires_in: int, now: float) -> StoredToken:
        """Store a token just fetched, valid ``expires_in`` seconds from ``now``."""
        self.rows().filter(appid=self.appid).update(
            token=token,
            expires_at=datetime.fromtimestamp(now + expires_in, tz=timezone.utc),
            fetched_at=datetime.fromtimestamp(now, tz=timezone.utc),
        )
        return StoredToken(token, now + expires_in, now)

    def expire(self, token: str) -> bool:
        """Mark ``token`` expired if it is still the one stored (a newer one stays); True if it was."""
        return bool(
            in_own_transaction(
                lambda: self.rows().filter(appid=self.appid, token=token).update(expires_at=EPOCH)
            )
        )

    @contextmanager
    def database_errors(self, *secrets: str) -> Iterator[None]:
        """Database errors of the token store as a transient ``TokenStoreError``, without secrets."""
        try:
            yield
        except LockTaken:
            raise TokenStoreError(
                None,
                "another process has been fetching the access token; "
                f"gave up waiting for it after at most {self.lock_wait:g} s",
                self.api,
            ) from None
        except OperationalError as exc:
            # from None: the database's exception and its SQL stay out of the message and logs.
            raise TokenStoreError(None, redact(f"the database answered: {exc}", *secrets), self.api) from None

    def _take_sqlite_write_lock(self, *, wait: bool) -> None:
        # SQLite ignores FOR UPDATE. A write as the transaction's first statement takes the
        # database's write lock now, waiting for it; reading first, then writing, would make
        # every process but one fail with "database is locked" at its write instead.
        alias = self.alias()
        with connections[alias].cursor() as cursor:
            cursor.execute("PRAGMA busy_timeout")
            previous = int(cursor.fetchone()[0])
            cursor.execute(f"PRAGMA busy_timeout = {int(self.lock_wait * 1000) if wait else 0}")
            try:
                # In a savepoint, so that a busy error leaves the transaction usable for the reset.
                with transaction.atomic(using=alias):
                    self.rows().filter(appid=self.appid).update(appid=F("appid"))
            except OperationalError:
                raise LockTaken from None
            finally:
                cursor.execute(f"PRAGMA busy_timeout = {previous}")

    def _bound_lock_wait(self) -> None:
        # If the fetch of the process holding the lock fails, its waiters must not each try
        # in turn (N x the timeout): they give up after one fetch's time, as transient errors.
        # PostgreSQL only (SQLite: the busy timeout above); MySQL waits innodb_lock_wait_timeout.
        connection = connections[self.alias()]
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL lock_timeout = {int(self.lock_wait * 1000)}")

    def _can_skip_locked(self) -> bool:
        return bool(connections[self.alias()].features.has_select_for_update_skip_locked)

    def _is_sqlite(self) -> bool:
        return connections[self.alias()].vendor == "sqlite"


def in_own_transaction(fn: Callable[[], T]) -> T:
    """Run ``fn`` (which opens its own ``atomic`` blocks) outside the caller's transaction.

    A token fetched inside the caller's transaction would be lost on its rollback, and the
    row lock held until it ends. Inside an atomic block, ``fn`` runs in a helper thread,
    whose database connection is its own.
    """
    from .models import AccessToken

    alias = router.db_for_write(AccessToken)
    connection = connections[alias]
    # SQLite has one writer at a time: a second connection would wait on the caller's lock.
    # So there the token is stored in the caller's transaction, and lost if it rolls back.
    if not connection.in_atomic_block or connection.vendor == "sqlite":
        return fn()
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = fn()
        except BaseException as exc:
            outcome["error"] = exc
        finally:
            connections[alias].close()

    thread = threading.Thread(target=run, name="wxlogistics-access-token", daemon=True)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]

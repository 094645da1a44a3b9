"""What the storage seam promises: every read and write of the delivery engine, whatever the database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from ..outcomes import Claim


@dataclass(frozen=True)
class Lease:
    """One claim about to be made: its identity, when it runs out, the time it is made at,
    and how many items of a line it takes (the line's first and those due behind it)."""

    claim_id: UUID
    expires: datetime
    now: datetime
    chain: int


@dataclass(frozen=True)
class Failure:
    """A failed call as it is to be recorded under its claim: the item's new state
    (pending for a retry, or failed), its attempts, the retry's time (None: a failed item
    keeps its own) and the error."""

    claim: Claim
    state: str
    attempts: int
    next_attempt_at: datetime | None
    errcode: int | None
    errmsg: str


class Storage(Protocol):
    """The claims, records and sweeps of one kind's items on one database.

    Two implementations with the same conditions: :mod:`.postgres` (one statement each)
    and :mod:`.orm` (portable queries, every other database). The items they return carry
    their line's row (``item.<line>``) and come in line order.
    """

    def claim(self, by: str, keys: list[int], lease: Lease) -> list[Any]:
        """Lease the items whose ``by`` (``"id"`` or the line's column) is in ``keys`` that
        are pending, due and first in their line, each with up to ``lease.chain - 1`` due
        items that follow it in its line."""
        ...

    def settle(
        self, sent: list[Claim], follow: list[int], room: int, *, drain: bool, lease: Lease
    ) -> tuple[set[int], list[Any]]:
        """Mark ``sent`` sent (each under its own claim) and lease what comes next.

        Returns the ids it marked (an item whose claim was lost meanwhile is not among
        them) and the items it leased under ``lease``: the first item of each line in
        ``follow`` whose line moved, then, with ``drain``, due items of any line, ``room``
        of them at most; each with its chain.
        """
        ...

    def hand_back(self, failed: list[Failure], released: list[Claim], now: datetime) -> set[int]:
        """Record ``failed`` and hand ``released`` back untried (pending again, due as they
        were, no attempt counted), each under its own claim; returns the ids of ``failed``
        it recorded (an item whose claim was lost meanwhile is not among them)."""
        ...

    def reclaim(
        self, limit: int, now: datetime, *, max_attempts: int, message: str
    ) -> tuple[list[int], list[int]]:
        """Hand back the items whose lease ran out before ``now``, the longest expired
        first, ``limit`` at most: pending and due now, or failed when this was their last
        attempt of ``max_attempts``; each with an attempt counted and ``message`` as its
        error. Returns the ids handed back and the ids failed."""
        ...

    def due_heads(
        self, limit: int, now: datetime, lines: list[int] | None, quiet_before: datetime | None
    ) -> list[int]:
        """Up to ``limit`` ids of pending items due at ``now`` that are first in their line
        (of ``lines`` only, when given), the longest due first; with ``quiet_before``, only
        those nobody touched since, or whose retry time came after they were last touched."""
        ...

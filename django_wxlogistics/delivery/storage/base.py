"""What the storage seam promises: the two writes of the hot path, whatever the database."""

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


class Storage(Protocol):
    """The claim and the record of one kind's items on one database.

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

"""What a delivery attempt can come to, and what a worker holds while it makes one."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from ..exceptions import WeChatError


class Outcome(str, enum.Enum):
    """What one delivery attempt did."""

    SENT = "sent"
    RETRY = "retry"  # transient failure: back to pending, with backoff
    FAILED = "failed"  # permanent failure or attempts exhausted
    SKIPPED = "skipped"  # not claimable now: claimed, done, not due, or behind an earlier item
    LOST = "lost"  # the lease expired during the call; another worker owns the item now
    RELEASED = "released"  # leased in a chain, handed back untried (see the package's docstring)


#: What a calling thread reports for one item: None when WeChat took it, the error, or
#: ``Outcome.RELEASED`` when it hands the item back untried.
Result = WeChatError | Outcome | None

#: Outcomes after which a line is looked at again for what comes next.
LINE_MOVED = (Outcome.SENT, Outcome.FAILED, Outcome.RELEASED)


@dataclass(frozen=True)
class Claim:
    """An item leased to this worker: ``claim_id`` proves the claim, ``lease`` is when it runs out.

    Every write after the claim is conditional on ``claim_id``; the items leased together
    share it. A worker whose lease ran out (and whose item another worker claimed since)
    holds an id the row no longer carries.
    """

    item: Any
    claim_id: UUID
    lease: datetime

    @property
    def key(self) -> tuple[UUID, int]:
        """This claim of this item: the same item claimed again is another key."""
        return (self.claim_id, self.item.pk)

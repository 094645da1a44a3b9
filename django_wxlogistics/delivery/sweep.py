"""What the sweeper finds: items whose worker died mid-push, and due items nobody nudged.

A broker message only says "look at item N now": a lost one is repaired here. The sweep
hands items with an expired lease back (or fails them when their attempts are used up)
and lists the due items first in their line; the caller nudges workers for them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from django.utils import timezone

from ..conf import wx_settings
from ..redaction import get_logger
from .kinds import OutboxKind
from .records import send_signal
from .storage import storage_for

logger = get_logger(__name__)

#: The most items one sweep reclaims and the most it lists to nudge.
SWEEP_BATCH = 500

LEASE_EXPIRED_MSG = "The worker pushing this event stopped before it finished (lease expired)."


@dataclass
class SweepResult:
    reclaimed: int = 0
    failed: int = 0
    #: The items to nudge: due, first in their line, not nudged within the last sweep interval.
    due: list[int] = field(default_factory=list)


def reclaim_expired_leases(kind: OutboxKind, limit: int = SWEEP_BATCH) -> tuple[int, int]:
    """Hand items whose worker died mid-push back to pending (or fail them when their
    attempts are used up). Returns (reclaimed, failed)."""
    reclaimed, failed = _reclaim_expired_leases(kind, limit)
    return len(reclaimed), failed


def _reclaim_expired_leases(kind: OutboxKind, limit: int) -> tuple[list[int], int]:
    reclaimed, failed = storage_for(kind).reclaim(
        limit, timezone.now(), max_attempts=int(wx_settings.MAX_ATTEMPTS), message=LEASE_EXPIRED_MSG
    )
    for item in kind.model._default_manager.filter(pk__in=failed).select_related(kind.line):
        logger.error("%s failed: %s", kind.name_of(item.pk, capital=True), LEASE_EXPIRED_MSG)
        send_signal(kind, kind.failed_signal, **kind.signal_kwargs(item), error=None)
    if reclaimed:
        logger.warning("Reclaimed %d %s(s) whose worker stopped mid-push.", len(reclaimed), kind.noun)
    return reclaimed, len(failed)


def due_head_ids(
    kind: OutboxKind,
    limit: int = SWEEP_BATCH,
    line_pks: Iterable[int] | None = None,
    *,
    quiet_for: float = 0,
) -> list[int]:
    """Pending items whose time has come and that are first in their line.

    With ``quiet_for``, only items whose row nobody touched for that many seconds, or whose
    retry time came after it was last touched: the others have a nudge on its way already.
    """
    now = timezone.now()
    quiet_before = now - timedelta(seconds=quiet_for) if quiet_for else None
    lines = None if line_pks is None else [int(pk) for pk in line_pks]
    return storage_for(kind).due_heads(limit, now, lines, quiet_before)


def sweep(kind: OutboxKind, limit: int = SWEEP_BATCH) -> SweepResult:
    """Reclaim expired leases, then list the due items at the head of each line to nudge.

    Items nudged within the last sweep interval are left alone: their message is on its way,
    and a backlog must not grow by one duplicate message per item at every sweep.
    """
    reclaimed, failed = _reclaim_expired_leases(kind, limit)
    quiet = wx_settings.SWEEP_INTERVAL
    # Reclaimed items behind an earlier one are skipped by the claim; they follow it.
    due = list(dict.fromkeys([*due_head_ids(kind, limit, quiet_for=quiet), *reclaimed]))
    return SweepResult(reclaimed=len(reclaimed), failed=failed, due=due)

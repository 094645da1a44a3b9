"""What the sweeper finds: items whose worker died mid-push, and due items nobody nudged.

A broker message only says "look at item N now": a lost one is repaired here. The sweep
hands items with an expired lease back (or fails them when their attempts are used up)
and lists the due items first in their line; the caller nudges workers for them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from ..conf import wx_settings
from ..enums import EventState
from ..redaction import get_logger
from .kinds import OutboxKind
from .lines import head_of_line
from .records import send_signal

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
    now = timezone.now()
    objects = kind.model._default_manager
    ids = list(
        objects.filter(state=EventState.SENDING, lease_expires_at__lt=now)
        .order_by("lease_expires_at")
        .values_list("pk", flat=True)[:limit]
    )
    if not ids:
        return [], 0
    # Still expired: an item reclaimed and claimed again in between has a new, future lease.
    expired = objects.filter(pk__in=ids, state=EventState.SENDING, lease_expires_at__lt=now)
    common: dict[str, Any] = {
        "lease_expires_at": None,
        "claim_id": None,
        "attempts": F("attempts") + 1,
        "last_errcode": None,
        "last_errmsg": LEASE_EXPIRED_MSG,
        "updated_at": now,
    }
    max_attempts = wx_settings.MAX_ATTEMPTS
    with transaction.atomic():
        exhausted = list(
            expired.filter(attempts__gte=max_attempts - 1).select_for_update().values_list("pk", flat=True)
        )
        failed = objects.filter(pk__in=exhausted).update(state=EventState.FAILED, **common)
        back = expired.exclude(pk__in=exhausted)
        reclaimed = list(back.select_for_update().values_list("pk", flat=True))
        objects.filter(pk__in=reclaimed).update(state=EventState.PENDING, next_attempt_at=now, **common)
    for item in objects.filter(pk__in=exhausted).select_related(kind.line):
        logger.error("%s failed: %s", kind.name_of(item.pk, capital=True), LEASE_EXPIRED_MSG)
        send_signal(kind, kind.failed_signal, **kind.signal_kwargs(item), error=None)
    if reclaimed:
        logger.warning("Reclaimed %d %s(s) whose worker stopped mid-push.", len(reclaimed), kind.noun)
    return reclaimed, failed


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
    items = kind.model._default_manager.filter(state=EventState.PENDING, next_attempt_at__lte=now)
    if line_pks is not None:
        items = items.filter(**{f"{kind.line_attname}__in": list(line_pks)})
    if quiet_for:
        items = items.filter(
            Q(updated_at__lte=now - timedelta(seconds=quiet_for)) | Q(next_attempt_at__gt=F("updated_at"))
        )
    return list(
        items.filter(head_of_line(kind))
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


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

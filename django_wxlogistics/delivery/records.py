"""Recording what the calls did, and leasing what follows the items recorded (settle).

The successes are recorded first: until WeChat's acceptance is in the database, a killed
worker means a copy, so nothing waits in front of it. Failures and items handed back
follow, together in one transaction. Every write is conditional on the item's claim id:
a worker whose claim was lost (and whose item another worker took over) changes nothing.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any
from uuid import UUID

from django.db import router, transaction
from django.dispatch import Signal
from django.utils import timezone

from ..conf import wx_settings
from ..enums import EventState
from ..exceptions import PermanentError, WeChatError
from ..redaction import get_logger, redact
from ..secret_fields import secret_values
from .claims import claims_of, new_lease
from .kinds import OutboxKind
from .outcomes import LINE_MOVED, Claim, Outcome, Result
from .storage import storage_for

logger = get_logger(__name__)


#: What marking an item sent sets, besides its times and ``attempts + 1``.
_SENT_FIELDS: dict[str, Any] = {
    "state": EventState.SENT,
    "lease_expires_at": None,
    "claim_id": None,
    "last_errcode": None,
    "last_errmsg": "",
}


def backoff_seconds(attempts: int) -> float:
    """Full jitter: uniform between 0 and ``min(cap, base * 2**attempts)``."""
    base, cap = wx_settings.RETRY_BACKOFF_BASE, wx_settings.RETRY_BACKOFF_CAP
    return random.uniform(0, min(cap, base * 2 ** min(attempts, 62)))


def retry_seconds(kind: OutboxKind, exc: WeChatError, attempts: int) -> float:
    """The wait before the next attempt after ``attempts`` failed ones, the last with ``exc``:
    the kind's own (:attr:`OutboxKind.retry_delay`) where it has one, else the backoff."""
    delay = kind.retry_delay(exc, attempts) if kind.retry_delay is not None else None
    return backoff_seconds(attempts - 1) if delay is None else delay


def settle(
    kind: OutboxKind, results: Iterable[tuple[Claim, Result]], *, room: int = 0, drain: bool = False
) -> tuple[list[tuple[Claim, Outcome]], list[Claim]]:
    """Record what the calls did and lease what the ``room`` freed slots push next.

    Next comes the following item of each line whose item is done (sent or failed), or
    handed back untried, then, with ``drain``, due items of any line. On PostgreSQL the
    successes and the leases after them are one statement; failures and items handed back
    follow, together in one transaction, and the lines they moved are leased in one more
    statement.
    """
    sent: list[Claim] = []
    released: list[Claim] = []
    failed: list[tuple[Claim, WeChatError]] = []
    for leased, error in results:
        if error is None:
            sent.append(leased)
        elif isinstance(error, Outcome):  # only ever Outcome.RELEASED: handed back untried
            released.append(leased)
        else:
            failed.append((leased, error))
    recorded: list[tuple[Claim, Outcome]] = []
    leased_next: list[Claim] = []
    if sent:
        recorded, leased_next = _record_sent(kind, sent, room=room, drain=drain)
        room -= len({kind.line_of(c.item) for c in leased_next})
    others: list[tuple[Claim, Outcome]] = []
    if failed or released:
        signals: list[Callable[[], None]] = []
        with transaction.atomic(using=router.db_for_write(kind.model)):  # one commit for them all
            for leased, error in failed:
                # AccessTokenError here means the client's own refresh-and-repeat failed too.
                permanent = isinstance(error, PermanentError)
                others.append(
                    (leased, _record_failure(kind, leased, error, permanent=permanent, later=signals))
                )
            others.extend(_release(kind, released))
        for send in signals:
            send()
    # A line whose item failed for good, or whose items were handed back, is looked at
    # again: where its first item is among them, it is leased afresh.
    going = {kind.line_of(c.item) for c in leased_next}
    moved = list(dict.fromkeys(kind.line_of(c.item) for c, o in others if o in LINE_MOVED))
    moved = [pk for pk in moved if pk not in going]
    if room > 0 and (moved or (drain and not sent)):
        lease = new_lease()
        _, items = storage_for(kind).settle([], moved, room, drain=drain and not sent, lease=lease)
        leased_next += claims_of(items)
    return recorded + others, leased_next


def _record_sent(
    kind: OutboxKind, sent: list[Claim], *, room: int, drain: bool
) -> tuple[list[tuple[Claim, Outcome]], list[Claim]]:
    """Mark these sent and, with ``room``, lease what follows them (and, with ``drain``, any
    due items): one statement on PostgreSQL."""
    lease = new_lease()
    follow = list(dict.fromkeys(kind.line_of(c.item) for c in sent)) if room > 0 else []
    marked, items = storage_for(kind).settle(sent, follow, room, drain=drain, lease=lease)
    recorded: list[tuple[Claim, Outcome]] = []
    for leased in sent:
        if leased.item.pk not in marked:
            recorded.append((leased, _lost(kind, leased)))
            continue
        item = leased.item
        # The row now holds exactly this: no need to read it back.
        for name, value in {**_SENT_FIELDS, "sent_at": lease.now, "updated_at": lease.now}.items():
            setattr(item, name, value)
        item.attempts += 1
        logger.info("%s reached WeChat.", kind.describe(item, capital=True))
        send_signal(kind, kind.sent_signal, **kind.signal_kwargs(item))
        recorded.append((leased, Outcome.SENT))
    return recorded, claims_of(items)


def _record_failure(
    kind: OutboxKind,
    leased: Claim,
    exc: WeChatError,
    *,
    permanent: bool,
    later: list[Callable[[], None]] | None = None,
) -> Outcome:
    """Record a failed call. With ``later``, the signal is left in it, to be sent once the
    caller's transaction is committed."""
    item = leased.item
    attempts = item.attempts + 1
    give_up = permanent or attempts >= wx_settings.MAX_ATTEMPTS
    now = timezone.now()
    # Redacted whole before the cut: a secret cut in two could no longer be recognised.
    errmsg = redact(str(exc), *secret_values(item, getattr(item, kind.line)))[: kind.errmsg_max_length]
    if give_up:
        fields: dict[str, Any] = {"state": EventState.FAILED}
    else:
        delay = retry_seconds(kind, exc, attempts)
        fields = {"state": EventState.PENDING, "next_attempt_at": now + timedelta(seconds=delay)}
    fields.update(
        lease_expires_at=None,
        claim_id=None,
        attempts=attempts,
        last_errcode=exc.errcode,
        last_errmsg=errmsg,
        updated_at=now,
    )
    mine = kind.model._default_manager.filter(pk=item.pk, state=EventState.SENDING, claim_id=leased.claim_id)
    if not mine.update(**fields):
        return _lost(kind, leased)
    for name, value in fields.items():
        setattr(item, name, value)
    noun = kind.name_of(item.pk, capital=True)
    if not give_up:
        logger.warning(
            "%s: attempt %d of %d failed (%s); retrying in %.1f s.",
            noun,
            attempts,
            wx_settings.MAX_ATTEMPTS,
            errmsg,
            (fields["next_attempt_at"] - now).total_seconds(),
        )
        return Outcome.RETRY
    logger.error("%s failed after %d attempt(s): %s", noun, attempts, errmsg)
    kwargs = {**kind.signal_kwargs(item), "error": exc}
    if later is None:
        send_signal(kind, kind.failed_signal, **kwargs)
    else:
        later.append(lambda: send_signal(kind, kind.failed_signal, **kwargs))
    return Outcome.FAILED


def _release(kind: OutboxKind, claims: list[Claim]) -> list[tuple[Claim, Outcome]]:
    """Hand chained items back untried: pending again, due as they were, no attempt counted."""
    by_claim: dict[UUID, list[int]] = {}
    for leased in claims:
        by_claim.setdefault(leased.claim_id, []).append(leased.item.pk)
    now = timezone.now()
    for claim_id, ids in by_claim.items():
        kind.model._default_manager.filter(pk__in=ids, state=EventState.SENDING, claim_id=claim_id).update(
            state=EventState.PENDING, lease_expires_at=None, claim_id=None, updated_at=now
        )
    for leased in claims:
        leased.item.state, leased.item.lease_expires_at, leased.item.claim_id = EventState.PENDING, None, None
    return [(leased, Outcome.RELEASED) for leased in claims]


def _lost(kind: OutboxKind, leased: Claim) -> Outcome:
    logger.warning(
        "%s: the lease expired before the push finished; another worker took it over.",
        kind.name_of(leased.item.pk, capital=True),
    )
    return Outcome.LOST


def send_signal(kind: OutboxKind, signal: Signal, **kwargs: Any) -> None:
    """Send ``signal`` for an item of ``kind``; a receiver's bug must not turn a recorded
    outcome into a task failure."""
    for receiver, result in signal.send_robust(sender=kind.model, **kwargs):
        if isinstance(result, Exception):
            logger.error("Receiver %r of a delivery signal raised %s.", receiver, type(result).__name__)

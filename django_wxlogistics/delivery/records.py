"""Recording what the calls did, and leasing what follows the items recorded (settle).

The successes are recorded first: until WeChat's acceptance is in the database, a killed
worker means a copy, so nothing waits in front of it. Failures and items handed back
follow, together in one transaction (one statement on PostgreSQL, by primary key). Every
write is conditional on the item's claim id: a worker whose claim was lost (and whose item
another worker took over) changes nothing.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

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
from .storage import Failure, storage_for

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
    follow, together in one more (elsewhere in one transaction), and the lines they moved
    are leased in a third.
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
    others = _record_failures(kind, failed, released) if failed or released else []
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
        if kind.after_sent is not None:
            _after_sent(kind, item)
        send_signal(kind, kind.sent_signal, **kind.signal_kwargs(item))
        recorded.append((leased, Outcome.SENT))
    return recorded, claims_of(items)


def _record_failures(
    kind: OutboxKind, failed: list[tuple[Claim, WeChatError]], released: list[Claim]
) -> list[tuple[Claim, Outcome]]:
    """Record failed calls and hand chained items back untried (pending again, due as they
    were, no attempt counted), in one transaction; the failed signals once it is committed."""
    now = timezone.now()
    records = [_failure(kind, leased, error, now) for leased, error in failed]
    with transaction.atomic(using=router.db_for_write(kind.model)):  # one commit for them all
        recorded = storage_for(kind).hand_back(records, released, now)
    signals: list[Callable[[], None]] = []
    outcomes = [
        (
            record.claim,
            _failed(kind, record, error, now, later=signals)
            if record.claim.item.pk in recorded
            else _lost(kind, record.claim),
        )
        for record, (_, error) in zip(records, failed, strict=True)
    ]
    for send in signals:
        send()
    for leased in released:
        leased.item.state, leased.item.lease_expires_at, leased.item.claim_id = EventState.PENDING, None, None
    return outcomes + [(leased, Outcome.RELEASED) for leased in released]


def _failure(kind: OutboxKind, leased: Claim, exc: WeChatError, now: datetime) -> Failure:
    """What a failed call makes of its item: a retry after its delay, or, when the error is
    permanent (AccessTokenError here means the client's own refresh-and-repeat failed too)
    or the attempts are used up, failed for good."""
    item = leased.item
    attempts = item.attempts + 1
    give_up = isinstance(exc, PermanentError) or attempts >= wx_settings.MAX_ATTEMPTS
    # Redacted whole before the cut: a secret cut in two could no longer be recognised.
    errmsg = redact(str(exc), *secret_values(item, getattr(item, kind.line)))[: kind.errmsg_max_length]
    return Failure(
        claim=leased,
        state=(EventState.FAILED if give_up else EventState.PENDING).value,
        attempts=attempts,
        next_attempt_at=None if give_up else now + timedelta(seconds=retry_seconds(kind, exc, attempts)),
        errcode=exc.errcode,
        errmsg=errmsg,
    )


def _failed(
    kind: OutboxKind, record: Failure, exc: WeChatError, now: datetime, *, later: list[Callable[[], None]]
) -> Outcome:
    """A recorded failure on the item in hand, logged; the failed signal left in ``later``."""
    item = record.claim.item
    fields: dict[str, Any] = {
        "state": record.state,
        "lease_expires_at": None,
        "claim_id": None,
        "attempts": record.attempts,
        "last_errcode": record.errcode,
        "last_errmsg": record.errmsg,
        "updated_at": now,
    }
    if record.next_attempt_at is not None:
        fields["next_attempt_at"] = record.next_attempt_at
    for name, value in fields.items():
        setattr(item, name, value)
    noun = kind.name_of(item.pk, capital=True)
    if record.state == EventState.PENDING:
        logger.warning(
            "%s: attempt %d of %d failed (%s); retrying in %.1f s.",
            noun,
            record.attempts,
            wx_settings.MAX_ATTEMPTS,
            record.errmsg,
            (item.next_attempt_at - now).total_seconds(),
        )
        return Outcome.RETRY
    logger.error("%s failed after %d attempt(s): %s", noun, record.attempts, record.errmsg)
    kwargs = {**kind.signal_kwargs(item), "error": exc}
    later.append(lambda: send_signal(kind, kind.failed_signal, **kwargs))
    return Outcome.FAILED


def _lost(kind: OutboxKind, leased: Claim) -> Outcome:
    logger.warning(
        "%s: the lease expired before the push finished; another worker took it over.",
        kind.name_of(leased.item.pk, capital=True),
    )
    return Outcome.LOST


def _after_sent(kind: OutboxKind, item: Any) -> None:
    """The kind's follow-up of a sent item; its failure must not undo the record of the send."""
    assert kind.after_sent is not None
    try:
        kind.after_sent(item)
    except Exception as exc:
        logger.error(
            "%s was sent; what follows stopped with %s.",
            kind.name_of(item.pk, capital=True),
            type(exc).__name__,
        )


def send_signal(kind: OutboxKind, signal: Signal, **kwargs: Any) -> None:
    """Send ``signal`` for an item of ``kind``; a receiver's bug must not turn a recorded
    outcome into a task failure."""
    for receiver, result in signal.send_robust(sender=kind.model, **kwargs):
        if isinstance(result, Exception):
            logger.error("Receiver %r of a delivery signal raised %s.", receiver, type(result).__name__)

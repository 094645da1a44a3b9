"""Getting one trace event to WeChat: claim it, push it, record what happened.

The database is the source of truth; a broker message only says "look at event N now".

States::

    pending ──claim──▶ sending ──ok──────────▶ sent
       ▲                  │ ├──transient──────▶ pending (attempts+1, next_attempt_at later)
       │                  │ └──permanent / attempts exhausted ──▶ failed
       └──lease expired───┘  (the worker died mid-push; the sweeper hands it back)

Order: an event is claimed only when no earlier event of its waybill (by ``action_time``,
then id) is ``pending`` or ``sending``. A ``failed`` event does not hold the later ones
back: they still go, in order, and the failed one waits for an operator.

Every write after the claim is conditional on the lease the claim set, so a worker whose
lease expired (and whose event another worker took over) cannot overwrite the outcome.
"""

from __future__ import annotations

import enum
import logging
import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.checks import CheckMessage, Warning
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from .conf import wx_settings
from .enums import EventState
from .exceptions import AccessTokenError, PermanentError, TransientError, WeChatError
from .models import TraceEvent, Waybill
from .signals import trace_event_failed, trace_event_pushed

logger = logging.getLogger("django_wxlogistics.delivery")

#: States in which an event still holds back the later events of its waybill.
UNSENT = (EventState.PENDING, EventState.SENDING)

#: The most events one sweep reclaims and the most it nudges.
SWEEP_BATCH = 500

ERRMSG_MAX_LENGTH = TraceEvent._meta.get_field("last_errmsg").max_length or 512
LEASE_EXPIRED_MSG = "The worker pushing this event stopped before it finished (lease expired)."


class Outcome(str, enum.Enum):
    """What one delivery attempt did."""

    SENT = "sent"
    RETRY = "retry"  # transient failure: back to pending, with backoff
    FAILED = "failed"  # permanent failure or attempts exhausted
    SKIPPED = "skipped"  # not claimable now: claimed, done, not due, or behind an earlier event
    LOST = "lost"  # the lease expired during the push; another worker owns the event now


@dataclass(frozen=True)
class Claim:
    """An event leased to this worker until ``lease``; the lease value is the claim's proof."""

    event: TraceEvent
    lease: datetime


@dataclass
class SweepResult:
    reclaimed: int = 0
    failed: int = 0
    nudged: int = 0


def earlier_unsent_event() -> Exists:
    """True for an event whose waybill has an earlier event still pending or sending."""
    return Exists(
        TraceEvent.objects.filter(waybill_id=OuterRef("waybill_id"), state__in=UNSENT).filter(
            Q(action_time__lt=OuterRef("action_time"))
            | Q(action_time=OuterRef("action_time"), pk__lt=OuterRef("pk"))
        )
    )


def backoff_seconds(attempts: int) -> float:
    """Full jitter: uniform between 0 and ``min(cap, base * 2**attempts)``."""
    base = float(wx_settings.RETRY_BACKOFF_BASE)
    cap = float(wx_settings.RETRY_BACKOFF_CAP)
    return random.uniform(0, min(cap, base * 2 ** min(attempts, 62)))


def claim(event_id: int) -> Claim | None:
    """Lease a due, pending event that is first in its waybill's line; None if it is not."""
    now = timezone.now()
    lease = now + timedelta(seconds=wx_settings.LEASE_SECONDS)
    claimed = (
        TraceEvent.objects.filter(pk=event_id, state=EventState.PENDING, next_attempt_at__lte=now)
        .filter(~earlier_unsent_event())
        .update(state=EventState.SENDING, lease_expires_at=lease, updated_at=now)
    )
    if not claimed:
        return None
    event = TraceEvent.objects.select_related("waybill").get(pk=event_id)
    return Claim(event=event, lease=lease)


def deliver(event_id: int, *, nudge_next: bool = True) -> Outcome:
    """Claim event ``event_id``, push it to WeChat and record the outcome.

    Idempotent: for an event that is already claimed, sent, failed or not due, it does
    nothing and returns ``Outcome.SKIPPED``. With ``nudge_next``, once the event is done the
    next event of its waybill is nudged at once rather than left for the sweeper.
    """
    leased = claim(event_id)
    if leased is None:
        return Outcome.SKIPPED
    outcome = push(leased)
    if nudge_next and outcome in (Outcome.SENT, Outcome.FAILED):
        next_id = next_due_event_id(leased.event.waybill_id)
        if next_id is not None:
            from .services import nudge

            nudge([next_id])
    return outcome


def push(leased: Claim) -> Outcome:
    """Push a claimed event with ``update_path`` and record what happened."""
    from .client import get_client

    event = leased.event
    waybill = event.waybill
    try:
        get_client().update_path(
            waybill.token,
            waybill.waybill_id,
            int(event.action_time.timestamp()),
            int(event.action_type),
            event.action_msg,
        )
    except PermanentError as exc:
        return _record_failure(leased, exc, permanent=True)
    except (TransientError, AccessTokenError, WeChatError) as exc:
        # AccessTokenError here means the client's own refresh-and-repeat failed too.
        return _record_failure(leased, exc, permanent=False)
    except Exception as exc:
        # Not the client's own error: keep the event, never the message (it may hold a URL).
        logger.error(
            "Unexpected %s while pushing trace event %s; it will be retried.", type(exc).__name__, event.pk
        )
        return _record_failure(
            leased, WeChatError(errmsg=f"Unexpected {type(exc).__name__}"), permanent=False
        )
    return _record_sent(leased)


def _mine(leased: Claim) -> Any:
    return TraceEvent.objects.filter(
        pk=leased.event.pk, state=EventState.SENDING, lease_expires_at=leased.lease
    )


def _record_sent(leased: Claim) -> Outcome:
    event = leased.event
    now = timezone.now()
    with transaction.atomic():
        updated = _mine(leased).update(
            state=EventState.SENT,
            sent_at=now,
            lease_expires_at=None,
            attempts=F("attempts") + 1,
            last_errcode=None,
            last_errmsg="",
            updated_at=now,
        )
        if not updated:
            return _lost(leased)
        # The latest sent action by action_time: a late-recorded older event does not win.
        later_sent = TraceEvent.objects.filter(waybill_id=OuterRef("pk"), state=EventState.SENT).filter(
            Q(action_time__gt=event.action_time) | Q(action_time=event.action_time, pk__gt=event.pk)
        )
        Waybill.objects.filter(pk=event.waybill_id).filter(~Exists(later_sent)).update(
            latest_action_type=event.action_type, updated_at=now
        )
    # The row now holds exactly this: no need to read it back.
    event.state, event.sent_at, event.lease_expires_at = EventState.SENT, now, None
    event.attempts, event.last_errcode, event.last_errmsg, event.updated_at = (
        event.attempts + 1,
        None,
        "",
        now,
    )
    logger.info("Trace event %s of waybill %s reached WeChat.", event.pk, event.waybill.waybill_id)
    _send(trace_event_pushed, event=event, waybill=event.waybill)
    return Outcome.SENT


def _record_failure(leased: Claim, exc: WeChatError, *, permanent: bool) -> Outcome:
    event = leased.event
    attempts = event.attempts + 1
    give_up = permanent or attempts >= wx_settings.MAX_ATTEMPTS
    now = timezone.now()
    errmsg = str(exc)[:ERRMSG_MAX_LENGTH]
    if give_up:
        fields: dict[str, Any] = {"state": EventState.FAILED}
    else:
        delay = backoff_seconds(attempts - 1)
        fields = {"state": EventState.PENDING, "next_attempt_at": now + timedelta(seconds=delay)}
    fields.update(
        lease_expires_at=None, attempts=attempts, last_errcode=exc.errcode, last_errmsg=errmsg, updated_at=now
    )
    if not _mine(leased).update(**fields):
        return _lost(leased)
    for name, value in fields.items():
        setattr(event, name, value)
    if not give_up:
        logger.warning(
            "Trace event %s: attempt %d of %d failed (%s); retrying in %.1f s.",
            event.pk,
            attempts,
            wx_settings.MAX_ATTEMPTS,
            errmsg,
            (fields["next_attempt_at"] - now).total_seconds(),
        )
        return Outcome.RETRY
    logger.error("Trace event %s failed after %d attempt(s): %s", event.pk, attempts, errmsg)
    _send(trace_event_failed, event=event, waybill=event.waybill, error=exc)
    return Outcome.FAILED


def _lost(leased: Claim) -> Outcome:
    logger.warning(
        "Trace event %s: the lease expired before the push finished; another worker took it over.",
        leased.event.pk,
    )
    return Outcome.LOST


def _send(signal: Any, **kwargs: Any) -> None:
    # A receiver's bug must not turn a recorded outcome into a task failure.
    for receiver, result in signal.send_robust(sender=TraceEvent, **kwargs):
        if isinstance(result, Exception):
            logger.error("Receiver %r of a delivery signal raised %s.", receiver, type(result).__name__)


def next_due_event_id(waybill_pk: int) -> int | None:
    """The id of the waybill's first pending event if it is due now, else None."""
    head = (
        TraceEvent.objects.filter(waybill_id=waybill_pk, state__in=UNSENT)
        .order_by("action_time", "pk")
        .values_list("pk", "state", "next_attempt_at")
        .first()
    )
    if head is None or head[1] != EventState.PENDING or head[2] > timezone.now():
        return None
    return int(head[0])


def reclaim_expired_leases(limit: int = SWEEP_BATCH) -> tuple[int, int]:
    """Hand events whose worker died mid-push back to pending (or fail them when their
    attempts are used up). Returns (reclaimed, failed)."""
    now = timezone.now()
    ids = list(
        TraceEvent.objects.filter(state=EventState.SENDING, lease_expires_at__lt=now)
        .order_by("lease_expires_at")
        .values_list("pk", flat=True)[:limit]
    )
    if not ids:
        return 0, 0
    # Still expired: an event reclaimed and claimed again in between has a new, future lease.
    expired = TraceEvent.objects.filter(pk__in=ids, state=EventState.SENDING, lease_expires_at__lt=now)
    common: dict[str, Any] = {
        "lease_expires_at": None,
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
        failed = TraceEvent.objects.filter(pk__in=exhausted).update(state=EventState.FAILED, **common)
        reclaimed = expired.exclude(pk__in=exhausted).update(
            state=EventState.PENDING, next_attempt_at=now, **common
        )
    for event in TraceEvent.objects.filter(pk__in=exhausted).select_related("waybill"):
        logger.error("Trace event %s failed: %s", event.pk, LEASE_EXPIRED_MSG)
        _send(trace_event_failed, event=event, waybill=event.waybill, error=None)
    if reclaimed:
        logger.warning("Reclaimed %d trace event(s) whose worker stopped mid-push.", reclaimed)
    return reclaimed, failed


def due_head_event_ids(limit: int = SWEEP_BATCH, waybill_pks: Iterable[int] | None = None) -> list[int]:
    """Pending events whose time has come and that are first in their waybill's line."""
    events = TraceEvent.objects.filter(state=EventState.PENDING, next_attempt_at__lte=timezone.now())
    if waybill_pks is not None:
        events = events.filter(waybill_id__in=list(waybill_pks))
    return list(
        events.filter(~earlier_unsent_event())
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def sweep(limit: int = SWEEP_BATCH) -> SweepResult:
    """Reclaim expired leases, then nudge the due events at the head of each waybill's line."""
    from .services import nudge

    reclaimed, failed = reclaim_expired_leases(limit)
    ids = due_head_event_ids(limit)
    nudge(ids)
    return SweepResult(reclaimed=reclaimed, failed=failed, nudged=len(ids))


# -- system checks (wxlogistics.W020-W029; the lease against TIMEOUT is the client's W010) --


def _positive(value: Any) -> float | None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0
    return float(value) if ok else None


def check_delivery_settings() -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    lease = _positive(wx_settings.LEASE_SECONDS)
    base, cap = _positive(wx_settings.RETRY_BACKOFF_BASE), _positive(wx_settings.RETRY_BACKOFF_CAP)
    if base is not None and cap is not None and cap < base:
        messages.append(
            Warning(
                f"WXLOGISTICS['RETRY_BACKOFF_CAP'] ({cap:g}) is smaller than RETRY_BACKOFF_BASE ({base:g}).",
                hint="The cap bounds the longest wait between two attempts; make it larger than the base.",
                id="wxlogistics.W020",
            )
        )
    if cap is not None and cap > 3600:
        messages.append(
            Warning(
                f"WXLOGISTICS['RETRY_BACKOFF_CAP'] is {cap:g} s: after WeChat recovers, an event could "
                "wait more than an hour for its next attempt.",
                hint="Keep the cap at a few minutes (the default is 600); MAX_ATTEMPTS bounds the total.",
                id="wxlogistics.W021",
            )
        )
    visibility = _positive(_broker_visibility_timeout())
    if visibility is not None and lease is not None and visibility <= lease:
        messages.append(
            Warning(
                f"The broker's visibility_timeout ({visibility:g} s) is not longer than "
                f"WXLOGISTICS['LEASE_SECONDS'] ({lease:g} s): the broker would hand a message to a "
                "second worker while the first is still pushing its event.",
                hint='Set CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}.',
                id="wxlogistics.W022",
            )
        )
    return messages


def _broker_visibility_timeout() -> Any:
    try:
        from celery import current_app

        return (current_app.conf.broker_transport_options or {}).get("visibility_timeout")
    except Exception:  # no usable Celery app: nothing to compare
        return None

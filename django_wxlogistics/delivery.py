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

A task works on several events at once (:func:`deliver_many`): it claims the events of its
message together, keeps ``PUSH_CONCURRENCY`` calls in flight with more leased events queued
behind them, and, as calls come back, records the successes and leases each finished
waybill's next event (:func:`settle`: one statement on PostgreSQL). With ``PUSH_DRAIN``,
free slots also take any due event (:func:`claim_due`).

Chains: a claim leases a waybill's first event together with up to ``PUSH_CHAIN - 1`` due
events that follow it. They go one after the other, each once the one before is recorded
``sent`` (or ``failed``), without a new claim or a trip through the broker. Waiting for the
record keeps the order rule true in the database: a worker killed mid-chain leaves at most
the event of its call in flight to be pushed again, never an earlier one after a later.
A calling thread is not held while it waits: it makes the next call queued. A transient
failure stops the chain: the events behind it go back to pending untried (``RELEASED``).
An event after the first goes only if its lease outlasts the longest push; if not, it and
the rest of its chain go back too, and are leased again afresh.
"""

from __future__ import annotations

import enum
import itertools
import logging
import os
import queue
import random
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.checks import CheckMessage, Warning
from django.db import router, transaction
from django.db.models import F, OuterRef, Q, Subquery, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from . import delivery_sql
from .conf import wx_settings
from .enums import EventState
from .exceptions import PermanentError, WeChatError
from .models import TraceEvent, Waybill
from .signals import trace_event_failed, trace_event_pushed

logger = logging.getLogger("django_wxlogistics.delivery")

#: States in which an event still holds back the later events of its waybill.
UNSENT = (EventState.PENDING, EventState.SENDING)

#: The most events one sweep reclaims and the most it nudges.
SWEEP_BATCH = 500

#: How long one task goes on with the next events of the waybills it pushed before it
#: leaves them to other workers (a nudge): long chains must not hold one worker forever.
FOLLOW_SECONDS = 10.0

#: How long the first answer of a group of calls waits for the others, to be recorded with them.
COALESCE_SECONDS = 0.003

ERRMSG_MAX_LENGTH = TraceEvent._meta.get_field("last_errmsg").max_length or 512
LEASE_EXPIRED_MSG = "The worker pushing this event stopped before it finished (lease expired)."


class Outcome(str, enum.Enum):
    """What one delivery attempt did."""

    SENT = "sent"
    RETRY = "retry"  # transient failure: back to pending, with backoff
    FAILED = "failed"  # permanent failure or attempts exhausted
    SKIPPED = "skipped"  # not claimable now: claimed, done, not due, or behind an earlier event
    LOST = "lost"  # the lease expired during the push; another worker owns the event now
    RELEASED = "released"  # leased in a chain, handed back untried (see the module's docstring)


#: What a calling thread reports for one event: None when WeChat took it, the error, or
#: ``Outcome.RELEASED`` when it hands the event back untried.
Result = WeChatError | Outcome | None

#: Outcomes after which a waybill's line is looked at again for what comes next.
LINE_MOVED = (Outcome.SENT, Outcome.FAILED, Outcome.RELEASED)


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


def head_of_line() -> Q:
    """True for an unsent event that is first in its waybill's line (by action_time, then id).

    Written as "the first unsent event of my waybill is me" rather than "no earlier event is
    unsent": the planner runs it as one probe of ``wxl_event_unsent_idx`` per row whatever
    its statistics say, where the anti-join form can turn into a scan of every unsent event
    for every candidate (seconds for a backlog of a few thousand, before autovacuum has
    counted it).
    """
    first = (
        TraceEvent.objects.filter(waybill_id=OuterRef("waybill_id"), state__in=UNSENT)
        .order_by("action_time", "pk")
        .values("pk")[:1]
    )
    return Q(pk=Subquery(first))


def backoff_seconds(attempts: int) -> float:
    """Full jitter: uniform between 0 and ``min(cap, base * 2**attempts)``."""
    base = float(wx_settings.RETRY_BACKOFF_BASE)
    cap = float(wx_settings.RETRY_BACKOFF_CAP)
    return random.uniform(0, min(cap, base * 2 ** min(attempts, 62)))


def claim(event_id: int) -> Claim | None:
    """Lease a due, pending event that is first in its waybill's line; None if it is not.

    This event alone: no chain follows it.
    """
    claims = _claim("id", [int(event_id)], chain=1)
    return claims[0] if claims else None


def claim_many(event_ids: Iterable[int]) -> list[Claim]:
    """Lease those of ``event_ids`` that are due, pending and first in their waybill's line,
    each with its chain: up to ``PUSH_CHAIN - 1`` due events that follow it in its line.

    One statement on PostgreSQL (``UPDATE … RETURNING``), three or four elsewhere (a
    conditional UPDATE, a look at what follows, the chains' UPDATE, a SELECT of what was
    leased), however many events. The lease value, shared by the events leased together,
    is the proof of the claim. The claims come in line order (action_time, then id).
    """
    ids = list(dict.fromkeys(int(pk) for pk in event_ids))
    return _claim("id", ids) if ids else []


def claim_next(waybill_pks: Iterable[int]) -> list[Claim]:
    """Lease the first event of each of these waybills, where it is pending and due, with
    its chain."""
    pks = list(dict.fromkeys(int(pk) for pk in waybill_pks))
    return _claim("waybill_id", pks) if pks else []


def claim_due(limit: int) -> list[Claim]:
    """Lease up to ``limit`` due events first in their waybill's line, whichever they are.

    What a task with free slots takes once its own events are under way: events whose
    message still waits in the broker's queue, or whose retry has come due. That message
    then finds its event claimed or sent and does nothing.
    """
    if limit < 1:
        return []
    now = timezone.now()
    lease = _lease(now)
    if delivery_sql.usable():
        chain = _chain_length()
        _, events = delivery_sql.settle([], [], limit, drain=True, now=now, lease=lease, chain=chain)
        return [Claim(event=event, lease=lease) for event in events]
    # Elsewhere: pick, then claim by id; the claim checks every condition again, so an event
    # another worker took in between is simply not leased here.
    picked = list(
        TraceEvent.objects.filter(state=EventState.PENDING, next_attempt_at__lte=now)
        .filter(head_of_line())
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    return claim_many(picked)


def _lease(now: datetime) -> datetime:
    # The random microseconds keep two claims made in the same instant apart.
    return now + timedelta(seconds=wx_settings.LEASE_SECONDS, microseconds=random.randrange(1000))


def _claim(key: str, keys: list[int], chain: int | None = None) -> list[Claim]:
    now = timezone.now()
    lease = _lease(now)
    chain = _chain_length() if chain is None else chain
    if delivery_sql.usable():
        leased_events = delivery_sql.claim(key, keys, now, lease, chain=chain)
        return [Claim(event=event, lease=lease) for event in leased_events]
    events = TraceEvent.objects.filter(**{f"{key}__in": keys})
    claimed = (
        events.filter(state=EventState.PENDING, next_attempt_at__lte=now)
        .filter(head_of_line())
        .update(state=EventState.SENDING, lease_expires_at=lease, updated_at=now)
    )
    if not claimed:
        return []
    if chain > 1:
        _lease_chains(events.filter(state=EventState.SENDING, lease_expires_at=lease), lease, now, chain)
    leased = (
        TraceEvent.objects.filter(state=EventState.SENDING, lease_expires_at=lease)
        .select_related("waybill")
        .order_by("action_time", "pk")
    )
    return [Claim(event=event, lease=lease) for event in leased]


def _lease_chains(heads: Any, lease: datetime, now: datetime, chain: int) -> None:
    """Lease, under the heads' own lease, the due events that follow each head in its line.

    The ORM path of the chains :mod:`delivery_sql` leases in its one statement. Nobody else
    can lease these events meanwhile: each stands behind a head this lease holds.
    """
    ranked = (
        TraceEvent.objects.filter(waybill_id__in=heads.values("waybill_id"), state__in=UNSENT)
        .annotate(
            rank=Window(RowNumber(), partition_by=[F("waybill_id")], order_by=[F("action_time"), F("pk")])
        )
        .filter(rank__lte=chain)
        .order_by("waybill_id", "rank")
        .values_list("pk", "waybill_id", "state", "lease_expires_at", "next_attempt_at")
    )
    picked: list[int] = []
    open_lines: set[int] = set()
    for pk, waybill_pk, state, held, due_at in ranked:
        if state == EventState.SENDING:  # the head (or another lease's event: the line stops)
            if held == lease:
                open_lines.add(waybill_pk)
            else:
                open_lines.discard(waybill_pk)
        elif waybill_pk in open_lines and due_at <= now:
            picked.append(pk)
        else:
            open_lines.discard(waybill_pk)
    if picked:
        TraceEvent.objects.filter(pk__in=picked, state=EventState.PENDING).update(
            state=EventState.SENDING, lease_expires_at=lease, updated_at=now
        )


def deliver(event_id: int, *, nudge_next: bool = True) -> Outcome:
    """Claim event ``event_id``, push it to WeChat and record the outcome.

    Idempotent: for an event that is already claimed, sent, failed or not due, it does
    nothing and returns ``Outcome.SKIPPED``. With ``nudge_next``, once the event is done the
    next events of its waybill follow in this process rather than waiting for the sweeper.
    """
    return deliver_many([event_id], follow=nudge_next).get(int(event_id), Outcome.SKIPPED)


def deliver_many(event_ids: Iterable[int], *, follow: bool = True, drain: bool = False) -> dict[int, Outcome]:
    """Push these events, up to ``PUSH_CONCURRENCY`` calls to WeChat at once; their outcomes.

    Events that cannot be claimed (done, leased, not due, behind an earlier one) are
    ``SKIPPED``. Outcomes are recorded as the calls come back, several in one statement.
    With ``follow``, each finished event makes room for the next of its waybill, in this
    process, for up to :data:`FOLLOW_SECONDS`; what is left then is nudged to other workers.
    With ``drain`` too (the Celery tasks, when ``PUSH_DRAIN`` is on), slots that are still
    free once these events are under way take any due events (:func:`claim_due`), so a
    backlog keeps every slot busy.
    The outcomes returned are those of ``event_ids``, and of what followed or was drained.
    """
    waiting = list(dict.fromkeys(int(pk) for pk in event_ids))
    outcomes: dict[int, Outcome] = {}
    if not waiting:
        return outcomes
    width = _concurrency()
    # Chains in hand: three queued behind each call in flight, so that a calling thread that
    # finishes starts the next call at once, without waiting for this thread to record and
    # claim, while the chains whose events are being recorded wait; and one message's heads
    # are all leased in one statement.
    depth = message_size() if width > 1 else 1
    follow_until = time.monotonic() + FOLLOW_SECONDS
    left: set[int] = set()  # waybills whose next events are left to other workers
    _warm_access_token(len(waiting))
    with _Pusher(width) as pusher:
        while waiting or pusher.in_flight:
            room = depth - pusher.in_flight
            if waiting and room > 0:
                batch, waiting = waiting[:room], waiting[room:]
                claims = claim_many(batch)
                claimed = {c.event.pk for c in claims}
                outcomes.update((pk, Outcome.SKIPPED) for pk in batch if pk not in claimed)
                pusher.start(claims)
            if not pusher.in_flight:
                continue
            results = pusher.finished()
            refill = follow and time.monotonic() < follow_until
            finished, claims = settle(
                results,
                room=depth - pusher.in_flight if refill else 0,
                drain=drain and not waiting,
            )
            outcomes.update((c.event.pk, outcome) for c, outcome in finished)
            pusher.recorded(finished)
            pusher.start(claims)
            if follow and not refill:
                left.update(c.event.waybill_id for c, o in finished if o in LINE_MOVED)
    if left:
        # Once every call is recorded: nothing on the broker's side (a publish, a reconnect
        # after a broker restart) may hold up the record of calls WeChat already took.
        from .services import nudge

        nudge(due_head_event_ids(waybill_pks=left))
    return outcomes


def push(leased: Claim) -> Outcome:
    """Push one claimed event with ``update_path`` and record what happened."""
    return record_outcomes([(leased, _call(leased))])[0][1]


def _call(leased: Claim) -> WeChatError | None:
    """The push itself: None when WeChat took the event, else the error (never raised)."""
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
    except WeChatError as exc:
        return exc
    except Exception as exc:
        # Not the client's own error: keep the event, never the message (it may hold a URL).
        logger.error(
            "Unexpected %s while pushing trace event %s; it will be retried.", type(exc).__name__, event.pk
        )
        return WeChatError(errmsg=f"Unexpected {type(exc).__name__}")
    return None


def record_outcomes(results: Iterable[tuple[Claim, Result]]) -> list[tuple[Claim, Outcome]]:
    """Record what the calls did: the successes in one statement, failures one by one."""
    return settle(results)[0]


def settle(
    results: Iterable[tuple[Claim, Result]], *, room: int = 0, drain: bool = False
) -> tuple[list[tuple[Claim, Outcome]], list[Claim]]:
    """Record what the calls did and lease what the ``room`` freed slots push next.

    Next comes the following event of each waybill whose event is done (sent or failed),
    or handed back untried, then, with ``drain``, due events of any waybill
    (:func:`claim_due`). The successes go first: until WeChat's acceptance is recorded, a
    killed worker means a copy, so nothing waits in front of it. On PostgreSQL the successes
    and the leases after them are one statement; failures and events handed back follow,
    together in one transaction, and the lines they moved are leased in one more statement.
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
        recorded, leased_next = _record_sent(sent, room=room, drain=drain)
        room -= len({c.event.waybill_id for c in leased_next})
    others: list[tuple[Claim, Outcome]] = []
    if failed or released:
        signals: list[Callable[[], None]] = []
        with transaction.atomic(using=_db()):  # one commit for them all
            for leased, error in failed:
                # AccessTokenError here means the client's own refresh-and-repeat failed too.
                permanent = isinstance(error, PermanentError)
                others.append((leased, _record_failure(leased, error, permanent=permanent, later=signals)))
            others.extend(_release(released))
        for send in signals:
            send()
    # A waybill whose event failed for good, or whose events were handed back, is looked at
    # again: where its first event is among them, it is leased afresh.
    going = {c.event.waybill_id for c in leased_next}
    moved = list(dict.fromkeys(c.event.waybill_id for c, o in others if o in LINE_MOVED))
    moved = [pk for pk in moved if pk not in going]
    if room > 0 and (moved or (drain and not sent)):
        leased_next += _lease_next(moved, room, drain=drain and not sent)
    return recorded + others, leased_next


def _db() -> str:
    return router.db_for_write(TraceEvent)


def _record_sent(
    sent: list[Claim], *, room: int, drain: bool
) -> tuple[list[tuple[Claim, Outcome]], list[Claim]]:
    """Mark these sent and, with ``room``, lease what follows them (and, with ``drain``, any
    due events): one statement on PostgreSQL."""
    if delivery_sql.usable():
        now = timezone.now()
        lease = _lease(now)
        marked, events = delivery_sql.settle(
            [(c.event.pk, c.lease) for c in sent],
            list(dict.fromkeys(c.event.waybill_id for c in sent)) if room > 0 else [],
            room,
            drain=drain,
            now=now,
            lease=lease,
            chain=_chain_length(),
        )
        return _sent_outcomes(sent, marked, now), [Claim(event=event, lease=lease) for event in events]
    recorded: list[tuple[Claim, Outcome]] = []
    by_lease: dict[datetime, list[Claim]] = {}
    for leased in sent:
        by_lease.setdefault(leased.lease, []).append(leased)
    for claims in by_lease.values():
        recorded.extend(_record_sent_many(claims))
    if room <= 0:
        return recorded, []
    done = [c.event.waybill_id for c, outcome in recorded if outcome is Outcome.SENT]
    return recorded, _lease_next(done, room, drain=drain)


def _lease_next(waybill_pks: list[int], room: int, *, drain: bool) -> list[Claim]:
    """Lease the first event of these waybills' lines, if due, with its chain; then, with
    ``drain`` and ``room`` left, any due events."""
    if delivery_sql.usable():
        now = timezone.now()
        lease = _lease(now)
        chain = _chain_length()
        _, events = delivery_sql.settle([], waybill_pks, room, drain=drain, now=now, lease=lease, chain=chain)
        return [Claim(event=event, lease=lease) for event in events]
    leased = claim_next(waybill_pks) if waybill_pks else []
    if drain and room > len(leased):
        leased += claim_due(room - len(leased))
    return leased


class _Pusher:
    """Calls to WeChat in flight for one task: in this thread when one is enough, else in a pool.

    The unit of work is a chain (a waybill's leased events, in order), one call at a time: a
    calling thread makes one call and reports it, and once this thread has recorded the
    outcome (:meth:`recorded`) the chain's next event goes back to the pool. A thread is
    never held waiting for a record; it takes the next call queued.
    """

    def __init__(self, width: int) -> None:
        self.width = width
        self._reports: queue.SimpleQueue[tuple[Claim, Result]] = queue.SimpleQueue()
        self._coming = 0  # reports that will come without this thread doing anything more
        # Chains under way: key → events not reported yet, and each leased event's chain key.
        # A waybill can have two: its first event, failed, leased again before the events
        # handed back behind it are reported.
        self._open: dict[int, int] = {}
        self._chain_of: dict[int, int] = {}
        self._rest: dict[int, list[Claim]] = {}  # what follows an event, once it is recorded
        self._keys = itertools.count()
        self._inline: list[tuple[Claim, Result]] = []

    def __enter__(self) -> _Pusher:
        return self

    def __exit__(self, *exc: object) -> None:
        # An error in between: the chains stop, and the outcomes of the calls under way are
        # lost (their leases expire; the sweeper hands them back).
        self._rest.clear()
        while self._coming:
            self._reports.get()
            self._coming -= 1
        self._open.clear()
        self._chain_of.clear()

    @property
    def in_flight(self) -> int:
        """Chains in hand: under way in a calling thread, or leased and queued for one."""
        return len(self._open) + len(self._inline)

    def start(self, claims: list[Claim]) -> None:
        chains = _chains(claims)
        if len(chains) == 1 and len(chains[0]) == 1 and not self._open:
            self._inline.append((chains[0][0], _call(chains[0][0])))  # no thread for a lone call
            return
        for chain in chains:
            key = next(self._keys)
            self._open[key] = len(chain)
            self._chain_of.update((id(leased), key) for leased in chain)
            self._submit(chain, first=True)

    def _submit(self, chain: list[Claim], *, first: bool) -> None:
        if len(chain) > 1:
            self._rest[id(chain[0])] = chain[1:]
        self._coming += 1
        _executor(self.width).submit(_push_in_pool, chain[0], first, self._reports.put)

    def finished(self) -> list[tuple[Claim, Result]]:
        """What has come back; waits for at least one report, then briefly for the others.

        Calls started together come back close together: recording them in one statement
        costs the database far less than one by one, and delays the record by milliseconds.
        """
        if self._inline:
            done, self._inline = self._inline, []
            return done
        reports = [self._reports.get()]
        until = time.monotonic() + COALESCE_SECONDS
        while len(reports) < self._coming:
            left = until - time.monotonic()
            if left <= 0:
                break
            try:
                reports.append(self._reports.get(timeout=left))
            except queue.Empty:
                break
        self._coming -= len(reports)
        for leased, _ in reports:
            key = self._chain_of.pop(id(leased))
            self._open[key] -= 1
            if not self._open[key]:
                del self._open[key]
        return reports

    def recorded(self, outcomes: Iterable[tuple[Claim, Outcome]]) -> None:
        """These outcomes are in the database: what follows each in its chain goes next.

        After a ``sent`` or ``failed`` event (a failed one does not hold the later ones
        back) the next event goes to a calling thread; after any other outcome the rest of
        the chain is handed back untried (``RELEASED``, reported like a call).
        """
        for leased, outcome in outcomes:
            rest = self._rest.pop(id(leased), None)
            if not rest:
                continue
            if outcome in (Outcome.SENT, Outcome.FAILED):
                self._submit(rest, first=False)
                continue
            for untried in rest:
                self._coming += 1
                self._reports.put((untried, Outcome.RELEASED))


def _chains(claims: list[Claim]) -> list[list[Claim]]:
    """Group claims into chains: the events of one waybill, in their line's order."""
    chains: dict[int, list[Claim]] = {}
    for leased in sorted(claims, key=lambda c: (c.event.action_time, c.event.pk)):
        chains.setdefault(leased.event.waybill_id, []).append(leased)
    return list(chains.values())


def push_next(leased: Claim, *, first: bool) -> Result:
    """Push one event of a chain: None when WeChat took it, the error, or ``RELEASED``.

    The first event of a chain goes whatever its lease says, as a lone event does (the
    lease against ``TIMEOUT`` is system check W010); an event after it goes only if its
    lease outlasts the longest push, and is handed back untried otherwise.
    """
    if not first and (leased.lease - timezone.now()).total_seconds() <= _longest_push():
        return Outcome.RELEASED
    return _call(leased)


def _push_in_pool(leased: Claim, first: bool, report: Callable[[tuple[Claim, Result]], object]) -> None:
    from django.db import connections

    try:
        result = push_next(leased, first=first)
    except Exception as exc:  # never leave the task waiting for a report that cannot come
        logger.error("A calling thread stopped with %s while pushing trace events.", type(exc).__name__)
        result = Outcome.RELEASED
    finally:
        # A token refresh may have opened this pool thread's own connection: give it back.
        connections.close_all()
    report((leased, result))


_local = threading.local()


def _executor(width: int) -> ThreadPoolExecutor:
    """This thread's pool of calling threads (one per task slot of a threads or gevent worker)."""
    pool: ThreadPoolExecutor | None = getattr(_local, "pool", None)
    if pool is None or _local.pid != os.getpid() or _local.width != width:
        if pool is not None and _local.pid == os.getpid():
            pool.shutdown(wait=False)
        pool = ThreadPoolExecutor(max_workers=width, thread_name_prefix="wxlogistics-push")
        _local.pool, _local.pid, _local.width = pool, os.getpid(), width
    return pool


def _chain_length() -> int:
    value = wx_settings.PUSH_CHAIN
    return max(1, int(value)) if isinstance(value, (int, float)) and not isinstance(value, bool) else 1


def _longest_push() -> float:
    """How long a lease must still run for a call to start under it."""
    from .client import longest_push_seconds

    return longest_push_seconds() or 0.0


def message_size() -> int:
    """The most waybills one broker message names: four times ``PUSH_CONCURRENCY``, as many
    chains as one task keeps in hand (one per calling thread, three queued behind it).

    The more a task has in hand, the less of it is the tail in which its last chains run
    and its other threads wait for the next message: at 50 ms of latency, twice gave 0.80–0.81
    of the ceiling, four times 0.85–0.87 (``docs/benchmarks.md``)."""
    return 4 * _concurrency()


def _concurrency() -> int:
    value = wx_settings.PUSH_CONCURRENCY
    return max(1, int(value)) if isinstance(value, (int, float)) and not isinstance(value, bool) else 1


def _warm_access_token(count: int) -> None:
    # Fetch the token here, before any lease starts, so that pool threads find it cached.
    # One event may be enough: its chain goes to a calling thread.
    if count < 2 and _chain_length() < 2:
        return
    from .client import get_client

    try:
        get_client().tokens.get_token()
    except Exception:  # each call meets the same error and records it
        return


def _mine(leased: Claim) -> Any:
    return TraceEvent.objects.filter(
        pk=leased.event.pk, state=EventState.SENDING, lease_expires_at=leased.lease
    )


def _record_sent_many(claims: list[Claim]) -> list[tuple[Claim, Outcome]]:
    """Mark events of one lease sent and set their waybills' latest action, in two queries
    (the ORM path; on PostgreSQL :func:`settle` does this in its one statement)."""
    lease = claims[0].lease
    ids = [c.event.pk for c in claims]
    now = timezone.now()
    # No transaction around the two statements: the waybill's latest action is derived from
    # its sent events, and the next event sent sets it right should this process die here.
    updated = TraceEvent.objects.filter(pk__in=ids, state=EventState.SENDING, lease_expires_at=lease).update(
        state=EventState.SENT,
        sent_at=now,
        lease_expires_at=None,
        attempts=F("attempts") + 1,
        last_errcode=None,
        last_errmsg="",
        updated_at=now,
    )
    if updated == len(ids):
        mine = set(ids)
    else:  # some leases expired meanwhile: the rows this statement marked carry its sent_at
        mine = set(TraceEvent.objects.filter(pk__in=ids, sent_at=now).values_list("pk", flat=True))
    if mine:
        # The latest sent action by action_time: a late-recorded older event does not win.
        latest = (
            TraceEvent.objects.filter(waybill_id=OuterRef("pk"), state=EventState.SENT)
            .order_by("-action_time", "-pk")
            .values("action_type")[:1]
        )
        Waybill.objects.filter(pk__in={c.event.waybill_id for c in claims if c.event.pk in mine}).update(
            latest_action_type=Subquery(latest), updated_at=now
        )
    return _sent_outcomes(claims, mine, now)


def _sent_outcomes(claims: list[Claim], mine: set[int], now: datetime) -> list[tuple[Claim, Outcome]]:
    recorded: list[tuple[Claim, Outcome]] = []
    for leased in claims:
        if leased.event.pk not in mine:
            recorded.append((leased, _lost(leased)))
            continue
        event = leased.event
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
        recorded.append((leased, Outcome.SENT))
    return recorded


def _record_failure(
    leased: Claim, exc: WeChatError, *, permanent: bool, later: list[Callable[[], None]] | None = None
) -> Outcome:
    """Record a failed call. With ``later``, the signal is left in it, to be sent once the
    caller's transaction is committed."""
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
    if later is None:
        _send(trace_event_failed, event=event, waybill=event.waybill, error=exc)
    else:
        later.append(lambda: _send(trace_event_failed, event=event, waybill=event.waybill, error=exc))
    return Outcome.FAILED


def _release(claims: list[Claim]) -> list[tuple[Claim, Outcome]]:
    """Hand chained events back untried: pending again, due as they were, no attempt counted."""
    by_lease: dict[datetime, list[int]] = {}
    for leased in claims:
        by_lease.setdefault(leased.lease, []).append(leased.event.pk)
    now = timezone.now()
    for lease, ids in by_lease.items():
        TraceEvent.objects.filter(pk__in=ids, state=EventState.SENDING, lease_expires_at=lease).update(
            state=EventState.PENDING, lease_expires_at=None, updated_at=now
        )
    for leased in claims:
        leased.event.state, leased.event.lease_expires_at = EventState.PENDING, None
    return [(leased, Outcome.RELEASED) for leased in claims]


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


def reclaim_expired_leases(limit: int = SWEEP_BATCH) -> tuple[int, int]:
    """Hand events whose worker died mid-push back to pending (or fail them when their
    attempts are used up). Returns (reclaimed, failed)."""
    reclaimed, failed = _reclaim_expired_leases(limit)
    return len(reclaimed), failed


def _reclaim_expired_leases(limit: int) -> tuple[list[int], int]:
    now = timezone.now()
    ids = list(
        TraceEvent.objects.filter(state=EventState.SENDING, lease_expires_at__lt=now)
        .order_by("lease_expires_at")
        .values_list("pk", flat=True)[:limit]
    )
    if not ids:
        return [], 0
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
        back = expired.exclude(pk__in=exhausted)
        reclaimed = list(back.select_for_update().values_list("pk", flat=True))
        TraceEvent.objects.filter(pk__in=reclaimed).update(
            state=EventState.PENDING, next_attempt_at=now, **common
        )
    for event in TraceEvent.objects.filter(pk__in=exhausted).select_related("waybill"):
        logger.error("Trace event %s failed: %s", event.pk, LEASE_EXPIRED_MSG)
        _send(trace_event_failed, event=event, waybill=event.waybill, error=None)
    if reclaimed:
        logger.warning("Reclaimed %d trace event(s) whose worker stopped mid-push.", len(reclaimed))
    return reclaimed, failed


def due_head_event_ids(
    limit: int = SWEEP_BATCH,
    waybill_pks: Iterable[int] | None = None,
    *,
    quiet_for: float = 0,
) -> list[int]:
    """Pending events whose time has come and that are first in their waybill's line.

    With ``quiet_for``, only events whose row nobody touched for that many seconds, or whose
    retry time came after it was last touched: the others have a nudge on its way already.
    """
    now = timezone.now()
    events = TraceEvent.objects.filter(state=EventState.PENDING, next_attempt_at__lte=now)
    if waybill_pks is not None:
        events = events.filter(waybill_id__in=list(waybill_pks))
    if quiet_for:
        events = events.filter(
            Q(updated_at__lte=now - timedelta(seconds=quiet_for)) | Q(next_attempt_at__gt=F("updated_at"))
        )
    return list(
        events.filter(head_of_line()).order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:limit]
    )


def sweep(limit: int = SWEEP_BATCH) -> SweepResult:
    """Reclaim expired leases, then nudge the due events at the head of each waybill's line.

    Events nudged within the last sweep interval are left alone: their message is on its way,
    and a backlog must not grow by one duplicate message per event at every sweep.
    """
    from .services import nudge

    reclaimed, failed = _reclaim_expired_leases(limit)
    quiet = _positive(wx_settings.SWEEP_INTERVAL) or 0.0
    ids = list(dict.fromkeys([*due_head_event_ids(limit, quiet_for=quiet), *reclaimed]))
    # Reclaimed events behind an earlier one are skipped by the claim; they follow it.
    nudge(ids)
    return SweepResult(reclaimed=len(reclaimed), failed=failed, nudged=len(ids))


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

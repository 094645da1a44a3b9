"""The calling threads: who makes the calls to WeChat, how many at once, and in what order.

The unit of work is a chain (a line's leased items, in order), one call at a time: a
calling thread makes one call and reports it, and once the task's own thread has recorded
the outcome (:meth:`Pusher.recorded`) the chain's next item goes back to the pool. A
thread is never held waiting for a record; it takes the next call queued.
"""

from __future__ import annotations

import itertools
import os
import queue
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from uuid import UUID

from django.db import connections
from django.utils import timezone

from ..client import longest_push_seconds
from ..exceptions import WeChatError
from ..redaction import get_logger
from .kinds import OutboxKind
from .outcomes import Claim, Outcome, Result

logger = get_logger(__name__)

#: How long the first answer of a group of calls waits for the others, to be recorded with them.
COALESCE_SECONDS = 0.003


def call(kind: OutboxKind, leased: Claim) -> WeChatError | None:
    """The call itself: None when WeChat took the item, else the error (never raised)."""
    try:
        return kind.send(leased.item)
    except WeChatError as exc:
        return exc
    except Exception as exc:
        # Not the client's own error: keep the item, never the message (it may hold a URL).
        logger.error(
            "Unexpected %s while pushing %s; it will be retried.",
            type(exc).__name__,
            kind.name_of(leased.item.pk),
        )
        return WeChatError(errmsg=f"Unexpected {type(exc).__name__}")


def push_next(kind: OutboxKind, leased: Claim, *, first: bool) -> Result:
    """Push one item of a chain: None when WeChat took it, the error, or ``RELEASED``.

    The first item of a chain goes whatever its lease says, as a lone item does (the lease
    against ``TIMEOUT`` is system check W010); an item after it goes only if its lease
    outlasts the longest push, and is handed back untried otherwise.
    """
    if not first and (leased.lease - timezone.now()).total_seconds() <= longest_push_seconds():
        return Outcome.RELEASED
    return call(kind, leased)


def _push_in_pool(
    kind: OutboxKind, leased: Claim, first: bool, report: Callable[[tuple[Claim, Result]], object]
) -> None:
    try:
        result = push_next(kind, leased, first=first)
    except Exception as exc:  # never leave the task waiting for a report that cannot come
        logger.error("A calling thread stopped with %s while pushing %ss.", type(exc).__name__, kind.noun)
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


def chains(kind: OutboxKind, claims: list[Claim]) -> list[list[Claim]]:
    """Group claims into chains: the items of one line, in their line's order."""
    by_line: dict[int, list[Claim]] = {}
    order = kind.order
    for leased in sorted(claims, key=lambda c: tuple(getattr(c.item, name) for name in order)):
        by_line.setdefault(kind.line_of(leased.item), []).append(leased)
    return list(by_line.values())


class Pusher:
    """Calls to WeChat in flight for one task: in this thread when one is enough, else in a pool.

    Its books are kept by claim (:attr:`Claim.key`): an item leased again while its old
    chain still reports is another claim, with books of its own.
    """

    def __init__(self, kind: OutboxKind, width: int, *, coalesce: float = COALESCE_SECONDS) -> None:
        self.kind = kind
        self.width = width
        self.coalesce = coalesce
        self._reports: queue.SimpleQueue[tuple[Claim, Result]] = queue.SimpleQueue()
        self._coming = 0  # reports that will come without this thread doing anything more
        # Chains under way: chain number → items not reported yet, and each claim's chain.
        # A line can have two: its first item, failed, leased again before the items handed
        # back behind it are reported.
        self._open: dict[int, int] = {}
        self._chain_of: dict[tuple[UUID, int], int] = {}
        self._rest: dict[tuple[UUID, int], list[Claim]] = {}  # what follows a claim, once recorded
        self._numbers = itertools.count()
        self._inline: list[tuple[Claim, Result]] = []

    def __enter__(self) -> Pusher:
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
        grouped = chains(self.kind, claims)
        if len(grouped) == 1 and len(grouped[0]) == 1 and not self._open:
            lone = grouped[0][0]
            self._inline.append((lone, call(self.kind, lone)))  # no thread for a lone call
            return
        for chain in grouped:
            number = next(self._numbers)
            self._open[number] = len(chain)
            self._chain_of.update((leased.key, number) for leased in chain)
            self._submit(chain, first=True)

    def _submit(self, chain: list[Claim], *, first: bool) -> None:
        if len(chain) > 1:
            self._rest[chain[0].key] = chain[1:]
        self._coming += 1
        _executor(self.width).submit(_push_in_pool, self.kind, chain[0], first, self._reports.put)

    def finished(self) -> list[tuple[Claim, Result]]:
        """What has come back; waits for at least one report, then briefly for the others.

        Calls started together come back close together: recording them in one statement
        costs the database far less than one by one, and delays the record by milliseconds.
        """
        if self._inline:
            done, self._inline = self._inline, []
            return done
        reports = [self._reports.get()]
        until = time.monotonic() + self.coalesce
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
            number = self._chain_of.pop(leased.key)
            self._open[number] -= 1
            if not self._open[number]:
                del self._open[number]
        return reports

    def recorded(self, outcomes: Iterable[tuple[Claim, Outcome]]) -> None:
        """These outcomes are in the database: what follows each in its chain goes next.

        After a ``sent`` or ``failed`` item (a failed one does not hold the later ones
        back) the next item goes to a calling thread; after any other outcome the rest of
        the chain is handed back untried (``RELEASED``, reported like a call).
        """
        for leased, outcome in outcomes:
            rest = self._rest.pop(leased.key, None)
            if not rest:
                continue
            if outcome in (Outcome.SENT, Outcome.FAILED):
                self._submit(rest, first=False)
                continue
            for untried in rest:
                self._coming += 1
                self._reports.put((untried, Outcome.RELEASED))

"""What one task does with the items it is given: claim them, push them, record, follow.

The task's own thread claims and records; the calling threads of :mod:`.pusher` make the
calls. Nothing here reaches the broker: what is left for other workers is handed back to
the caller (:attr:`Delivered.left`), which nudges it once every call is recorded.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..client import get_client
from .claims import claim_many
from .kinds import OutboxKind
from .limits import chain_length, concurrency, message_size
from .outcomes import LINE_MOVED, Outcome
from .pusher import COALESCE_SECONDS, Pusher
from .records import settle
from .sweep import due_head_ids

#: How long one task goes on with the next items of the lines it pushed before it leaves
#: them to other workers (a nudge): long chains must not hold one worker forever.
FOLLOW_SECONDS = 10.0


@dataclass
class Delivered:
    """What :func:`deliver_many` did: each item's outcome, and the items left to nudge."""

    outcomes: dict[int, Outcome] = field(default_factory=dict)
    #: Due items first in their line, of lines this task moved but left to other workers.
    left: list[int] = field(default_factory=list)


def deliver_many(
    kind: OutboxKind,
    item_ids: Iterable[int],
    *,
    follow: bool = True,
    drain: bool = False,
    follow_for: float = FOLLOW_SECONDS,
    coalesce: float = COALESCE_SECONDS,
) -> Delivered:
    """Push these items, up to ``PUSH_CONCURRENCY`` calls to WeChat at once.

    Items that cannot be claimed (done, leased, not due, behind an earlier one) are
    ``SKIPPED``. Outcomes are recorded as the calls come back, several in one statement
    (those that come back within ``coalesce`` seconds of the first). With ``follow``, each
    finished item makes room for the next of its line, in this process, for up to
    ``follow_for`` seconds; the due items of the lines left then are in
    :attr:`Delivered.left`, for the caller to nudge. With ``drain`` too (the Celery tasks,
    when ``PUSH_DRAIN`` is on), slots that are still free once these items are under way
    take any due items (:func:`~.claims.claim_due`), so a backlog keeps every slot busy.
    The outcomes are those of ``item_ids``, and of what followed or was drained.
    """
    waiting = list(dict.fromkeys(int(pk) for pk in item_ids))
    delivered = Delivered()
    outcomes = delivered.outcomes
    if not waiting:
        return delivered
    width = concurrency()
    # Chains in hand: three queued behind each call in flight, so that a calling thread that
    # finishes starts the next call at once, without waiting for this thread to record and
    # claim, while the chains whose items are being recorded wait; and one message's heads
    # are all leased in one statement.
    depth = message_size() if width > 1 else 1
    follow_until = time.monotonic() + follow_for
    left: set[int] = set()  # lines whose next items are left to other workers
    _warm_access_token(len(waiting))
    with Pusher(kind, width, coalesce=coalesce) as pusher:
        while waiting or pusher.in_flight:
            room = depth - pusher.in_flight
            if waiting and room > 0:
                batch, waiting = waiting[:room], waiting[room:]
                claims = claim_many(kind, batch)
                claimed = {c.item.pk for c in claims}
                outcomes.update((pk, Outcome.SKIPPED) for pk in batch if pk not in claimed)
                pusher.start(claims)
            if not pusher.in_flight:
                continue
            results = pusher.finished()
            refill = follow and time.monotonic() < follow_until
            finished, claims = settle(
                kind,
                results,
                room=depth - pusher.in_flight if refill else 0,
                drain=drain and not waiting,
            )
            outcomes.update((c.item.pk, outcome) for c, outcome in finished)
            pusher.recorded(finished)
            pusher.start(claims)
            if follow and not refill:
                left.update(kind.line_of(c.item) for c, o in finished if o in LINE_MOVED)
    if left:
        # Looked up once every call is recorded: the caller's nudge (a publish, a reconnect
        # after a broker restart) must not hold up the record of calls WeChat already took.
        delivered.left = due_head_ids(kind, line_pks=left)
    return delivered


def _warm_access_token(count: int) -> None:
    # Fetch the token here, before any lease starts, so that pool threads find it cached.
    # One item may be enough: its chain goes to a calling thread.
    if count < 2 and chain_length() < 2:
        return
    try:
        get_client().tokens.get_token()
    except Exception:  # each call meets the same error and records it
        return

"""Getting outbound calls to WeChat: claim an item, push it, record what happened.

The database is the source of truth; a broker message only says "look at item N now".
One engine serves every kind of outbound call (:class:`OutboxKind`: a model, its lines,
one function that makes the call, its signals): trace events (:data:`TRACE_EVENTS`, one
``logistics.updatePath`` each, in lines by waybill) and the merchant's shipping information
(:data:`SHIPPING_INFO`, one ``upload_shipping_info`` or ``notify_confirm_receive`` each, in
lines by payment).

States::

    pending ──claim──▶ sending ──ok──────────▶ sent
       ▲                  │ ├──transient──────▶ pending (attempts+1, next_attempt_at later)
       │                  │ └──permanent / attempts exhausted ──▶ failed
       └──lease expired───┘  (the worker died mid-push; the sweeper hands it back)

Order: an item is claimed only when no earlier item of its line (by the kind's order:
for trace events ``action_time``, then id) is ``pending`` or ``sending`` (:mod:`.lines`).
A ``failed`` item does not hold the later ones back: they still go, in order, and the
failed one waits for an operator.

Every write after the claim is conditional on the claim's id, so a worker whose lease
expired (and whose item another worker took over) cannot overwrite the outcome.

A task works on several items at once (:func:`deliver_many`): it claims the items of its
message together (:mod:`.claims`), keeps ``PUSH_CONCURRENCY`` calls in flight with more
leased items queued behind them (:mod:`.pusher`), and, as calls come back, records the
successes and leases each finished line's next item (:func:`settle`, :mod:`.records`: one
statement on PostgreSQL, :mod:`.storage`). With ``PUSH_DRAIN``, free slots also take any
due item (:func:`claim_due`). The sweeper (:mod:`.sweep`) hands back what dead workers held.

Chains: a claim leases a line's first item together with up to ``PUSH_CHAIN - 1`` due
items that follow it. They go one after the other, each once the one before is recorded
``sent`` (or ``failed``), without a new claim or a trip through the broker. Waiting for the
record keeps the order rule true in the database: a worker killed mid-chain leaves at most
the item of its call in flight to be pushed again, never an earlier one after a later.
A calling thread is not held while it waits: it makes the next call queued. A transient
failure stops the chain: the items behind it go back to pending untried (``RELEASED``).
An item after the first goes only if its lease outlasts the longest push; if not, it and
the rest of its chain go back too, and are leased again afresh.

Nothing here reaches the broker: :func:`deliver_many` and :func:`sweep` return the items
to nudge, and the Celery tasks nudge them.
"""

from __future__ import annotations

from .claims import claim_due, claim_many, claim_next
from .deliver import FOLLOW_SECONDS, Delivered, deliver_many
from .kinds import OutboxKind
from .limits import message_size
from .lines import UNSENT, head_of_line
from .outcomes import LINE_MOVED, Claim, Outcome, Result
from .pusher import COALESCE_SECONDS, Pusher, push_next
from .records import backoff_seconds, retry_seconds, settle
from .shipping import SHIPPING_INFO
from .sweep import SWEEP_BATCH, SweepResult, due_head_ids, reclaim_expired_leases, sweep
from .trace_events import TRACE_EVENTS

#: Every kind of outbound call, by name: what the sweeper goes through.
KINDS: dict[str, OutboxKind] = {kind.name: kind for kind in (TRACE_EVENTS, SHIPPING_INFO)}

__all__ = [
    "COALESCE_SECONDS",
    "FOLLOW_SECONDS",
    "KINDS",
    "LINE_MOVED",
    "SHIPPING_INFO",
    "SWEEP_BATCH",
    "TRACE_EVENTS",
    "UNSENT",
    "Claim",
    "Delivered",
    "OutboxKind",
    "Outcome",
    "Pusher",
    "Result",
    "SweepResult",
    "backoff_seconds",
    "claim_due",
    "claim_many",
    "claim_next",
    "deliver_many",
    "due_head_ids",
    "head_of_line",
    "message_size",
    "push_next",
    "reclaim_expired_leases",
    "retry_seconds",
    "settle",
    "sweep",
]

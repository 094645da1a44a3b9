"""What may be leased, and leasing it: due, pending items first in their line, with their chains.

A claim leases an item only when it is pending, due, and no earlier item of its line (by
the kind's order) is pending or sending (:mod:`.lines`); with it go up to
``PUSH_CHAIN - 1`` due items that follow it in its line. Each claim gets its own id, which
every later write checks (:class:`~.outcomes.Claim`); the lease time is only when it runs out.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any
from uuid import uuid4

from django.utils import timezone

from ..conf import wx_settings
from .kinds import OutboxKind
from .limits import chain_length
from .outcomes import Claim
from .storage import Lease, storage_for


def new_lease(chain: int | None = None) -> Lease:
    """A new claim's id and lease, from now; ``chain`` defaults to ``PUSH_CHAIN``."""
    now = timezone.now()
    expires = now + timedelta(seconds=wx_settings.LEASE_SECONDS)
    return Lease(claim_id=uuid4(), expires=expires, now=now, chain=chain_length() if chain is None else chain)


def claims_of(items: Iterable[Any]) -> list[Claim]:
    """The claims of leased items, as their rows say: the claim's id and its lease."""
    return [Claim(item=item, claim_id=item.claim_id, lease=item.lease_expires_at) for item in items]


def claim_many(kind: OutboxKind, item_ids: Iterable[int], *, chain: int | None = None) -> list[Claim]:
    """Lease those of ``item_ids`` that are due, pending and first in their line, each with
    its chain: up to ``PUSH_CHAIN - 1`` (or ``chain - 1``) due items that follow it.

    One statement on PostgreSQL (``UPDATE … RETURNING``), up to four elsewhere, in this
    order: a conditional UPDATE of the heads; when it leased any, a SELECT of them with
    their lines; then, for chains, a look at what follows them and the chains' UPDATE;
    however many items. The items leased together share one claim. The claims come in
    line order.
    """
    ids = list(dict.fromkeys(int(pk) for pk in item_ids))
    if not ids:
        return []
    lease = new_lease(chain)
    return claims_of(storage_for(kind).claim("id", ids, lease))


def claim_next(kind: OutboxKind, line_pks: Iterable[int]) -> list[Claim]:
    """Lease the first item of each of these lines, where it is pending and due, with its chain."""
    pks = list(dict.fromkeys(int(pk) for pk in line_pks))
    if not pks:
        return []
    lease = new_lease()
    return claims_of(storage_for(kind).claim(kind.line_attname, pks, lease))


def claim_due(kind: OutboxKind, limit: int) -> list[Claim]:
    """Lease up to ``limit`` due items first in their line, whichever they are.

    What a task with free slots takes once its own items are under way: items whose
    message still waits in the broker's queue, or whose retry has come due. That message
    then finds its item claimed or sent and does nothing.
    """
    if limit < 1:
        return []
    lease = new_lease()
    _, items = storage_for(kind).settle([], [], limit, drain=True, lease=lease)
    return claims_of(items)

"""The claim, the record and the sweep as portable ORM queries: the path of every database but PostgreSQL.

The same conditions as the statements of :mod:`.postgres`, in a few queries each: a claim
is three or four (the heads, a read of them with their lines, a look at what follows them,
the chains), a record two per claim (the items, their lines' latest action), a failure one
per item. Every write after a claim names its items by primary key, which the databases
this path serves (SQLite, MySQL) look up by that key before any other index.
"""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from django.db import router, transaction
from django.db.models import F, OuterRef, Q, Subquery, Window
from django.db.models.functions import RowNumber

from ...enums import EventState
from ..kinds import OutboxKind
from ..lines import UNSENT, head_of_line
from ..outcomes import Claim
from .base import Failure, Lease


class OrmStorage:
    """:class:`~.base.Storage` in ORM queries."""

    def __init__(self, kind: OutboxKind, alias: str) -> None:
        self.kind = kind
        self.alias = alias
        self.objects = kind.model._default_manager

    def claim(self, by: str, keys: list[int], lease: Lease) -> list[Any]:
        kind, now = self.kind, lease.now
        items = self.objects.filter(**{f"{by}__in": keys})
        claimed = (
            items.filter(state=EventState.PENDING, next_attempt_at__lte=now)
            .filter(head_of_line(kind))
            .update(
                state=EventState.SENDING,
                lease_expires_at=lease.expires,
                claim_id=lease.claim_id,
                updated_at=now,
            )
        )
        if not claimed:
            return []
        # What this claim leased, read by the keys and the claim's id, with their lines.
        leased = list(
            items.filter(state=EventState.SENDING, claim_id=lease.claim_id).select_related(kind.line)
        )
        if lease.chain > 1:
            leased += self._lease_chains(leased, lease)
        leased.sort(key=lambda item: tuple(getattr(item, name) for name in kind.order))
        return leased

    def _lease_chains(self, heads: list[Any], lease: Lease) -> list[Any]:
        """Lease, under the heads' own claim, the due items that follow each head in its line;
        returns them, each with its line's row.

        Nobody else can lease these items meanwhile: each stands behind a head this claim holds.
        The heads' lines go to the database as a list: as a subquery, statistics that have
        not yet counted a burst can make the look-up a loop over every unsent item.
        """
        kind, line = self.kind, self.kind.line_attname
        lines = {kind.line_of(head): getattr(head, kind.line) for head in heads}
        fields = [f.attname for f in kind.model._meta.concrete_fields]
        ranked = (
            self.objects.filter(**{f"{line}__in": list(lines)}, state__in=UNSENT)
            .annotate(
                rank=Window(RowNumber(), partition_by=[F(line)], order_by=[F(name) for name in kind.order])
            )
            .filter(rank__lte=lease.chain)
            .order_by(line, "rank")
            .values_list(*fields)
        )
        picked: dict[int, tuple[Any, ...]] = {}
        open_lines: set[int] = set()
        for row in ranked:
            values = dict(zip(fields, row, strict=True))
            line_pk = values[line]
            if values["state"] == EventState.SENDING:  # the head (or another claim's item: the line stops)
                if values["claim_id"] == lease.claim_id:
                    open_lines.add(line_pk)
                else:
                    open_lines.discard(line_pk)
            elif line_pk in open_lines and values["next_attempt_at"] <= lease.now:
                picked[values[kind.model._meta.pk.attname]] = row
            else:
                open_lines.discard(line_pk)
        if not picked:
            return []
        changes = {
            "state": EventState.SENDING,
            "lease_expires_at": lease.expires,
            "claim_id": lease.claim_id,
            "updated_at": lease.now,
        }
        updated = self.objects.filter(pk__in=list(picked), state=EventState.PENDING).update(**changes)
        if updated != len(picked):  # changed meanwhile (an operator's action): keep what was leased
            mine = set(
                self.objects.filter(pk__in=list(picked), claim_id=lease.claim_id).values_list("pk", flat=True)
            )
            picked = {pk: row for pk, row in picked.items() if pk in mine}
        chained = []
        for row in picked.values():
            item = kind.model.from_db(self.alias, fields, row)
            for name, value in changes.items():
                setattr(item, name, value)
            setattr(item, kind.line, copy.copy(lines[getattr(item, line)]))
            chained.append(item)
        return chained

    def settle(
        self, sent: list[Claim], follow: list[int], room: int, *, drain: bool, lease: Lease
    ) -> tuple[set[int], list[Any]]:
        marked: set[int] = set()
        by_claim: dict[Any, list[Claim]] = {}
        for one in sent:
            by_claim.setdefault(one.claim_id, []).append(one)
        for claims in by_claim.values():
            marked |= self._mark_sent(claims, lease.now)
        if room <= 0:
            return marked, []
        if sent:  # a line moves on only where this worker's item was marked
            done = {self.kind.line_of(c.item) for c in sent if c.item.pk in marked}
            follow = [pk for pk in follow if pk in done]
        leased = self.claim(self.kind.line_attname, follow, lease) if follow else []
        if drain and room > len(leased):
            leased += self._claim_due(room - len(leased), replace(lease, claim_id=uuid4()))
        return marked, leased

    def _claim_due(self, limit: int, lease: Lease) -> list[Any]:
        # Pick, then claim by id; the claim checks every condition again, so an item another
        # worker took in between is simply not leased here.
        picked = list(
            self.objects.filter(state=EventState.PENDING, next_attempt_at__lte=lease.now)
            .filter(head_of_line(self.kind))
            .order_by("next_attempt_at", "pk")
            .values_list("pk", flat=True)[:limit]
        )
        return self.claim("id", picked, lease) if picked else []

    def _mark_sent(self, claims: list[Claim], now: datetime) -> set[int]:
        """Mark items of one claim sent and set their lines' latest field, in two queries."""
        claim_id = claims[0].claim_id
        ids = [c.item.pk for c in claims]
        # No transaction around the two statements: the line's latest field is derived from
        # its sent items, and the next item sent sets it right should this process die here.
        updated = self.objects.filter(pk__in=ids, state=EventState.SENDING, claim_id=claim_id).update(
            state=EventState.SENT,
            sent_at=now,
            lease_expires_at=None,
            claim_id=None,
            attempts=F("attempts") + 1,
            last_errcode=None,
            last_errmsg="",
            updated_at=now,
        )
        if updated == len(ids):
            mine = set(ids)
        else:  # some claims were lost meanwhile: the rows this statement marked carry its sent_at
            mine = set(self.objects.filter(pk__in=ids, sent_at=now).values_list("pk", flat=True))
        if mine and self.kind.latest:
            self._set_latest({self.kind.line_of(c.item) for c in claims if c.item.pk in mine}, now)
        return mine

    def _set_latest(self, lines: set[int], now: datetime) -> None:
        kind = self.kind
        assert kind.latest is not None
        line_field, item_field = kind.latest
        # The latest sent item by the line's order: a late-recorded older item does not win.
        latest = (
            self.objects.filter(**{kind.line_attname: OuterRef("pk"), "state": EventState.SENT})
            .order_by(*(f"-{name}" for name in kind.order))
            .values(item_field)[:1]
        )
        fields: dict[str, Any] = {line_field: Subquery(latest)}
        if any(f.name == "updated_at" for f in kind.line_model._meta.concrete_fields):
            fields["updated_at"] = now
        kind.line_model._default_manager.filter(pk__in=lines).update(**fields)

    def hand_back(self, failed: list[Failure], released: list[Claim], now: datetime) -> set[int]:
        changed: set[int] = set()
        for one in failed:
            fields: dict[str, Any] = {"state": one.state}
            if one.next_attempt_at is not None:
                fields["next_attempt_at"] = one.next_attempt_at
            item, claim_id = one.claim.item, one.claim.claim_id
            mine = self.objects.filter(pk=item.pk, state=EventState.SENDING, claim_id=claim_id)
            if mine.update(
                **fields,
                lease_expires_at=None,
                claim_id=None,
                attempts=one.attempts,
                last_errcode=one.errcode,
                last_errmsg=one.errmsg,
                updated_at=now,
            ):
                changed.add(item.pk)
        by_claim: dict[UUID, list[int]] = {}
        for leased in released:
            by_claim.setdefault(leased.claim_id, []).append(leased.item.pk)
        for claim, ids in by_claim.items():
            self.objects.filter(pk__in=ids, state=EventState.SENDING, claim_id=claim).update(
                state=EventState.PENDING, lease_expires_at=None, claim_id=None, updated_at=now
            )
        return changed

    def reclaim(
        self, limit: int, now: datetime, *, max_attempts: int, message: str
    ) -> tuple[list[int], list[int]]:
        ids = list(
            self.objects.filter(state=EventState.SENDING, lease_expires_at__lt=now)
            .order_by("lease_expires_at")
            .values_list("pk", flat=True)[:limit]
        )
        if not ids:
            return [], []
        # Still expired: an item reclaimed and claimed again in between has a new, future lease.
        expired = self.objects.filter(pk__in=ids, state=EventState.SENDING, lease_expires_at__lt=now)
        common: dict[str, Any] = {
            "lease_expires_at": None,
            "claim_id": None,
            "attempts": F("attempts") + 1,
            "last_errcode": None,
            "last_errmsg": message,
            "updated_at": now,
        }
        with transaction.atomic(using=router.db_for_write(self.kind.model)):
            exhausted = list(
                expired.filter(attempts__gte=max_attempts - 1)
                .select_for_update()
                .values_list("pk", flat=True)
            )
            self.objects.filter(pk__in=exhausted).update(state=EventState.FAILED, **common)
            back = expired.exclude(pk__in=exhausted)
            reclaimed = list(back.select_for_update().values_list("pk", flat=True))
            self.objects.filter(pk__in=reclaimed).update(
                state=EventState.PENDING, next_attempt_at=now, **common
            )
        return reclaimed, exhausted

    def due_heads(
        self, limit: int, now: datetime, lines: list[int] | None, quiet_before: datetime | None
    ) -> list[int]:
        items = self.objects.filter(state=EventState.PENDING, next_attempt_at__lte=now)
        if lines is not None:
            items = items.filter(**{f"{self.kind.line_attname}__in": lines})
        if quiet_before is not None:
            items = items.filter(Q(updated_at__lte=quiet_before) | Q(next_attempt_at__gt=F("updated_at")))
        return list(
            items.filter(head_of_line(self.kind))
            .order_by("next_attempt_at", "pk")
            .values_list("pk", flat=True)[:limit]
        )

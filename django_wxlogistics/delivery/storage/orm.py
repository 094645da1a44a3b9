"""The claim and the record as portable ORM queries: the path of every database but PostgreSQL.

The same conditions as the statements of :mod:`.postgres`, in a few queries each: a claim
is three or four (the heads, a read of them with their lines, a look at what follows them,
the chains), a record two per claim (the items, their lines' latest action).
"""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import datetime
from typing import Any
from uuid import uuid4

from django.db.models import F, OuterRef, Subquery, Window
from django.db.models.functions import RowNumber

from ...enums import EventState
from ..kinds import OutboxKind
from ..lines import UNSENT, head_of_line
from ..outcomes import Claim
from .base import Lease


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

"""The claim, the record and the sweep as single PostgreSQL statements, one per round trip.

An ``UPDATE … RETURNING`` leases a message's items and hands back their rows with their
lines' (:meth:`PostgresStorage.claim`); then, each time calls come back, one ``WITH``
marks the successes sent, sets their lines' latest field and leases what comes next
(:meth:`PostgresStorage.settle`), and one ``UPDATE`` records the failures and hands back
the items a failure left untried (:meth:`PostgresStorage.hand_back`). The sweep hands
expired leases back in one ``UPDATE`` (:meth:`PostgresStorage.reclaim`) and lists the due
heads of line in one ``SELECT`` (:meth:`PostgresStorage.due_heads`). They do what
:mod:`.orm` does in several queries, with the same conditions. The statements are written
for any :class:`~..kinds.OutboxKind`: only its table and column names are put into the
text; every value is a parameter.

Their plans must not depend on the statistics. A shop's table is mostly sent items, and
autoanalyze waits for a tenth of it to change: after a burst, the statistics say "nothing
pending" for a long while, and every condition on ``state`` looks like one row. So each
lookup is driven by what the statement is given (ids, lines) or by the small partial
indexes of unsent and due items, and nothing the planner could loop over is left to its
estimates: the steps are ``MATERIALIZED`` and computed once, each in its turn
(``bench_production.py`` prints the plans at a million rows, ``docs/plans/`` holds them).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import connections

from ...enums import EventState
from ..kinds import OutboxKind
from ..lines import head_of_line_sql
from ..outcomes import Claim
from .base import Failure, Lease


def _converted_fields(model: type[Any]) -> list[tuple[int, Any]]:
    """(position, field) of ``model``'s concrete fields that convert the value read (from_db_value)."""
    return [
        (index, field)
        for index, field in enumerate(model._meta.concrete_fields)
        if hasattr(field, "from_db_value")
    ]


def _convert(values: tuple[Any, ...], fields: list[tuple[int, Any]], connection: Any) -> list[Any]:
    converted = list(values)
    for index, field in fields:
        converted[index] = field.from_db_value(converted[index], None, connection)
    return converted


class _Names:
    """The kind's table and column names, as the statements quote them."""

    def __init__(self, kind: OutboxKind) -> None:
        line_model = kind.line_model
        self.table = kind.model._meta.db_table
        self.pk = kind.column("pk")
        self.line = kind.column(kind.line)
        self.line_table = line_model._meta.db_table
        self.line_pk = line_model._meta.pk.column if line_model._meta.pk else "id"
        self.item_fields = [f.attname for f in kind.model._meta.concrete_fields]
        self.line_fields = [f.attname for f in line_model._meta.concrete_fields]
        # The fields whose raw value the ORM converts on reading (a JSONField's text): from_db
        # takes the values as they are, so the rows of these statements are converted here.
        self.item_converted = _converted_fields(kind.model)
        self.line_converted = _converted_fields(line_model)
        self.item_columns = ", ".join(f'e."{f.column}"' for f in kind.model._meta.concrete_fields)
        self.line_columns = ", ".join(f'w."{f.column}"' for f in line_model._meta.concrete_fields)
        self.latest: tuple[str, str] | None = None
        if kind.latest:
            line_field, item_field = kind.latest
            line_column = getattr(line_model._meta.get_field(line_field), "column", line_field)
            self.latest = (str(line_column), kind.column(item_field))
        self.line_touched = any(f.name == "updated_at" for f in line_model._meta.concrete_fields)

    def order(self, kind: OutboxKind, alias: str, *, desc: bool = False) -> str:
        suffix = " DESC" if desc else ""
        return ", ".join(f'{alias}."{kind.column(name)}"{suffix}' for name in kind.order)


def _chain(kind: OutboxKind, n: _Names, heads: str, exclude: str = "") -> str:
    """The chains of the ``heads`` rows: each head with the items that follow it in its
    line, up to ``chain`` in all, as long as each is pending and due.

    One probe of the line's unsent items (the partial index of the kind's order) per head.
    """
    return f"""
    SELECT c."id" FROM {heads} AS h CROSS JOIN LATERAL (
        SELECT p."{n.pk}" AS "id",
               bool_and((p."state" || '') = %(pending)s AND p."next_attempt_at" <= %(now)s)
                   OVER (ORDER BY {n.order(kind, "p")}) AS ok
          FROM "{n.table}" AS p
         WHERE p."{n.line}" = h."line"
           AND p."state" IN (%(pending)s, %(sending)s){exclude}
         ORDER BY {n.order(kind, "p")}
         LIMIT %(chain)s) AS c
     WHERE c.ok"""  # noqa: S608


def _lease_sql(n: _Names, *, recheck: str = "") -> str:
    """Lease the items of ``chain``, returning their rows with their lines'.

    The ids come as one array, computed once (``ANY(ARRAY(…))``): the table is read by its
    primary key alone. Joined to the chain instead, the UPDATE could be planned from the
    other side, a scan of every pending item with the chain worked out again for each, which
    is what statistics that say "nothing pending" choose (351 ms where 6 do, at a million
    rows: ``docs/benchmarks.md``).
    """
    return f"""
    UPDATE "{n.table}" AS e
       SET "state" = %(sending)s, "lease_expires_at" = %(lease)s, "claim_id" = %(claim)s,
           "updated_at" = %(now)s
      FROM "{n.line_table}" AS w
     WHERE e."{n.pk}" = ANY(ARRAY(SELECT "id" FROM chain)){recheck}
       AND w."{n.line_pk}" = e."{n.line}"
 RETURNING {n.item_columns}, {n.line_columns}"""  # noqa: S608


def _claim_sql(kind: OutboxKind, n: _Names, key: str) -> str:
    # The same conditions as the ORM path's claim: due, pending, and first of the line's
    # unsent items (lines.head_of_line_sql), with the items that follow it (its chain).
    # ``state || ''`` keeps the planner on the key's index: the few rows asked for are found
    # by id or line, never by a scan of every pending item, which statistics that lag behind
    # a burst make look cheap. The heads are locked first: a head another claim took
    # meanwhile is left out, and with it its chain.
    return f"""
WITH heads AS MATERIALIZED (
    SELECT e."{n.pk}" AS "id", e."{n.line}" AS "line" FROM "{n.table}" AS e
     WHERE e."{key}" = ANY(%(keys)s)
       AND (e."state" || '') = %(pending)s
       AND e."next_attempt_at" <= %(now)s
       AND {head_of_line_sql(kind)}
       FOR UPDATE OF e SKIP LOCKED
), chain AS MATERIALIZED ({_chain(kind, n, "heads")}
){_lease_sql(n)}
"""  # noqa: S608


# Every sub-statement of the settle statement sees the snapshot taken before it began, in
# which the items being marked are still "sending": the line checks leave them out by hand
# (``NOT IN sent``), so a line's next item becomes first in line exactly when its
# predecessor is marked here.
_NOT_SENT = """
           AND p."{pk}" NOT IN (SELECT "id" FROM sent)"""

#: The chain was read in the snapshot; an item another worker leased since is left alone.
_STILL_PENDING = """
       AND (e."state" || '') = %(pending)s"""


def _settle_sql(kind: OutboxKind, n: _Names) -> str:
    # Record and refill in one statement: mark the items that came back sent (each under
    # its own claim), set their lines' latest field, and lease the next items to push:
    # first the next item of each line in ``follow`` (those just done), then, with ``room``
    # left, any due items first in their line. Each step reads only what it is given:
    # ``sent`` the ids that came back (by primary key: ``state || ''`` keeps the index of
    # states out of it), ``nxt`` the lines in ``follow``, ``due`` the due items in their
    # order, ``chain`` one probe a head, and the lease the chain's ids (``_lease_sql``).
    # ``due`` locks the due items one by one, in their order, as its first-in-line check
    # asks for the next (``OFFSET 0`` keeps the check out of the inner scan): only those
    # read until ``room`` are found are checked (one read that is not first in its line
    # stays locked until the statement ends, milliseconds: another worker skips it or waits
    # for it meanwhile). With the check in the scan, the plan that stale statistics choose
    # (read every pending item, then sort) checks every one first.
    not_sent = _NOT_SENT.format(pk=n.pk)
    head = head_of_line_sql(kind, exclude=not_sent)
    latest = ""
    if n.latest:
        line_column, item_column = n.latest
        touch = ',\n           "updated_at" = %(now)s' if n.line_touched else ""
        latest = f"""
), latest AS (
    UPDATE "{n.line_table}" AS w
       SET "{line_column}" = (
               SELECT x."{item_column}" FROM "{n.table}" AS x
                WHERE x."{n.line}" = w."{n.line_pk}"
                  AND (x."state" = %(sent)s OR x."{n.pk}" IN (SELECT "id" FROM sent))
                ORDER BY {n.order(kind, "x", desc=True)}
                LIMIT 1){touch}
     WHERE w."{n.line_pk}" IN (SELECT "line" FROM sent)"""  # noqa: S608
    return f"""
WITH done AS (
    SELECT * FROM unnest(%(ids)s::bigint[], %(claims)s::uuid[]) AS d("id", "claim")
), sent AS (
    UPDATE "{n.table}" AS s
       SET "state" = %(sent)s, "sent_at" = %(now)s, "lease_expires_at" = NULL, "claim_id" = NULL,
           "attempts" = s."attempts" + 1, "last_errcode" = NULL, "last_errmsg" = '',
           "updated_at" = %(now)s
      FROM done
     WHERE s."{n.pk}" = done."id" AND (s."state" || '') = %(sending)s AND s."claim_id" = done."claim"
 RETURNING s."{n.pk}" AS "id", s."{n.line}" AS "line"{latest}
), nxt AS MATERIALIZED (
    SELECT e."{n.pk}" AS "id", e."{n.line}" AS "line" FROM "{n.table}" AS e
     WHERE e."{n.line}" = ANY(%(follow)s::bigint[])
       AND (e."state" || '') = %(pending)s
       AND e."next_attempt_at" <= %(now)s
       AND {head}
       FOR UPDATE OF e SKIP LOCKED
), due AS MATERIALIZED (
    SELECT e."{n.pk}" AS "id", e."{n.line}" AS "line" FROM (
        SELECT e."{n.pk}", e."{n.line}" FROM "{n.table}" AS e
         WHERE %(drain)s
           AND e."state" = %(pending)s
           AND e."next_attempt_at" <= %(now)s
           AND e."{n.pk}" NOT IN (SELECT "id" FROM nxt)
         ORDER BY e."next_attempt_at"
        OFFSET 0
           FOR UPDATE OF e SKIP LOCKED) AS e
     WHERE {head}
     LIMIT GREATEST(0, %(room)s - (SELECT count(*) FROM nxt))
), heads AS (
    SELECT "id", "line" FROM nxt UNION ALL SELECT "id", "line" FROM due
), chain AS MATERIALIZED ({_chain(kind, n, "heads", exclude=not_sent)}
), claimed AS ({_lease_sql(n, recheck=_STILL_PENDING)}
)
SELECT (SELECT coalesce(array_agg("id"), '{{}}') FROM sent), c.*
  FROM (SELECT 1) AS one LEFT JOIN claimed AS c ON true
"""  # noqa: S608


def _hand_back_sql(n: _Names) -> str:
    # Failures and items handed back, one row each from the arrays the worker sends, found
    # by primary key: ``state || ''`` keeps the index of states out of it. Compared as
    # ``state = 'sending'``, statistics that say nothing is sending make the planner read
    # every item in flight through that index, and filter them by id, once per item.
    return f"""
UPDATE "{n.table}" AS e
   SET "state" = d."state",
       "next_attempt_at" = coalesce(d."next", e."next_attempt_at"),
       "lease_expires_at" = NULL, "claim_id" = NULL,
       "attempts" = CASE WHEN d."failed" THEN d."attempts" ELSE e."attempts" END,
       "last_errcode" = CASE WHEN d."failed" THEN d."errcode" ELSE e."last_errcode" END,
       "last_errmsg" = CASE WHEN d."failed" THEN d."errmsg" ELSE e."last_errmsg" END,
       "updated_at" = %(now)s
  FROM unnest(%(ids)s::bigint[], %(claims)s::uuid[], %(failed)s::boolean[], %(states)s::text[],
              %(nexts)s::timestamptz[], %(attempts)s::integer[], %(errcodes)s::integer[], %(errmsgs)s::text[])
       AS d("id", "claim", "failed", "state", "next", "attempts", "errcode", "errmsg")
 WHERE e."{n.pk}" = d."id" AND (e."state" || '') = %(sending)s AND e."claim_id" = d."claim"
RETURNING e."{n.pk}", d."failed"
"""  # noqa: S608


def _reclaim_sql(n: _Names) -> str:
    # The expired leases are looked for among the items being sent only (however the
    # planner reads them: the index of leases, of unsent items or of states, each holds no
    # more than the items in flight), then changed by primary key, each checked again in the
    # UPDATE: an item reclaimed and claimed again meanwhile has a new lease and is left alone.
    return f"""
WITH expired AS MATERIALIZED (
    SELECT e."{n.pk}" AS "id" FROM "{n.table}" AS e
     WHERE e."state" = %(sending)s AND e."lease_expires_at" < %(now)s
     ORDER BY e."lease_expires_at"
     LIMIT %(limit)s
)
UPDATE "{n.table}" AS e
   SET "state" = CASE WHEN e."attempts" + 1 >= %(max_attempts)s THEN %(failed)s ELSE %(pending)s END,
       "next_attempt_at" = CASE WHEN e."attempts" + 1 >= %(max_attempts)s THEN e."next_attempt_at"
                                ELSE %(now)s END,
       "lease_expires_at" = NULL, "claim_id" = NULL, "attempts" = e."attempts" + 1,
       "last_errcode" = NULL, "last_errmsg" = %(message)s, "updated_at" = %(now)s
 WHERE e."{n.pk}" = ANY(ARRAY(SELECT "id" FROM expired))
   AND (e."state" || '') = %(sending)s AND e."lease_expires_at" < %(now)s
RETURNING e."{n.pk}", e."state"
"""  # noqa: S608


def _due_heads_sql(kind: OutboxKind, n: _Names, *, given: bool) -> str:
    # The first unsent item of each line, one probe of the partial index of unsent items a
    # line (the lines given, or each line in turn, found by a skip from one line to the
    # next in that index); then those that are pending and due. Started from the pending
    # items instead, the planner reads every pending item through the index of states
    # when the statistics say none is pending, and checks each one's line: a backlog of
    # many items a line is then looked at item by item, where this reads one a line.
    def probe(where: str = "") -> str:
        return f"""
        SELECT p."{n.line}" AS "line", p."{n.pk}" AS "id", p."state", p."next_attempt_at", p."updated_at"
          FROM "{n.table}" AS p
         WHERE p."state" IN (%(pending)s, %(sending)s){where}
         ORDER BY p."{n.line}", {n.order(kind, "p")}
         LIMIT 1"""  # noqa: S608

    if given:
        heads = f"""
WITH heads AS (
    SELECT h.* FROM unnest(%(lines)s::bigint[]) AS l("line")
     CROSS JOIN LATERAL ({probe(f' AND p."{n.line}" = l."line"')}) AS h
)"""  # noqa: S608
    else:
        heads = f"""
WITH RECURSIVE heads AS (
    ({probe()})
    UNION ALL
    SELECT h.* FROM heads AS previous
     CROSS JOIN LATERAL ({probe(f' AND p."{n.line}" > previous."line"')}) AS h
)"""  # noqa: S608
    return f"""{heads}
SELECT "id" FROM heads
 WHERE ("state" || '') = %(pending)s AND "next_attempt_at" <= %(now)s
   AND (%(quiet_before)s::timestamptz IS NULL
        OR "updated_at" <= %(quiet_before)s OR "next_attempt_at" > "updated_at")
 ORDER BY "next_attempt_at", "id"
 LIMIT %(limit)s
"""  # noqa: S608


class PostgresStorage:
    """:class:`~.base.Storage` in single PostgreSQL statements."""

    def __init__(self, kind: OutboxKind, alias: str) -> None:
        self.kind = kind
        self.alias = alias
        self.names = _Names(kind)
        self._claim_sql = {key: _claim_sql(kind, self.names, key) for key in (self.names.pk, self.names.line)}
        self._settle_sql = _settle_sql(kind, self.names)
        self._hand_back_sql = _hand_back_sql(self.names)
        self._reclaim_sql = _reclaim_sql(self.names)
        self._due_heads_sql = {
            given: _due_heads_sql(kind, self.names, given=given) for given in (False, True)
        }

    def claim(self, by: str, keys: list[int], lease: Lease) -> list[Any]:
        column = {"id": self.names.pk, self.kind.line_attname: self.names.line}.get(by)
        if column is None:
            raise ValueError(f"cannot claim by {by!r}")
        params = {**self._lease_params(lease), "keys": keys}
        with connections[self.alias].cursor() as cursor:
            cursor.execute(self._claim_sql[column], params)
            rows = cursor.fetchall()
        return self._items(rows, 0)

    def settle(
        self, sent: list[Claim], follow: list[int], room: int, *, drain: bool, lease: Lease
    ) -> tuple[set[int], list[Any]]:
        params = {
            **self._lease_params(lease),
            "ids": [c.item.pk for c in sent],
            "claims": [c.claim_id for c in sent],
            "follow": follow,
            "room": room,
            "drain": drain,
            "sent": EventState.SENT.value,
        }
        with connections[self.alias].cursor() as cursor:
            cursor.execute(self._settle_sql, params)
            rows = cursor.fetchall()
        marked = set(rows[0][0]) if rows else set()
        # The LEFT JOIN's one row when nothing was leased carries NULLs after the ids.
        return marked, self._items([row for row in rows if row[1] is not None], 1)

    def hand_back(self, failed: list[Failure], released: list[Claim], now: datetime) -> set[int]:
        if not failed and not released:
            return set()
        pending = EventState.PENDING.value
        params: dict[str, Any] = {
            "now": now,
            "sending": EventState.SENDING.value,
            "ids": [f.claim.item.pk for f in failed] + [c.item.pk for c in released],
            "claims": [f.claim.claim_id for f in failed] + [c.claim_id for c in released],
            "failed": [True] * len(failed) + [False] * len(released),
            "states": [f.state for f in failed] + [pending] * len(released),
            "nexts": [f.next_attempt_at for f in failed] + [None] * len(released),
            "attempts": [f.attempts for f in failed] + [None] * len(released),
            "errcodes": [f.errcode for f in failed] + [None] * len(released),
            "errmsgs": [f.errmsg for f in failed] + [None] * len(released),
        }
        with connections[self.alias].cursor() as cursor:
            cursor.execute(self._hand_back_sql, params)
            return {pk for pk, was_failed in cursor.fetchall() if was_failed}

    def reclaim(
        self, limit: int, now: datetime, *, max_attempts: int, message: str
    ) -> tuple[list[int], list[int]]:
        params: dict[str, Any] = {
            "now": now,
            "limit": limit,
            "max_attempts": max_attempts,
            "message": message,
            "sending": EventState.SENDING.value,
            "pending": EventState.PENDING.value,
            "failed": EventState.FAILED.value,
        }
        with connections[self.alias].cursor() as cursor:
            cursor.execute(self._reclaim_sql, params)
            rows = cursor.fetchall()
        reclaimed = [pk for pk, state in rows if state == EventState.PENDING]
        return reclaimed, [pk for pk, state in rows if state == EventState.FAILED]

    def due_heads(
        self, limit: int, now: datetime, lines: list[int] | None, quiet_before: datetime | None
    ) -> list[int]:
        params: dict[str, Any] = {
            "now": now,
            "limit": limit,
            "lines": lines,
            "quiet_before": quiet_before,
            "pending": EventState.PENDING.value,
            "sending": EventState.SENDING.value,
        }
        with connections[self.alias].cursor() as cursor:
            cursor.execute(self._due_heads_sql[lines is not None], params)
            return [pk for (pk,) in cursor.fetchall()]

    def _lease_params(self, lease: Lease) -> dict[str, Any]:
        return {
            "now": lease.now,
            "lease": lease.expires,
            "claim": lease.claim_id,
            "chain": max(1, lease.chain),
            "pending": EventState.PENDING.value,
            "sending": EventState.SENDING.value,
        }

    def _items(self, rows: list[tuple[Any, ...]], skip: int) -> list[Any]:
        """The items of ``rows`` (after ``skip`` leading columns), each with its line's row."""
        model, line_model, n = self.kind.model, self.kind.line_model, self.names
        split = skip + len(n.item_fields)
        connection = connections[self.alias]
        items = []
        for row in rows:
            item = model.from_db(
                self.alias, n.item_fields, _convert(row[skip:split], n.item_converted, connection)
            )
            line = line_model.from_db(
                self.alias, n.line_fields, _convert(row[split:], n.line_converted, connection)
            )
            setattr(item, self.kind.line, line)
            items.append(item)
        items.sort(key=lambda item: tuple(getattr(item, name) for name in self.kind.order))
        return items

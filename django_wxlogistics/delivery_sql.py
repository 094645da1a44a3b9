"""The claims and the record of :mod:`django_wxlogistics.delivery` as single PostgreSQL statements.

On PostgreSQL the hot path of a push costs one statement per round trip: an
``UPDATE … RETURNING`` that leases a message's events and hands back their rows with their
waybills' (:func:`claim`), then, each time calls come back, one ``WITH`` that marks the
successes sent, sets their waybills' latest action and leases what comes next
(:func:`settle`). They do what the ORM path in ``delivery`` does in several queries, with
the same conditions; ``delivery`` falls back to that path on every other database.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import connections, router

from .enums import EventState
from .models import TraceEvent, Waybill

#: Set to False to run the ORM path on PostgreSQL too (the tests run both).
ENABLED = True


def usable() -> bool:
    return ENABLED and connections[router.db_for_write(TraceEvent)].vendor == "postgresql"


def _columns(model: Any, alias: str) -> tuple[list[str], str]:
    fields = [f for f in model._meta.concrete_fields]
    names = [f.attname for f in fields]
    return names, ", ".join(f'{alias}."{f.column}"' for f in fields)


_EVENT = TraceEvent._meta.db_table
_WAYBILL = Waybill._meta.db_table
_EVENT_NAMES, _EVENT_COLUMNS = _columns(TraceEvent, "e")
_WAYBILL_NAMES, _WAYBILL_COLUMNS = _columns(Waybill, "w")


def _head(exclude: str = "") -> str:
    """The condition that event ``e`` is first in its waybill's line of unsent events."""
    return f"""e."id" = (
           SELECT p."id" FROM "{_EVENT}" AS p
            WHERE p."waybill_id" = e."waybill_id"
              AND p."state" IN (%(pending)s, %(sending)s){exclude}
            ORDER BY p."action_time", p."id"
            LIMIT 1)"""  # noqa: S608


def _chain(heads: str, exclude: str = "") -> str:
    """The chains of the ``heads`` rows: each head with the events that follow it in its
    waybill's line, up to ``chain`` in all, as long as each is pending and due."""
    return f"""
    SELECT c."id" FROM {heads} AS h CROSS JOIN LATERAL (
        SELECT p."id",
               bool_and((p."state" || '') = %(pending)s AND p."next_attempt_at" <= %(now)s)
                   OVER (ORDER BY p."action_time", p."id") AS ok
          FROM "{_EVENT}" AS p
         WHERE p."waybill_id" = h."waybill_id"
           AND p."state" IN (%(pending)s, %(sending)s){exclude}
         ORDER BY p."action_time", p."id"
         LIMIT %(chain)s) AS c
     WHERE c.ok"""  # noqa: S608


# The same conditions as delivery._claim: due, pending, and first of the waybill's unsent
# events (by action_time, then id; see delivery.head_of_line), with the events that follow
# it (its chain). ``state || ''`` keeps the planner on the key's index: the few rows asked
# for are found by id or waybill, never by a scan of every pending event, which statistics
# that lag behind a burst make look cheap. The heads are locked first: a head another
# claim took meanwhile is left out, and with it its chain. Only our own table and column
# names are put into the text; every value is a parameter.
_CLAIM = f"""
WITH heads AS MATERIALIZED (
    SELECT e."id", e."waybill_id" FROM "{_EVENT}" AS e
     WHERE e."{{key}}" = ANY(%(keys)s)
       AND (e."state" || '') = %(pending)s
       AND e."next_attempt_at" <= %(now)s
       AND {_head()}
       FOR UPDATE OF e SKIP LOCKED
), chain AS ({_chain("heads")}
)
UPDATE "{_EVENT}" AS e
   SET "state" = %(sending)s, "lease_expires_at" = %(lease)s, "updated_at" = %(now)s
  FROM "{_WAYBILL}" AS w
 WHERE w."id" = e."waybill_id"
   AND e."id" IN (SELECT "id" FROM chain)
RETURNING {_EVENT_COLUMNS}, {_WAYBILL_COLUMNS}
"""  # noqa: S608

# Record and refill in one statement: mark the events that came back sent (each under its
# own lease), set their waybills' latest action, and lease the next events to push: first
# the next event of each waybill in ``follow`` (those just done), then, with ``room`` left,
# any due events first in their waybill's line. Every sub-statement sees the snapshot taken
# before the statement began, in which the events being marked are still "sending": the
# line checks leave them out by hand (``NOT IN sent``), so a waybill's next event becomes
# first in line exactly when its predecessor is marked here.
_NOT_SENT = """
           AND p."id" NOT IN (SELECT "id" FROM sent)"""

_HEAD = _head(exclude=_NOT_SENT)

_SETTLE = f"""
WITH done AS (
    SELECT * FROM unnest(%(ids)s::bigint[], %(leases)s::timestamptz[]) AS d("id", "lease")
), sent AS (
    UPDATE "{_EVENT}" AS s
       SET "state" = %(sent)s, "sent_at" = %(now)s, "lease_expires_at" = NULL,
           "attempts" = s."attempts" + 1, "last_errcode" = NULL, "last_errmsg" = '',
           "updated_at" = %(now)s
      FROM done
     WHERE s."id" = done."id" AND s."state" = %(sending)s AND s."lease_expires_at" = done."lease"
 RETURNING s."id", s."waybill_id"
), latest AS (
    UPDATE "{_WAYBILL}" AS w
       SET "latest_action_type" = (
               SELECT x."action_type" FROM "{_EVENT}" AS x
                WHERE x."waybill_id" = w."id"
                  AND (x."state" = %(sent)s OR x."id" IN (SELECT "id" FROM sent))
                ORDER BY x."action_time" DESC, x."id" DESC
                LIMIT 1),
           "updated_at" = %(now)s
     WHERE w."id" IN (SELECT "waybill_id" FROM sent)
), nxt AS MATERIALIZED (
    SELECT e."id", e."waybill_id" FROM "{_EVENT}" AS e
     WHERE e."waybill_id" = ANY(%(follow)s::bigint[])
       AND (e."state" || '') = %(pending)s
       AND e."next_attempt_at" <= %(now)s
       AND {_HEAD}
       FOR UPDATE OF e SKIP LOCKED
), due AS MATERIALIZED (
    SELECT e."id", e."waybill_id" FROM "{_EVENT}" AS e
     WHERE %(drain)s
       AND e."state" = %(pending)s
       AND e."next_attempt_at" <= %(now)s
       AND e."id" NOT IN (SELECT "id" FROM nxt)
       AND {_HEAD}
     ORDER BY e."next_attempt_at"
     LIMIT GREATEST(0, %(room)s - (SELECT count(*) FROM nxt))
       FOR UPDATE OF e SKIP LOCKED
), heads AS (
    SELECT "id", "waybill_id" FROM nxt UNION ALL SELECT "id", "waybill_id" FROM due
), chain AS ({_chain("heads", exclude=_NOT_SENT)}
), claimed AS (
    UPDATE "{_EVENT}" AS e
       SET "state" = %(sending)s, "lease_expires_at" = %(lease)s, "updated_at" = %(now)s
      FROM "{_WAYBILL}" AS w
     WHERE w."id" = e."waybill_id"
       AND e."id" IN (SELECT "id" FROM chain)
       AND e."state" = %(pending)s
 RETURNING {_EVENT_COLUMNS}, {_WAYBILL_COLUMNS}
)
SELECT (SELECT coalesce(array_agg("id"), '{{}}') FROM sent), c.*
  FROM (SELECT 1) AS one LEFT JOIN claimed AS c ON true
"""  # noqa: S608


def claim(key: str, keys: list[int], now: datetime, lease: datetime, *, chain: int = 1) -> list[TraceEvent]:
    """Lease the claimable events whose ``key`` ("id" or "waybill_id") is in ``keys``, each
    with up to ``chain - 1`` due events that follow it in its waybill's line."""
    if key not in ("id", "waybill_id"):
        raise ValueError(f"cannot claim by {key!r}")
    values = {"keys": keys, "now": now, "lease": lease, "chain": max(1, chain)}
    return _leased(_CLAIM.format(key=key), values)


def _leased(sql: str, values: dict[str, Any]) -> list[TraceEvent]:
    alias = router.db_for_write(TraceEvent)
    params = {**values, "pending": EventState.PENDING.value, "sending": EventState.SENDING.value}
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    split = len(_EVENT_NAMES)
    events = []
    for row in rows:
        event = TraceEvent.from_db(alias, _EVENT_NAMES, row[:split])
        event.waybill = Waybill.from_db(alias, _WAYBILL_NAMES, row[split:])
        events.append(event)
    events.sort(key=lambda e: (e.action_time, e.pk))
    return events


def settle(
    sent: list[tuple[int, datetime]],
    follow: list[int],
    room: int,
    *,
    drain: bool,
    now: datetime,
    lease: datetime,
    chain: int = 1,
) -> tuple[set[int], list[TraceEvent]]:
    """Mark ``sent`` ((id, lease) pairs) sent and lease what comes next, in one statement.

    Returns the ids it marked (an event whose lease expired meanwhile is not among them)
    and the events it leased under ``lease``: the next event of each waybill in ``follow``,
    then, with ``drain``, due events of any waybill, ``room`` of them at most; each with up
    to ``chain - 1`` due events that follow it in its waybill's line.
    """
    alias = router.db_for_write(TraceEvent)
    params: dict[str, Any] = {
        "ids": [pk for pk, _ in sent],
        "leases": [held for _, held in sent],
        "follow": follow,
        "room": room,
        "drain": drain,
        "chain": max(1, chain),
        "now": now,
        "lease": lease,
        "sent": EventState.SENT.value,
        "pending": EventState.PENDING.value,
        "sending": EventState.SENDING.value,
    }
    with connections[alias].cursor() as cursor:
        cursor.execute(_SETTLE, params)
        rows = cursor.fetchall()
    marked = set(rows[0][0]) if rows else set()
    split = 1 + len(_EVENT_NAMES)
    events = []
    for row in rows:
        if row[1] is None:  # the LEFT JOIN's row when nothing was leased
            continue
        event = TraceEvent.from_db(alias, _EVENT_NAMES, row[1:split])
        event.waybill = Waybill.from_db(alias, _WAYBILL_NAMES, row[split:])
        events.append(event)
    events.sort(key=lambda e: (e.action_time, e.pk))
    return marked, events

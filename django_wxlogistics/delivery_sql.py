"""The claim and the record of :mod:`django_wxlogistics.delivery` as single PostgreSQL statements.

On PostgreSQL the hot path of a push costs two statements per group of events: one
``UPDATE … RETURNING`` that leases the events and hands back their rows with their
waybills', and one that marks the successes sent and sets their waybills' latest action.
They do what the ORM path in ``delivery`` does in four queries, with the same conditions;
``delivery`` falls back to that path on every other database.
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

# The same conditions as delivery._claim: due, pending, and no earlier event of the waybill
# pending or sending (by action_time, then id). Only our own table and column names are
# put into the text; every value is a parameter.
_CLAIM = f"""
UPDATE "{_EVENT}" AS e
   SET "state" = %(sending)s, "lease_expires_at" = %(lease)s, "updated_at" = %(now)s
  FROM "{_WAYBILL}" AS w
 WHERE w."id" = e."waybill_id"
   AND e."{{key}}" = ANY(%(keys)s)
   AND e."state" = %(pending)s
   AND e."next_attempt_at" <= %(now)s
   AND NOT EXISTS (
       SELECT 1 FROM "{_EVENT}" AS p
        WHERE p."waybill_id" = e."waybill_id"
          AND p."state" IN (%(pending)s, %(sending)s)
          AND (p."action_time" < e."action_time"
               OR (p."action_time" = e."action_time" AND p."id" < e."id")))
RETURNING {_EVENT_COLUMNS}, {_WAYBILL_COLUMNS}
"""  # noqa: S608

# The waybill's latest sent action by action_time. The statements of one WITH share a
# snapshot, in which the events just marked are still "sending": they count as sent here.
_RECORD_SENT = f"""
WITH sent AS (
    UPDATE "{_EVENT}"
       SET "state" = %(sent)s, "sent_at" = %(now)s, "lease_expires_at" = NULL,
           "attempts" = "attempts" + 1, "last_errcode" = NULL, "last_errmsg" = '',
           "updated_at" = %(now)s
     WHERE "id" = ANY(%(ids)s) AND "state" = %(sending)s AND "lease_expires_at" = %(lease)s
 RETURNING "id", "waybill_id"
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
)
SELECT "id" FROM sent
"""  # noqa: S608


def claim(key: str, keys: list[int], now: datetime, lease: datetime) -> list[TraceEvent]:
    """Lease the claimable events whose ``key`` ("id" or "waybill_id") is in ``keys``."""
    if key not in ("id", "waybill_id"):
        raise ValueError(f"cannot claim by {key!r}")
    return _leased(_CLAIM.format(key=key), {"keys": keys, "now": now, "lease": lease})


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


def record_sent(ids: list[int], lease: datetime, now: datetime) -> set[int]:
    """Mark these events sent where this lease still holds them; the ids it marked."""
    alias = router.db_for_write(TraceEvent)
    params: dict[str, Any] = {
        "ids": ids,
        "lease": lease,
        "now": now,
        "sent": EventState.SENT.value,
        "sending": EventState.SENDING.value,
    }
    with connections[alias].cursor() as cursor:
        cursor.execute(_RECORD_SENT, params)
        return {row[0] for row in cursor.fetchall()}

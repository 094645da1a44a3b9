"""Which item is first in its line: the head-of-line rule, for the ORM and as SQL text.

The rule is written here once, from one definition: a kind's line (``OutboxKind.line``),
its order (``OutboxKind.order``) and :data:`UNSENT`. :func:`head_of_line` says it to the
ORM, :func:`head_of_line_sql` to the PostgreSQL statements; each builds the same
condition, "the first unsent item of my line is me", from those three.
"""

from __future__ import annotations

from django.db.models import OuterRef, Q, Subquery

from ..enums import EventState
from .kinds import OutboxKind

#: States in which an item still holds back the later items of its line.
UNSENT = (EventState.PENDING, EventState.SENDING)


def head_of_line(kind: OutboxKind) -> Q:
    """True for an unsent item that is first in its line (by the kind's order).

    Written as "the first unsent item of my line is me" rather than "no earlier item is
    unsent": the planner runs it as one probe of the unsent index per row whatever its
    statistics say, where the anti-join form can turn into a scan of every unsent item for
    every candidate (seconds for a backlog of a few thousand, before autovacuum has
    counted it).
    """
    line = kind.line_attname
    first = (
        kind.model._default_manager.filter(**{line: OuterRef(line), "state__in": UNSENT})
        .order_by(*kind.order)
        .values("pk")[:1]
    )
    return Q(pk=Subquery(first))


def head_of_line_sql(kind: OutboxKind, exclude: str = "") -> str:
    """:func:`head_of_line` as SQL: the condition that row ``e`` is first in its line.

    ``exclude`` adds a condition on the line's rows ``p`` (the statement's own writes that
    its snapshot cannot see yet). The states of :data:`UNSENT` are parameters named after
    their values (``%(pending)s``, ``%(sending)s``).
    """
    pk, line = kind.column("pk"), kind.column(kind.line)
    order = ", ".join(f'p."{kind.column(name)}"' for name in kind.order)
    unsent = ", ".join(f"%({state.value})s" for state in UNSENT)
    return f"""e."{pk}" = (
           SELECT p."{pk}" FROM "{kind.model._meta.db_table}" AS p
            WHERE p."{line}" = e."{line}"
              AND p."state" IN ({unsent}){exclude}
            ORDER BY {order}
            LIMIT 1)"""  # noqa: S608

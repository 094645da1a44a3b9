"""What the delivery engine needs to know about one kind of outbound WeChat call.

The engine (claims, the calling threads, the record, the sweep) works on any model that
has its columns, and calls WeChat through one function: a second kind of call with the
same guarantees (at least once, in order within each line, retry timing in the database,
the sweeper) is a new model, a new :class:`OutboxKind` and its tasks, not a second engine.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from django.db import models
from django.dispatch import Signal

from ..exceptions import WeChatError


@dataclass(frozen=True)
class OutboxKind:
    """One kind of outbound call: its model, its lines, how to make one call, what to signal.

    The model holds one row per call to make, with the engine's columns under these names:
    ``state`` (:class:`~django_wxlogistics.enums.EventState`), ``attempts``,
    ``next_attempt_at``, ``lease_expires_at``, ``claim_id`` (a nullable UUID),
    ``last_errcode``, ``last_errmsg``, ``sent_at`` and ``updated_at``.
    """

    #: The kind's name: which Celery tasks a nudge for its items publishes
    #: (:data:`django_wxlogistics.nudges.PUSH_TASKS`).
    name: str
    model: type[models.Model]
    #: The foreign key that splits the rows into lines; each line reaches WeChat in order.
    line: str
    #: The order within a line: fields of the model, the primary key last.
    order: tuple[str, ...]
    #: Make the call for one item: None when WeChat took it, else the WeChatError (returned
    #: or raised; any other exception counts as a transient failure).
    send: Callable[[Any], WeChatError | None]
    #: Sent with ``sender=model`` and :attr:`signal_kwargs` once an item is recorded sent.
    sent_signal: Signal
    #: Sent with ``sender=model``, :attr:`signal_kwargs` and ``error`` once an item failed for good.
    failed_signal: Signal
    #: The signals' keyword arguments for one item.
    signal_kwargs: Callable[[Any], dict[str, Any]]
    #: Optionally, a field of the line's row kept equal to that field of its latest sent item
    #: (by the line's order): ``(line's field, item's field)``.
    latest: tuple[str, str] | None = None
    #: What log lines call one item.
    noun: str = "item"
    #: Optionally, the kind's own wait in seconds before the next attempt, given the error and
    #: the attempts made so far; None where the normal backoff applies.
    retry_delay: Callable[[WeChatError, int], float | None] | None = None
    #: Optionally, what follows an item once it is recorded sent, before its sent signal (a
    #: signal of the kind's own, data no longer needed put away); an error in it is logged.
    after_sent: Callable[[Any], None] | None = None

    @cached_property
    def line_attname(self) -> str:
        """The line's column as the model names it (``waybill_id``)."""
        return str(getattr(self.model._meta.get_field(self.line), "attname", self.line))

    @cached_property
    def line_model(self) -> type[models.Model]:
        model = self.model._meta.get_field(self.line).related_model
        assert isinstance(model, type)
        return model

    @cached_property
    def errmsg_max_length(self) -> int:
        return int(getattr(self.model._meta.get_field("last_errmsg"), "max_length", None) or 512)

    def column(self, name: str) -> str:
        """The database column of the model's field ``name`` (``id`` for the primary key)."""
        field = self.model._meta.pk if name == "pk" else self.model._meta.get_field(name)
        return str(getattr(field, "column", name))

    def line_of(self, item: Any) -> int:
        """The primary key of the line ``item`` stands in."""
        return int(getattr(item, self.line_attname))

    def name_of(self, item_pk: object, *, capital: bool = False) -> str:
        """``trace event 7``: an item in a log line."""
        noun = self.noun[:1].upper() + self.noun[1:] if capital else self.noun
        return f"{noun} {item_pk}"

    def describe(self, item: Any, *, capital: bool = False) -> str:
        """``trace event 7 of waybill SF1``: an item and its line in a log line, by ids only."""
        return f"{self.name_of(item.pk, capital=capital)} of {self.line} {getattr(item, self.line)}"

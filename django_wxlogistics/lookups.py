"""Lookups on the app's columns that answer a value no row can hold instead of failing with a 500.

A NUL character: PostgreSQL cannot store it in text, and refuses a query parameter that
holds one (``DataError``). On PostgreSQL an equality or containment lookup whose value
holds NUL matches nothing, before any query is sent, the way Django treats an integer too
large for its column; a comparison or a regular expression holding NUL has no such answer
and is refused with a ``ValueError`` when the filter is built, on every database.

A year outside 1 to 9999 (``?created_at__year=99999999999``): no date holds one, so
``__year`` and ``__iso_year`` answer as Django's integer lookups do out of range, where
Django itself would raise ``OverflowError`` or ``ValueError`` building the query.

Registered on the app's own fields only: the host's models keep Django's lookups.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from datetime import MAXYEAR, MINYEAR
from typing import Any

from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db import models
from django.db.models import lookups
from django.db.models.functions import ExtractIsoYear, ExtractYear

NUL = "\x00"


def holds_nul(value: Any) -> bool:
    return isinstance(value, str) and NUL in value


class _MatchesNothingWithNul:
    """An equality or containment lookup: a value holding NUL matches no row PostgreSQL can store."""

    rhs: Any

    def process_rhs(self, compiler: Any, connection: Any) -> Any:
        if connection.vendor == "postgresql" and holds_nul(self.rhs):
            raise EmptyResultSet
        return super().process_rhs(compiler, connection)  # type: ignore[misc]


class _InWithoutNul(lookups.In):
    """``__in``: the values holding NUL match nothing, so they drop out of the list."""

    def process_rhs(self, compiler: Any, connection: Any) -> Any:
        if connection.vendor == "postgresql" and self.rhs_is_direct_value() and any(map(holds_nul, self.rhs)):
            # A copy, so that the same query still compiles in full for another database.
            kept = copy.copy(self)
            kept.rhs = [value for value in self.rhs if not holds_nul(value)]
            return lookups.In.process_rhs(kept, compiler, connection)
        return super().process_rhs(compiler, connection)


class _RefusesNul:
    """A comparison or pattern: no answer stands for a value holding NUL, so it is refused."""

    lookup_name: str

    def get_prep_lookup(self) -> Any:
        value = super().get_prep_lookup()  # type: ignore[misc]
        values = value if isinstance(value, (list, tuple)) else [value]
        if any(map(holds_nul, values)):
            raise ValueError(f"A text column cannot be compared with a NUL character (__{self.lookup_name}).")
        return value


class _YearInRange:
    """A year no date can hold: beyond 9999 nothing is later, before 1 nothing is earlier."""

    rhs: Any
    #: what a year below 1 and above 9999 answer: no row, or every row
    underflow: type[Exception] = EmptyResultSet
    overflow: type[Exception] = EmptyResultSet

    def process_rhs(self, compiler: Any, connection: Any) -> Any:
        if isinstance(self.rhs, int):
            if self.rhs < MINYEAR:
                raise self.underflow
            if self.rhs > MAXYEAR:
                raise self.overflow
        return super().process_rhs(compiler, connection)  # type: ignore[misc]


def _guarded(base: type[lookups.Lookup], guard: type, **attrs: Any) -> type[lookups.Lookup]:
    return type(base.__name__, (guard, base), {"__module__": __name__, "__doc__": guard.__doc__, **attrs})


#: Django's lookups on text, each with the answer it gives a value holding NUL.
TEXT_LOOKUPS: list[type[lookups.Lookup]] = [
    *(
        _guarded(base, _MatchesNothingWithNul)
        for base in (
            lookups.Exact,
            lookups.IExact,
            lookups.Contains,
            lookups.IContains,
            lookups.StartsWith,
            lookups.IStartsWith,
            lookups.EndsWith,
            lookups.IEndsWith,
        )
    ),
    _InWithoutNul,
    *(
        _guarded(base, _RefusesNul)
        for base in (
            lookups.GreaterThan,
            lookups.GreaterThanOrEqual,
            lookups.LessThan,
            lookups.LessThanOrEqual,
            lookups.Range,
            lookups.Regex,
            lookups.IRegex,
        )
    ),
]

_YEAR_LOOKUPS = [
    _guarded(lookups.YearExact, _YearInRange),
    _guarded(lookups.YearGt, _YearInRange, underflow=FullResultSet),
    _guarded(lookups.YearGte, _YearInRange, underflow=FullResultSet),
    _guarded(lookups.YearLt, _YearInRange, overflow=FullResultSet),
    _guarded(lookups.YearLte, _YearInRange, overflow=FullResultSet),
]


class _ExtractYear(ExtractYear):
    pass


class _ExtractIsoYear(ExtractIsoYear):
    pass


for _year_lookup in _YEAR_LOOKUPS:
    _ExtractYear.register_lookup(_year_lookup)
    _ExtractIsoYear.register_lookup(_year_lookup)


def guard_columns(model_classes: Iterable[type[models.Model]]) -> None:
    """Register the guarded lookups on the text and date columns of these models (on the fields,
    not their classes)."""
    for model in model_classes:
        for field in model._meta.local_fields:
            if isinstance(field, (models.CharField, models.TextField)):
                for lookup in TEXT_LOOKUPS:
                    field.register_lookup(lookup)
            elif isinstance(field, models.DateField):  # DateTimeField too
                field.register_lookup(_ExtractYear)
                field.register_lookup(_ExtractIsoYear)

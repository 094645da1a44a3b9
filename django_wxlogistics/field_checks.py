"""How a field of a WeChat body is checked before sending: one collector that gathers a message per field.

Pure, no I/O. :mod:`~django_wxlogistics.shipping_fields` and
:mod:`~django_wxlogistics.tracking_fields` build on it; every bad field is reported at once,
named by its path in the body (``shipping_list[0].contact.receiver_contact``).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from functools import cache
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _

#: the largest Unix time WeChat's second fields hold (an unsigned 32-bit integer: the year 2106)
MAX_UNIX_SECONDS = 2**32 - 1
#: a time at or above this is not seconds (that is the year 5138) but milliseconds (1973 on)
MILLISECONDS_FROM = 10**11


class InvalidFields(ValidationError, ValueError):
    """Fields WeChat would refuse: a ValidationError naming each one and why, and a ValueError."""


def kind(value: Any) -> str:
    return type(value).__name__


@cache
def _values_of(choices: type[models.IntegerChoices]) -> frozenset[int]:
    """A choices class's values, once: ``choices.values`` builds a new list at every read."""
    return frozenset(choices.values)


class FieldErrors:
    """The messages of one body, by field; :meth:`raise_any` raises them all as :class:`InvalidFields`."""

    def __init__(self) -> None:
        self.by_field: dict[str, list[ValidationError]] = {}

    def add(self, field: str, message: str, code: str) -> None:
        self.by_field.setdefault(field, []).append(ValidationError(message, code=code))

    def has(self, field: str) -> bool:
        return field in self.by_field

    def raise_any(self) -> None:
        if self.by_field:
            raise InvalidFields(dict(self.by_field))

    def required(self, field: str) -> None:
        self.add(field, _("This field is required."), "required")

    def text(self, field: str, value: Any, *, required: bool = True) -> str | None:
        """A non-blank string, or None (with a message when it is required or not a string)."""
        if value is None or value == "":
            if required:
                self.required(field)
            return None
        if not isinstance(value, str):
            self.add(field, _("Give a string, not %(kind)s.") % {"kind": kind(value)}, "invalid")
            return None
        if not value.strip():
            self.add(field, _("This field must not be blank."), "blank")
            return None
        return value

    def max_bytes(self, field: str, value: str | None, limit: int) -> None:
        if value is not None and len(value.encode("utf-8")) > limit:
            self.add(
                field,
                _("It has %(length)d bytes in UTF-8; WeChat takes at most %(max)d.")
                % {"length": len(value.encode("utf-8")), "max": limit},
                "too_long",
            )

    def max_chars(self, field: str, value: str | None, limit: int) -> None:
        if value is not None and len(value) > limit:
            self.add(
                field,
                _("It has %(length)d characters; WeChat takes at most %(max)d.")
                % {"length": len(value), "max": limit},
                "too_long",
            )

    def choice(self, field: str, value: Any, choices: type[models.IntegerChoices]) -> int | None:
        if value is None:
            self.required(field)
            return None
        if isinstance(value, int) and not isinstance(value, bool) and value in _values_of(choices):
            return int(value)
        valid = ", ".join(f"{member.value} ({member.label})" for member in choices)
        self.add(
            field,
            _("%(value)r is not one of WeChat's values: %(valid)s.") % {"value": value, "valid": valid},
            "invalid_choice",
        )
        return None

    def mapping(self, field: str, value: Any, known: Collection[str]) -> Mapping[str, Any] | None:
        """A mapping whose keys are all among ``known`` (a misspelt key is named, not dropped)."""
        if value is None:
            self.required(field)
            return None
        if not isinstance(value, Mapping):
            self.add(field, _("Give an object (a dict), not %(kind)s.") % {"kind": kind(value)}, "invalid")
            return None
        unknown = sorted(str(k) for k in value if k not in known)
        if unknown:
            self.add(
                field,
                _("Unknown fields %(unknown)s; WeChat's are %(known)s.")
                % {"unknown": ", ".join(unknown), "known": ", ".join(known)},
                "unknown_field",
            )
        return value

    def items(self, field: str, value: Any, most: int | None = None) -> Sequence[Any] | None:
        """A list of 1 to ``most`` items (1 or more without ``most``), or None with a message."""
        if value is None:
            self.required(field)
            return None
        if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, (list, tuple)):
            self.add(field, _("Give a list, not %(kind)s.") % {"kind": kind(value)}, "invalid")
            return None
        if not value:
            self.add(field, _("Give one item or more."), "count")
            return None
        if most is not None and len(value) > most:
            self.add(
                field,
                _("It has %(count)d items; WeChat takes 1 to %(max)d.") % {"count": len(value), "max": most},
                "count",
            )
            return None  # a message for each of too many items would bury this one
        return value

    def aware(self, field: str, value: datetime) -> datetime | None:
        if timezone.is_naive(value):
            self.add(
                field,
                _("This datetime has no time zone; give an aware one (django.utils.timezone.now())."),
                "naive",
            )
            return None
        return value

    def unix_seconds(self, field: str, value: Any) -> int | None:
        """Unix seconds from an int or an aware datetime; a value that looks like milliseconds is refused."""
        if isinstance(value, datetime):
            moment = self.aware(field, value)
            return None if moment is None else int(moment.timestamp())
        if isinstance(value, bool) or not isinstance(value, int):
            self.add(
                field,
                _("Give whole Unix seconds (an int) or an aware datetime, not %(kind)s.")
                % {"kind": kind(value)},
                "invalid",
            )
            return None
        if value >= MILLISECONDS_FROM:
            self.add(
                field,
                _("%(value)d looks like milliseconds; WeChat takes Unix seconds: %(seconds)d.")
                % {"value": value, "seconds": value // 1000},
                "milliseconds",
            )
            return None
        if not 1 <= value <= MAX_UNIX_SECONDS:
            self.add(
                field,
                _("%(value)d is no Unix time WeChat takes (1 to %(max)d seconds).")
                % {"value": value, "max": MAX_UNIX_SECONDS},
                "out_of_range",
            )
            return None
        return value

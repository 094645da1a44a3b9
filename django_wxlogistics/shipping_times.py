"""How WeChat's shipping information writes a moment: RFC 3339 text with an offset, checked."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from .field_checks import FieldErrors, kind

__all__ = ["clean_upload_time", "format_rfc3339"]

_RFC3339 = re.compile(
    r"(?P<Y>\d{4})-(?P<M>\d{2})-(?P<D>\d{2})[Tt](?P<h>\d{2}):(?P<m>\d{2}):(?P<s>\d{2})(?:\.\d+)?"
    r"(?:[Zz]|[+-](?P<oh>\d{2}):(?P<om>\d{2}))"
)
_NO_COLON_OFFSET = re.compile(r".*[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?[+-]\d{4}")
_SPACE_FOR_PLUS = re.compile(r".*[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)? \d{2}:\d{2}")


def format_rfc3339(moment: datetime) -> str:
    """An aware datetime as WeChat's ``upload_time`` shows it: ``2022-12-15T13:29:35.120+08:00``."""
    return moment.isoformat(timespec="milliseconds")


def clean_upload_time(errors: FieldErrors, field: str, value: Any) -> str | None:
    if value is None:
        return format_rfc3339(timezone.localtime(timezone.now()))
    if isinstance(value, datetime):
        moment = errors.aware(field, value)
        return None if moment is None else format_rfc3339(moment)
    if not isinstance(value, str):
        errors.add(
            field,
            _("Give an aware datetime or RFC 3339 text, not %(kind)s.") % {"kind": kind(value)},
            "invalid",
        )
        return None
    match = _RFC3339.fullmatch(value)
    if match is None:
        if _SPACE_FOR_PLUS.fullmatch(value):
            hint = _("the offset's + became a space (form-encoding?); send the JSON as it is")
        elif _NO_COLON_OFFSET.fullmatch(value):
            hint = _("write the offset with a colon, +08:00, not +0800")
        else:
            hint = _("it needs a date, T, a time and an offset")
        errors.add(
            field,
            _("%(value)r is not RFC 3339 with an offset, e.g. 2022-12-15T13:29:35.120+08:00: %(hint)s.")
            % {"value": value, "hint": hint},
            "invalid",
        )
        return None
    year, month, day, hour, minute, second, offset_hours, offset_minutes = (
        int(part or 0) for part in match.group("Y", "M", "D", "h", "m", "s", "oh", "om")
    )
    try:
        datetime(year, month, day, hour, minute, second)
        if offset_hours > 23 or offset_minutes > 59:
            raise ValueError(_("the offset is out of range"))
    except ValueError as exc:
        errors.add(
            field,
            _("%(value)r is no real date and time: %(error)s.") % {"value": value, "error": exc},
            "invalid",
        )
        return None
    return value

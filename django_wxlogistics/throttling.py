"""How often one user may look up contacts: ``WXLOGISTICS["CONTACT_RATE"]``, one counter per user
shared by the admin and the API.

Each lookup spends one of the app's daily ``getContact`` calls at WeChat. The counter is DRF's
(:class:`~rest_framework.throttling.SimpleRateThrottle`), kept in Django's default cache under
its own scope: one counter for every process sharing that cache.
"""

from __future__ import annotations

import math
import re
from typing import Any

from django.http import HttpRequest
from django.utils.translation import ngettext
from rest_framework.throttling import UserRateThrottle

from .conf import wx_settings
from .exceptions import ConfigurationError

#: The period words DRF's rates use, each in seconds.
PERIODS = {
    **dict.fromkeys(("s", "sec", "second", "seconds"), 1),
    **dict.fromkeys(("m", "min", "minute", "minutes"), 60),
    **dict.fromkeys(("h", "hour", "hours"), 3600),
    **dict.fromkeys(("d", "day", "days"), 86400),
}
_RATE = re.compile(r"(?P<count>[0-9]+)/(?P<period>[a-z]+)")


def parse_contact_rate(rate: Any) -> tuple[int, int] | None:
    """``"30/min"`` → ``(30, 60)``; ``None`` (no limit) → None. A ValueError says what is wrong."""
    if rate is None:
        return None
    if not isinstance(rate, str):
        raise ValueError(f"it must be a string such as '30/min' or None, not {type(rate).__name__}")
    found = _RATE.fullmatch(rate.strip())
    if found is None or found.group("period") not in PERIODS:
        raise ValueError(f"{rate!r} is not a number of lookups per s, min, hour or day")
    count = int(found.group("count"))
    if count < 1:
        raise ValueError(f"{rate!r} allows no lookup at all")
    return count, PERIODS[found.group("period")]


class ContactRateThrottle(UserRateThrottle):
    """DRF's per-user throttle, at the ``CONTACT_RATE`` rate, under its own scope.

    Tests set ``timer`` (DRF's clock) rather than wait.
    """

    scope = "wxlogistics_contact"

    num_requests: int | None
    duration: int | None

    def get_rate(self) -> str | None:
        return wx_settings.CONTACT_RATE

    def parse_rate(self, rate: str | None) -> tuple[int | None, int | None]:
        try:
            parsed = parse_contact_rate(rate)
        except ValueError as exc:
            raise ConfigurationError(
                f"WXLOGISTICS['CONTACT_RATE'] is not a rate: {exc}. Run 'manage.py check'.",
                setting="CONTACT_RATE",
            ) from None
        return parsed if parsed is not None else (None, None)


def contact_lookup_wait(request: HttpRequest) -> int | None:
    """Counts one contact lookup of ``request.user``: None when it may go ahead, else the whole
    seconds until it may (the refused lookup is not counted).

    Raises ConfigurationError for a bad ``CONTACT_RATE``; the cache backend's errors pass through.
    """
    throttle = ContactRateThrottle()
    if throttle.allow_request(request, None):  # type: ignore[arg-type]
        return None
    wait = throttle.wait()  # None when the history outgrew a lowered rate: a whole period then
    return max(1, math.ceil(wait if wait is not None else throttle.duration or 1))


def too_many_lookups_message(wait: int) -> str:
    """What a refused lookup says, in the active language."""
    return ngettext(
        "Too many contact lookups (at most %(rate)s per user). Try again in %(seconds)d second.",
        "Too many contact lookups (at most %(rate)s per user). Try again in %(seconds)d seconds.",
        wait,
    ) % {"rate": wx_settings.CONTACT_RATE, "seconds": wait}

"""How often one user may look up contacts: ``WXLOGISTICS["CONTACT_RATE"]``, one counter per user
shared by the admin and the API; and, at the same rate under a counter of its own, how often one
user may ask WeChat about a payment or its carriers, in the admin and over the API.

Each lookup spends one of the app's daily ``getContact`` calls at WeChat. The counter is DRF's
(:class:`~rest_framework.throttling.SimpleRateThrottle`), kept in Django's default cache under
its own scope: one counter for every process sharing that cache.
"""

from __future__ import annotations

import math

from django.http import HttpRequest
from django.utils.translation import ngettext
from rest_framework.throttling import UserRateThrottle

from .conf import parse_contact_rate, wx_settings


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
        parsed = parse_contact_rate(rate)  # CONTACT_RATE, whose rule passed when it was read
        return parsed if parsed is not None else (None, None)


class WeChatLookupRateThrottle(ContactRateThrottle):
    """``CONTACT_RATE`` for the lookups of the merchant's side (``get_order``, a refreshed
    ``get_delivery_list``): WeChat's quota for those is not ``getContact``'s, so neither is the counter."""

    scope = "wxlogistics_wechat_lookup"


def contact_lookup_wait(request: HttpRequest) -> int | None:
    """Counts one contact lookup of ``request.user``: None when it may go ahead, else the whole
    seconds until it may (the refused lookup is not counted).

    Raises ConfigurationError for a bad ``CONTACT_RATE``; the cache backend's errors pass through.
    """
    return _wait(ContactRateThrottle(), request)


def wechat_lookup_wait(request: HttpRequest) -> int | None:
    """As :func:`contact_lookup_wait`, for a lookup of WeChat's view of a payment or of its carriers."""
    return _wait(WeChatLookupRateThrottle(), request)


def _wait(throttle: ContactRateThrottle, request: HttpRequest) -> int | None:
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


def too_many_wechat_lookups_message(wait: int) -> str:
    """What a refused lookup of a payment or the carriers at WeChat says, in the active language."""
    return ngettext(
        "Too many lookups at WeChat (at most %(rate)s per user). Try again in %(seconds)d second.",
        "Too many lookups at WeChat (at most %(rate)s per user). Try again in %(seconds)d seconds.",
        wait,
    ) % {"rate": wx_settings.CONTACT_RATE, "seconds": wait}

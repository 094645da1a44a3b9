"""Whether the delivery settings hold together: W020-W022.

The lease against ``TIMEOUT`` is the client's W010.
"""

from __future__ import annotations

from celery import current_app
from django.core.checks import CheckMessage, Warning

from ..conf import wx_settings


def check_delivery_settings() -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    lease = wx_settings.valid("LEASE_SECONDS")
    base, cap = wx_settings.valid("RETRY_BACKOFF_BASE"), wx_settings.valid("RETRY_BACKOFF_CAP")
    if base and cap and cap < base:
        messages.append(
            Warning(
                f"WXLOGISTICS['RETRY_BACKOFF_CAP'] ({cap:g}) is smaller than RETRY_BACKOFF_BASE ({base:g}).",
                hint="The cap bounds the longest wait between two attempts; make it larger than the base.",
                id="wxlogistics.W020",
            )
        )
    if cap is not None and cap > 3600:
        messages.append(
            Warning(
                f"WXLOGISTICS['RETRY_BACKOFF_CAP'] is {cap:g} s: after WeChat recovers, an event could "
                "wait more than an hour for its next attempt.",
                hint="Keep the cap at a few minutes (the default is 600); MAX_ATTEMPTS bounds the total.",
                id="wxlogistics.W021",
            )
        )
    visibility = _broker_visibility_timeout()
    if visibility is not None and lease is not None and visibility <= lease:
        messages.append(
            Warning(
                f"The broker's visibility_timeout ({visibility:g} s) is not longer than "
                f"WXLOGISTICS['LEASE_SECONDS'] ({lease:g} s): the broker would hand a message to a "
                "second worker while the first is still pushing its event.",
                hint='Set CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}.',
                id="wxlogistics.W022",
            )
        )
    return messages


def _broker_visibility_timeout() -> float | None:
    """The broker's ``visibility_timeout`` in seconds, when Celery's settings give a positive one."""
    try:
        value = (current_app.conf.broker_transport_options or {}).get("visibility_timeout")
    except Exception:  # no usable Celery app: nothing to compare
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return float(value)
    return None

"""How much the pipeline takes on at once: its settings as the numbers it works with."""

from __future__ import annotations

from ..conf import wx_settings
from ..nudges import message_size

__all__ = ["chain_length", "concurrency", "message_size"]


def chain_length() -> int:
    """``PUSH_CHAIN``: a line's first item and the due items behind it, leased together."""
    return wx_settings.PUSH_CHAIN


def concurrency() -> int:
    """``PUSH_CONCURRENCY``: the calls one task keeps in flight."""
    return wx_settings.PUSH_CONCURRENCY

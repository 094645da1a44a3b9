"""How much the pipeline takes on at once: its settings as the numbers it works with."""

from __future__ import annotations

from ..conf import wx_settings


def chain_length() -> int:
    """``PUSH_CHAIN``: a line's first item and the due items behind it, leased together."""
    return wx_settings.PUSH_CHAIN


def concurrency() -> int:
    """``PUSH_CONCURRENCY``: the calls one task keeps in flight."""
    return wx_settings.PUSH_CONCURRENCY


def message_size() -> int:
    """The most lines one broker message names: four times ``PUSH_CONCURRENCY``, as many
    chains as one task keeps in hand (one per calling thread, three queued behind it).

    The more a task has in hand, the less of it is the tail in which its last chains run
    and its other threads wait for the next message: at 50 ms of latency, twice gave 0.80–0.81
    of the ceiling, four times 0.85–0.87 (``docs/benchmarks.md``)."""
    return 4 * concurrency()

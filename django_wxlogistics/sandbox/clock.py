"""The sandbox's clock: what token lifetimes, the rate limit's window and payments' times are
measured by.

It runs with the machine's monotonic clock, and the control API can move it forward or stop
it (``/__sandbox__/clock``), so that a test expires a token or empties the rate limit's
window at once instead of sleeping. Latency and hangs are real waits: they stand for the
network, not for WeChat's sense of time.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Any


class SandboxClock:
    """Seconds that only go forward: the monotonic clock, plus what was advanced, or stopped."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._offset = 0.0  # seconds ahead of the monotonic clock
        self._advanced = 0.0  # what advance() added, for the control API to report
        self._stopped_at: float | None = None

    def now(self) -> float:
        with self._lock:
            if self._stopped_at is not None:
                return self._stopped_at
            return time.monotonic() + self._offset

    def unix(self) -> float:
        """The Unix time by this clock: the machine's wall clock, moved (or stopped) as it is.

        Times WeChat writes into its answers and compares with (a payment's ``pay_time``, when
        a parcel shipped, a receipt time not in the future) read this one.
        """
        return self.now() - time.monotonic() + time.time()

    def advance(self, seconds: Any) -> None:
        """Move the clock ``seconds`` forward (a number >= 0); ValueError otherwise."""
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not math.isfinite(seconds):
            raise ValueError(f"advance must be a number of seconds, not {seconds!r}")
        if seconds < 0:
            raise ValueError(f"advance must be >= 0: the clock never goes back (got {seconds!r})")
        with self._lock:
            self._offset += float(seconds)
            self._advanced += float(seconds)
            if self._stopped_at is not None:
                self._stopped_at += float(seconds)

    def stop(self, stopped: Any) -> None:
        """Stop the clock where it is (True), or let it run on from there (False)."""
        if not isinstance(stopped, bool):
            raise ValueError("stopped must be true or false")
        with self._lock:
            if stopped and self._stopped_at is None:
                self._stopped_at = time.monotonic() + self._offset
            elif not stopped and self._stopped_at is not None:
                # Run on from the stopped time: nothing jumps, forward or back.
                self._offset = self._stopped_at - time.monotonic()
                self._stopped_at = None

    def reset(self) -> None:
        """Back to the machine's clock, running."""
        with self._lock:
            self._offset = self._advanced = 0.0
            self._stopped_at = None

    def to_dict(self) -> dict[str, Any]:
        with self._lock:
            return {"advanced": round(self._advanced, 6), "stopped": self._stopped_at is not None}

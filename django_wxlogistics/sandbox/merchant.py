"""What the sandbox remembers of the merchant's side: payments, the tracking component's waybills
and the carrier list."""

from __future__ import annotations

from typing import Any

from .carriers import Carriers
from .clock import SandboxClock
from .payments import PaymentBook
from .tracking import TrackingBook


class MerchantSide:
    """The merchant's side of one sandbox; each part keeps its own lock."""

    def __init__(self, clock: SandboxClock) -> None:
        self.payments = PaymentBook(clock)
        self.tracking = TrackingBook()
        self.carriers = Carriers()

    def reset(self) -> None:
        self.payments.reset()
        self.tracking.reset()
        self.carriers.reset()

    def stats(self) -> dict[str, Any]:
        with self.payments.lock:
            payments = len(self.payments.payments)
        with self.tracking.lock:
            tracked = len(self.tracking.waybills)
        return {"payments": payments, "tracked_waybills": tracked}

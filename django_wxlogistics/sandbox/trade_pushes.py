"""WeChat's shipping-information pushes (``trade_manage_*``) on their way to the shop: queued when a
payment's shipping completes, its receipt is confirmed, it is 48 hours unshipped, or the control
API asks; pushed from a thread of their own, signed (and encrypted in safe mode) as WeChat does,
and retried a bounded number of times until the shop answers ``success``."""

from __future__ import annotations

import copy
import heapq
import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from . import trade_events
from .payments import WAITING, PaymentBook, PaymentConflict, SandboxPayment
from .pusher import PushConfig, post_push, signed_body

logger = logging.getLogger("django_wxlogistics.sandbox")

#: what a mini program's message URL answers when it took the push
SUCCESS = b"success"
#: WeChat pushes a message once and retries it three times
MAX_ATTEMPTS = 4
#: seconds before each retry (real time: they stand for the network, not WeChat's clock)
RETRY_DELAYS = (0.5, 1.0, 2.0)
#: how often the pushing thread looks for payments due for a shipping reminder (real seconds)
CHECK_EVERY = 30.0

QUEUED = "queued"  # waiting for its first attempt or a retry
DELIVERED = "delivered"  # the shop answered success
FAILED = "failed"  # every attempt failed, or the push is no longer configured


class TradePushes:
    """The queue, the pushing thread and the log of one sandbox's ``trade_manage_*`` pushes."""

    def __init__(self, config: Callable[[], PushConfig], book: PaymentBook, max_pushes: int = 10_000) -> None:
        self._config = config
        self.book = book
        self._cond = threading.Condition()
        self._log: deque[dict[str, Any]] = deque(maxlen=max_pushes)
        self._heap: list[tuple[float, int, dict[str, Any]]] = []
        self._order = itertools.count()
        self._busy = 0
        self._thread: threading.Thread | None = None
        self._stopped = False
        self.reset()
        book.listeners.append(self.payment_changed)

    def reset(self) -> None:
        """Forget every push, queued ones too (one on its way ends unrecorded)."""
        with self._cond:
            self._log.clear()
            self._heap.clear()
            self._next_id = 1
            self._generation = getattr(self, "_generation", 0) + 1
            #: transaction_id -> when (sandbox Unix time) its shipping reminder was pushed
            self.reminded: dict[str, int] = {}
            self._cond.notify_all()

    def stop(self) -> None:
        """End the pushing thread (what is queued stays unpushed; a server started again pushes it)."""
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout=5)
            if thread.is_alive():
                return  # still on a push: it ends after it
        with self._cond:
            self._thread, self._stopped = None, False

    # -- queueing ---------------------------------------------------------------------------

    def configured(self) -> bool:
        return self._config().missing() is None

    def enqueue(self, fields: dict[str, Any], *, required: bool = False) -> dict[str, Any] | None:
        """Queue the push of ``fields``; the push as the log shows it. Without a configured push
        nothing is queued: None, or ValueError saying what to configure when ``required``."""
        missing = self._config().missing()
        if missing:
            if required:
                raise ValueError(missing)
            return None
        with self._cond:
            record: dict[str, Any] = {
                "id": self._next_id,
                "event": fields["Event"],
                "transaction_id": fields.get("transaction_id"),
                "merchant_trade_no": fields.get("merchant_trade_no"),
                "state": QUEUED,
                "ok": False,
                "attempts": 0,
                "error": None,
                "queued_at": time.time(),
                "delivered_at": None,
                "fields": fields,
                "tries": [],
            }
            self._next_id += 1
            self._log.append(record)
            self._schedule(record, 0.0)
            self._start()
            return copy.deepcopy(record)

    def _schedule(self, record: dict[str, Any], delay: float) -> None:
        job = {"record": record, "generation": self._generation}
        heapq.heappush(self._heap, (time.monotonic() + delay, next(self._order), job))
        self._cond.notify_all()

    def _start(self) -> None:
        if self._thread is None and not self._stopped:
            self._thread = threading.Thread(
                target=self._run, name="wxlogistics-sandbox-trade-pushes", daemon=True
            )
            self._thread.start()

    def payment_changed(self, kind: str, payment: SandboxPayment) -> None:
        """What WeChat pushes when a payment changes (called under the payment book's lock)."""
        now = int(self.book.clock.unix())
        if kind in ("shipped", "confirmed"):
            self.enqueue(trade_events.order_settlement(payment, now))
        elif kind == "created":
            with self._cond:
                self._start()  # so that the thread looks for reminders due

    # -- the control API's pushes -----------------------------------------------------------

    def remind_due(self) -> list[dict[str, Any]]:
        """Push ``trade_manage_remind_shipping`` for every payment 48 hours unshipped and not yet
        reminded of, by the sandbox's clock; the pushes queued (none without a configured push)."""
        if not self.configured():
            return []
        queued = []
        with self.book.lock:
            now = self.book.clock.unix()
            for payment in sorted(self.book.payments.values(), key=lambda p: p.seq):
                if payment.transaction_id in self.reminded or not trade_events.due_for_reminder(payment, now):
                    continue
                pushed = self.enqueue(trade_events.remind_shipping(payment, int(now)))
                if pushed is not None:
                    self.reminded[payment.transaction_id] = int(now)
                    queued.append(pushed)
        return queued

    def remind_shipping(self, transaction_id: str) -> dict[str, Any]:
        """Push the payment's shipping reminder now, whenever it was paid; PaymentConflict (409)
        when it is not awaiting shipment."""
        payment = self.book.get(transaction_id)
        with self.book.lock:
            if payment.order_state != WAITING:
                raise PaymentConflict(
                    f"payment {transaction_id!r} is not awaiting shipment (order_state "
                    f"{payment.order_state}): WeChat reminds of unshipped payments only"
                )
            now = int(self.book.clock.unix())
            pushed = self.enqueue(trade_events.remind_shipping(payment, now), required=True)
            self.reminded[transaction_id] = now
        assert pushed is not None
        return pushed

    def order_settlement(self, transaction_id: str) -> dict[str, Any]:
        """Push the payment's ``trade_manage_order_settlement`` again, in its current form;
        PaymentConflict (409) before its shipping is complete."""
        payment = self.book.get(transaction_id)
        with self.book.lock:
            if payment.shipped_time is None:
                raise PaymentConflict(
                    f"payment {transaction_id!r} has no complete shipping yet: WeChat pushes "
                    "trade_manage_order_settlement once shipping is complete"
                )
            fields = trade_events.order_settlement(payment, int(self.book.clock.unix()))
        pushed = self.enqueue(fields, required=True)
        assert pushed is not None
        return pushed

    def remind_access_api(self, msg: str | None = None) -> dict[str, Any]:
        """Push ``trade_manage_remind_access_api`` (the account recorded shipping by hand)."""
        if msg is not None and (not isinstance(msg, str) or not msg.strip()):
            raise ValueError("msg must be a non-empty string, or left out for WeChat's words")
        fields = trade_events.remind_access_api(int(self.book.clock.unix()), msg)
        pushed = self.enqueue(fields, required=True)
        assert pushed is not None
        return pushed

    # -- reading ----------------------------------------------------------------------------

    def push_list(self, transaction_id: str | None = None, event: str | None = None) -> list[dict[str, Any]]:
        """Every push with its outcome, oldest first; filtered by payment and/or event."""
        with self._cond:
            pushes = [copy.deepcopy(p) for p in self._log]
        return [
            p
            for p in pushes
            if (not transaction_id or p["transaction_id"] == transaction_id)
            and (not event or p["event"] == event)
        ]

    def wait(self, timeout: float) -> bool:
        """Wait until nothing is queued or on its way (at most ``timeout`` seconds); True if so."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._heap and not self._busy, timeout)

    def count(self) -> int:
        with self._cond:
            return len(self._log)

    def pending(self) -> int:
        with self._cond:
            return len(self._heap) + self._busy

    # -- the pushing thread -----------------------------------------------------------------

    def _run(self) -> None:
        last_check = time.monotonic()
        while True:
            job: dict[str, Any] | None = None
            with self._cond:
                if self._stopped:
                    return
                now = time.monotonic()
                if self._heap and self._heap[0][0] <= now:
                    job = heapq.heappop(self._heap)[2]
                    self._busy += 1
                else:
                    wait = CHECK_EVERY - (now - last_check)
                    if self._heap:
                        wait = min(wait, self._heap[0][0] - now)
                    if wait > 0:
                        self._cond.wait(wait)
                        continue
            if job is None:
                last_check = time.monotonic()
                try:
                    self.remind_due()
                except Exception:  # the thread must live on; the log says what broke
                    logger.exception("looking for payments due for a shipping reminder failed")
                continue
            try:
                self._attempt(job)
            except Exception:
                logger.exception("a trade_manage push failed")
            finally:
                with self._cond:
                    self._busy -= 1
                    self._cond.notify_all()

    def _attempt(self, job: dict[str, Any]) -> None:
        record = job["record"]
        config = self._config()
        missing = config.missing()
        attempt = deliver(config, record["fields"]) if not missing else {"error": missing}
        with self._cond:
            if job["generation"] != self._generation:
                return  # the sandbox was reset meanwhile
            record["tries"].append(attempt)
            record["attempts"] += 1
            record["error"] = attempt.get("error")
            if attempt.get("ok"):
                record["state"], record["ok"], record["delivered_at"] = DELIVERED, True, time.time()
            elif missing or record["attempts"] >= MAX_ATTEMPTS:
                record["state"] = FAILED
            else:
                self._schedule(record, RETRY_DELAYS[min(record["attempts"], len(RETRY_DELAYS)) - 1])
        outcome = "success" if attempt.get("ok") else attempt.get("error")
        logger.info("push %s #%s -> %s: %s", record["event"], record["id"], config.url, outcome)


def deliver(config: PushConfig, fields: dict[str, Any]) -> dict[str, Any]:
    """POST ``fields`` once, as WeChat pushes a mini program's message; what happened.

    ``ok`` is true when the shop answered HTTP 200 with ``success`` (as sent, in either mode).
    """
    assert config.url is not None
    query, body = signed_body(config, fields)
    attempt: dict[str, Any] = {
        "time": time.time(),
        "url": config.url,
        "format": config.format,
        "mode": config.mode,
        "status": None,
        "duration_ms": None,
        "reply": None,
        "ok": False,
        "error": None,
    }
    response, attempt["error"], attempt["duration_ms"] = post_push(config, query, body)
    if response is None:
        return attempt
    attempt["status"] = response.status_code
    attempt["reply"] = response.text[:500]
    if attempt["error"] is None and response.content.strip() != SUCCESS:
        attempt["error"] = f"the shop answered {response.text[:80]!r}, not 'success'"
    attempt["ok"] = attempt["error"] is None
    return attempt

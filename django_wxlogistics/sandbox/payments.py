"""The WeChat Pay payments the sandbox knows, as WeChat's shipping-information service sees them:
who paid, how much, the order state, and when each becomes known after the payment callback."""

from __future__ import annotations

import copy
import re
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .clock import SandboxClock

#: order_state: WeChat's page documents 1 to 6; any other number is shown as it is
WAITING, SHIPPED, CONFIRMED, COMPLETED, REFUNDED, SETTLING = 1, 2, 3, 4, 5, 6
ORDER_STATES: dict[int, tuple[str, str]] = {
    WAITING: ("待发货", "Awaiting shipment"),
    SHIPPED: ("已发货", "Shipped"),
    CONFIRMED: ("确认收货", "Receipt confirmed"),
    COMPLETED: ("交易完成", "Completed"),
    REFUNDED: ("已退款", "Refunded"),
    SETTLING: ("资金待结算", "Funds awaiting settlement"),
}
#: WeChat Pay's sample merchant number, the default ``mchid``
DEFAULT_MCHID = "1900000109"
#: what out_trade_no may hold, by WeChat Pay's rules
_OUT_TRADE_NO = re.compile(r"[0-9A-Za-z_\-*]{6,32}")
PAYMENT_FIELDS = (
    "transaction_id",
    "mchid",
    "sub_mchid",
    "out_trade_no",
    "openid",
    "amount",
    "description",
    "state",
    "pay_time",
    "unknown_for",
)


class PaymentConflict(ValueError):
    """The payment cannot do that in its state; the control API answers 409."""


@dataclass
class SandboxPayment:
    transaction_id: str
    mchid: str
    out_trade_no: str
    openid: str
    amount: int
    description: str
    pay_time: int
    seq: int
    sub_mchid: str = ""
    order_state: int = WAITING
    #: on the sandbox's clock: until then WeChat answers 10060001, as right after a payment
    known_at: float = 0.0
    combined_into: str | None = None
    sub_payments: list[str] = field(default_factory=list)
    #: the last shipping information accepted, as uploaded (with ``upload_unix``)
    shipping: dict[str, Any] | None = None
    finish_shipping_count: int = 0
    reshipped: bool = False
    uploads: int = 0
    shipped_time: int | None = None
    reminded_at: int | None = None
    received_time: int | None = None
    confirm_receive_time: int | None = None
    settlement_time: int | None = None
    refunded_at: int | None = None

    def merchant_id(self) -> str:
        """The merchant number a request names: the sub-merchant's when there is one."""
        return self.sub_mchid or self.mchid

    def to_dict(self, now: float) -> dict[str, Any]:
        """The payment as the control API and the page show it."""
        return {
            "transaction_id": self.transaction_id,
            "mchid": self.mchid,
            "sub_mchid": self.sub_mchid,
            "out_trade_no": self.out_trade_no,
            "openid": self.openid,
            "amount": self.amount,
            "description": self.description,
            "pay_time": self.pay_time,
            "order_state": self.order_state,
            "known": self.known_at <= now,
            "known_in": max(0.0, round(self.known_at - now, 3)),
            "combined_into": self.combined_into,
            "sub_payments": list(self.sub_payments),
            "shipping": copy.deepcopy(self.shipping),
            "finish_shipping_count": self.finish_shipping_count,
            "reshipped": self.reshipped,
            "uploads": self.uploads,
            "shipped_time": self.shipped_time,
            "reminded_at": self.reminded_at,
            "received_time": self.received_time,
            "confirm_receive_time": self.confirm_receive_time,
            "settlement_time": self.settlement_time,
            "refunded_at": self.refunded_at,
        }


def _text(data: dict[str, Any], name: str, default: str) -> str:
    value = data.get(name, default)
    if not isinstance(value, str) or (not value and name != "sub_mchid"):
        raise ValueError(f"{name} must be a non-empty string, not {value!r}")
    return value


def _number(data: dict[str, Any], name: str, default: Any, minimum: float, integer: bool = True) -> Any:
    value = data.get(name, default)
    if integer:
        valid = isinstance(value, int) and not isinstance(value, bool) and value >= minimum
    else:
        valid = isinstance(value, int | float) and not isinstance(value, bool) and value >= minimum
    if not valid:
        kind = "a whole number" if integer else "a number"
        raise ValueError(f"{name} must be {kind} >= {minimum:g}, not {value!r}")
    return value


class PaymentBook:
    """The payments of one sandbox, behind one lock, with the account's switches."""

    def __init__(self, clock: SandboxClock) -> None:
        self.clock = clock
        self.lock = threading.RLock()
        #: called with ("created" | "shipped" | "confirmed", the payment) under ``lock``: the
        #: sandbox's trade_manage_* pushes listen (they queue, never push from here)
        self.listeners: list[Callable[[str, SandboxPayment], None]] = []
        self.reset()

    def notify(self, kind: str, payment: SandboxPayment) -> None:
        """Tell the listeners what happened to ``payment`` (call under ``lock``)."""
        for listener in self.listeners:
            listener(kind, payment)

    def reset(self) -> None:
        with self.lock:
            self.payments: dict[str, SandboxPayment] = {}
            # (merchant number, out_trade_no) -> transaction_id, for the sub-merchant's number too
            self._keys: dict[tuple[str, str], str] = {}
            self._seq = 0
            #: is_trade_managed and is_trade_management_confirmation_completed answer these
            self.trade_managed = True
            self.confirmation_completed = True
            #: the payer confirms receipt as soon as notify_confirm_receive reminds them (demos)
            self.confirm_on_reminder = False
            #: the path set_msg_jump_path set, or None
            self.msg_jump_path: str | None = None

    # -- creating payments (the control API) ---------------------------------------------

    def create(self, data: dict[str, Any], parent: SandboxPayment | None = None) -> dict[str, Any]:
        """Record a payment, as if the payer had just paid; ValueError saying what to fix."""
        subs = data.get("sub_payments") or []
        unknown = set(data) - set(PAYMENT_FIELDS) - ({"sub_payments"} if parent is None else set())
        if unknown:
            raise ValueError(
                f"unknown field(s) {', '.join(sorted(unknown))}; use {', '.join(PAYMENT_FIELDS)}"
                + (", sub_payments" if parent is None else "")
            )
        if not isinstance(subs, list) or not all(isinstance(s, dict) for s in subs):
            raise ValueError("sub_payments must be a list of payments (objects), one per sub-order")
        now = self.clock.unix()
        with self.lock:
            self._seq += 1
            seq = self._seq
            out_trade_no = _text(data, "out_trade_no", f"SANDBOX{int(now)}{seq:04d}")
            if not _OUT_TRADE_NO.fullmatch(out_trade_no):
                raise ValueError(f"out_trade_no must be 6 to 32 of 0-9 A-Z a-z _ - *, not {out_trade_no!r}")
            payment = SandboxPayment(
                transaction_id=_text(
                    data, "transaction_id", f"42000{seq:05d}{secrets.randbelow(10**18):018d}"
                ),
                mchid=_text(data, "mchid", parent.mchid if parent else DEFAULT_MCHID),
                sub_mchid=_text(data, "sub_mchid", parent.sub_mchid if parent else ""),
                out_trade_no=out_trade_no,
                openid=_text(
                    data, "openid", parent.openid if parent else "o" + secrets.token_urlsafe(20)[:27]
                ),
                amount=_number(data, "amount", 100, 1),
                description=_text(data, "description", "沙箱商品*1"),
                pay_time=_number(data, "pay_time", int(now), 0),
                seq=seq,
                order_state=_number(data, "state", WAITING, 0),
                known_at=self.clock.now() + _number(data, "unknown_for", 0, 0, integer=False),
                combined_into=parent.transaction_id if parent else None,
            )
            if payment.transaction_id in self.payments:
                raise PaymentConflict(f"a payment {payment.transaction_id!r} exists already")
            keys = {(payment.mchid, out_trade_no), (payment.merchant_id(), out_trade_no)}
            if any(key in self._keys for key in keys):
                raise PaymentConflict(f"out_trade_no {out_trade_no!r} is taken for mchid {payment.mchid!r}")
            if parent is not None and payment.openid != parent.openid:
                raise ValueError("a sub-payment is paid by the combined payment's payer: leave openid out")
            self.payments[payment.transaction_id] = payment
            self._keys.update(dict.fromkeys(keys, payment.transaction_id))
            try:
                for sub in subs:
                    payment.sub_payments.append(self.create(sub, parent=payment)["transaction_id"])
            except ValueError:
                for tid in [payment.transaction_id, *payment.sub_payments]:
                    gone = self.payments.pop(tid)
                    self._keys.pop((gone.mchid, gone.out_trade_no), None)
                    self._keys.pop((gone.merchant_id(), gone.out_trade_no), None)
                raise
            self.notify("created", payment)
            return payment.to_dict(self.clock.now())

    # -- finding payments as WeChat does ----------------------------------------------------

    def _by_merchant(self, merchant_id: str, out_trade_no: str) -> SandboxPayment | None:
        transaction_id = self._keys.get((merchant_id, out_trade_no))
        return None if transaction_id is None else self.payments[transaction_id]

    def _known(self, payment: SandboxPayment | None) -> SandboxPayment | None:
        return payment if payment is not None and payment.known_at <= self.clock.now() else None

    def by_order_key(self, key: dict[str, Any]) -> SandboxPayment | None:
        """The payment an ``order_key`` names, if WeChat knows it yet (call under ``lock``)."""
        if key["order_number_type"] == 2:
            return self._known(self.payments.get(key["transaction_id"]))
        found = self._by_merchant(key["mchid"], key["out_trade_no"])
        # A sub-merchant's payment is named by the sub-merchant's number.
        if found is not None and found.sub_mchid and key["mchid"] != found.sub_mchid:
            return None
        return self._known(found)

    def by_ref(self, ref: dict[str, Any]) -> SandboxPayment | None:
        """The payment ``transaction_id`` or ``merchant_id`` + ``merchant_trade_no`` names."""
        if ref.get("transaction_id"):
            return self._known(self.payments.get(ref["transaction_id"]))
        merchant = ref.get("sub_merchant_id") or ref["merchant_id"]
        return self._known(self._by_merchant(merchant, ref["merchant_trade_no"]))

    def get(self, transaction_id: str) -> SandboxPayment:
        """The payment, known to WeChat yet or not; LookupError if the sandbox has none."""
        with self.lock:
            payment = self.payments.get(transaction_id)
        if payment is None:
            raise LookupError(f"no payment {transaction_id!r} in the sandbox")
        return payment

    # -- what happens to a payment outside the API (the control API) ------------------------

    def refund(self, transaction_id: str) -> dict[str, Any]:
        """The payer got their money back: order_state 5; uploads now get 10060004."""
        payment = self.get(transaction_id)
        with self.lock:
            payment.order_state = REFUNDED
            payment.refunded_at = int(self.clock.unix())
            return payment.to_dict(self.clock.now())

    def user_confirm(self, transaction_id: str) -> dict[str, Any]:
        """The payer confirms receipt in WeChat: order_state 3."""
        payment = self.get(transaction_id)
        with self.lock:
            if payment.order_state != SHIPPED:
                raise PaymentConflict(
                    f"payment {transaction_id!r} is not shipped (order_state {payment.order_state}): "
                    "a payer confirms receipt of a shipped order"
                )
            payment.order_state = CONFIRMED
            payment.confirm_receive_time = int(self.clock.unix())
            self.notify("confirmed", payment)
            return payment.to_dict(self.clock.now())

    def settle(self, transaction_id: str) -> dict[str, Any]:
        """WeChat settles the funds with the merchant: order_state 4."""
        payment = self.get(transaction_id)
        with self.lock:
            if payment.order_state not in (CONFIRMED, SETTLING):
                raise PaymentConflict(
                    f"payment {transaction_id!r} is not confirmed (order_state {payment.order_state}): "
                    "funds are settled after the payer confirms receipt"
                )
            payment.order_state = COMPLETED
            payment.settlement_time = int(self.clock.unix())
            return payment.to_dict(self.clock.now())

    def set_state(self, transaction_id: str, state: Any) -> dict[str, Any]:
        """Any order_state, 6 and numbers WeChat has not documented included."""
        if isinstance(state, bool) or not isinstance(state, int) or not 0 <= state <= 99:
            raise ValueError(f"state must be a whole number from 0 to 99, not {state!r}")
        payment = self.get(transaction_id)
        with self.lock:
            payment.order_state = state
            return payment.to_dict(self.clock.now())

    def set_unknown(self, transaction_id: str, seconds: Any) -> dict[str, Any]:
        """WeChat answers 10060001 for the payment for ``seconds`` more (on the sandbox's clock)."""
        seconds = _number({"unknown_for": seconds}, "unknown_for", 0, 0, integer=False)
        payment = self.get(transaction_id)
        with self.lock:
            payment.known_at = self.clock.now() + seconds
            return payment.to_dict(self.clock.now())

    def configure(self, data: dict[str, Any]) -> dict[str, Any]:
        options = ("trade_managed", "confirmation_completed", "confirm_on_reminder")
        unknown = set(data) - set(options)
        if unknown:
            raise ValueError(f"unknown option(s) {', '.join(sorted(unknown))}; use {', '.join(options)}")
        for name, value in data.items():
            if not isinstance(value, bool):
                raise ValueError(f"{name} must be true or false")
        with self.lock:
            self.trade_managed = data.get("trade_managed", self.trade_managed)
            self.confirmation_completed = data.get("confirmation_completed", self.confirmation_completed)
            self.confirm_on_reminder = data.get("confirm_on_reminder", self.confirm_on_reminder)
            return self.config()

    def config(self) -> dict[str, Any]:
        with self.lock:
            return {
                "trade_managed": self.trade_managed,
                "confirmation_completed": self.confirmation_completed,
                "confirm_on_reminder": self.confirm_on_reminder,
                "msg_jump_path": self.msg_jump_path,
            }

    # -- reading ---------------------------------------------------------------------------

    def payment_dict(self, transaction_id: str) -> dict[str, Any]:
        payment = self.get(transaction_id)
        with self.lock:
            return payment.to_dict(self.clock.now())

    def payment_list(self) -> list[dict[str, Any]]:
        now = self.clock.now()
        with self.lock:
            return [p.to_dict(now) for p in sorted(self.payments.values(), key=lambda p: p.seq)]

    def concerns(self, transaction_id: str, body: Any) -> bool:
        """Whether a call's body names the payment (by either of its keys, or as a sub-order)."""
        payment = self.get(transaction_id)
        if not isinstance(body, dict):
            return False
        keys = [body.get("order_key")] + [
            s.get("order_key") for s in body.get("sub_orders") or [] if isinstance(s, dict)
        ]
        for key in keys:
            if isinstance(key, dict) and (
                key.get("transaction_id") == transaction_id
                or (
                    key.get("out_trade_no") == payment.out_trade_no
                    and key.get("mchid") in (payment.mchid, payment.sub_mchid)
                )
            ):
                return True
        return (
            body.get("transaction_id") == transaction_id
            or body.get("trans_id") == transaction_id
            or (
                body.get("merchant_trade_no") == payment.out_trade_no
                and payment.merchant_id() in (body.get("merchant_id"), body.get("sub_merchant_id"))
            )
        )

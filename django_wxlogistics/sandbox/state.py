"""What the sandbox remembers: access tokens, waybills with their traces, the merchant's side, and
every call."""

from __future__ import annotations

import copy
import secrets
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

from .clock import SandboxClock
from .merchant import MerchantSide
from .orders import OrderBook, register
from .pusher import PushConfig
from .trade_pushes import TradePushes

#: The contacts of the getContact example in WeChat's documentation.
DEFAULT_SENDER: dict[str, str] = {
    "address": "xx on Block XX, XX Building, No. XX, XX Road, Haizhu District, Guangzhou, Guangdong Province",
    "name": "Jim",
    "tel": "020-88888888",
    "mobile": "18666666666",
}
DEFAULT_RECEIVER: dict[str, str] = {
    "address": "xx, Block XX, XX Building, No. XX, XX Road, Tianhe District, Guangzhou, Guangdong Province",
    "name": "Wang Xiaomeng",
    "tel": "029-77777777",
    "mobile": "18610000000",
}
CONTACT_FIELDS = ("address", "name", "tel", "mobile")

# What a token lookup finds; the server maps each to WeChat's errcode.
TOKEN_OK = "ok"  # noqa: S105
TOKEN_MISSING = "missing"  # noqa: S105 (41001)
TOKEN_INVALID = "invalid"  # noqa: S105 (40001)
TOKEN_EXPIRED = "expired"  # noqa: S105 (42001)


@dataclass
class IssuedToken:
    value: str
    expires_at: float  # on the sandbox's clock
    invalid_after: float | None = None  # set when a newer /cgi-bin/token replaced it


@dataclass
class SandboxWaybill:
    waybill_id: str
    token: str
    sender: dict[str, str]
    receiver: dict[str, str]
    list_shape: bool = False
    auto_registered: bool = False
    events: list[dict[str, Any]] = field(default_factory=list)

    def contact_reply(self) -> dict[str, Any]:
        """The getContact reply, as in the doc's example (no errcode key)."""
        if self.list_shape:
            return {"waybill_id": self.waybill_id, "sender": [self.sender], "receiver": [self.receiver]}
        return {"waybill_id": self.waybill_id, "sender": dict(self.sender), "receiver": dict(self.receiver)}

    def to_dict(self) -> dict[str, Any]:
        return {
            "waybill_id": self.waybill_id,
            "token": self.token,
            "sender": dict(self.sender),
            "receiver": dict(self.receiver),
            "list_shape": self.list_shape,
            "auto_registered": self.auto_registered,
            "events": len(self.events),
        }


def clean_contact(value: Any, role: str) -> dict[str, str]:
    """A contact dict for ``role`` ("sender"/"receiver"); ValueError saying what to fix."""
    if value is None:
        return dict(DEFAULT_SENDER if role == "sender" else DEFAULT_RECEIVER)
    if not isinstance(value, dict):
        raise ValueError(f"{role} must be an object with {', '.join(CONTACT_FIELDS)}")
    unknown = set(value) - set(CONTACT_FIELDS)
    if unknown:
        raise ValueError(f"{role} has unknown field(s) {', '.join(sorted(unknown))}; use {CONTACT_FIELDS}")
    contact = {}
    for key in CONTACT_FIELDS:
        item = value.get(key, "")
        if not isinstance(item, str):
            raise ValueError(f"{role}.{key} must be a string")
        contact[key] = item
    return contact


class SandboxState:
    """All mutable state of one sandbox, behind one lock."""

    def __init__(
        self,
        *,
        appid: str | None = None,
        secret: str | None = None,
        token_ttl: int = 7200,
        token_grace: float = 300.0,
        auto_register: bool = False,
        max_calls: int = 100_000,
        push: PushConfig | None = None,
    ) -> None:
        self.appid = appid
        self.secret = secret
        self._initial_token_ttl = token_ttl
        self._initial_token_grace = float(token_grace)
        self._initial_auto_register = auto_register
        self.lock = threading.Lock()
        #: token lifetimes are measured by it; the control API moves it (``/__sandbox__/clock``)
        self.clock = SandboxClock()
        self.calls: deque[dict[str, Any]] = deque(maxlen=max_calls)
        #: orders placed in the sandbox, pushed to the shop, and the push log
        self.orders = OrderBook(push or PushConfig())
        #: payments, the tracking component's waybills and the carrier list
        self.merchant = MerchantSide(self.clock)
        #: WeChat's trade_manage_* pushes about the payments, to the same events URL as orders
        self.trade_pushes = TradePushes(lambda: self.orders.config, self.merchant.payments)
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.token_ttl = self._initial_token_ttl
            self.token_grace = self._initial_token_grace
            self.auto_register = self._initial_auto_register
            self.tokens: dict[str, IssuedToken] = {}
            self.latest_classic: str | None = None
            self.latest_stable: str | None = None
            self.waybills: dict[str, SandboxWaybill] = {}
            self.calls.clear()
            self.counters: Counter[str] = Counter()
        self.orders.reset()
        self.merchant.reset()
        self.trade_pushes.reset()
        self.clock.reset()

    # -- configuration ------------------------------------------------------------------

    def config(self) -> dict[str, Any]:
        return {
            "token_ttl": self.token_ttl,
            "token_grace": self.token_grace,
            "auto_register": self.auto_register,
        }

    def configure(self, data: dict[str, Any]) -> dict[str, Any]:
        unknown = set(data) - {"token_ttl", "token_grace", "auto_register"}
        if unknown:
            raise ValueError(
                f"unknown option(s) {', '.join(sorted(unknown))}; use token_ttl, token_grace, auto_register"
            )
        if "token_ttl" in data:
            ttl = data["token_ttl"]
            if isinstance(ttl, bool) or not isinstance(ttl, int) or ttl < 1:
                raise ValueError(f"token_ttl must be a whole number of seconds >= 1, not {ttl!r}")
        if "token_grace" in data:
            grace = data["token_grace"]
            if isinstance(grace, bool) or not isinstance(grace, int | float) or grace < 0:
                raise ValueError(f"token_grace must be a number of seconds >= 0, not {grace!r}")
        if "auto_register" in data and not isinstance(data["auto_register"], bool):
            raise ValueError("auto_register must be true or false")
        with self.lock:
            self.token_ttl = data.get("token_ttl", self.token_ttl)
            self.token_grace = float(data.get("token_grace", self.token_grace))
            self.auto_register = data.get("auto_register", self.auto_register)
        return self.config()

    # -- access tokens ------------------------------------------------------------------

    def credentials_error(self, appid: str, secret: str) -> tuple[int, str] | None:
        """WeChat's errcode for bad credentials, or None when they are accepted."""
        if not appid:
            return 41002, "appid missing"
        if not secret:
            return 41004, "appsecret missing"
        if self.appid is not None and appid != self.appid:
            return 40013, "invalid appid"
        if self.secret is not None and secret != self.secret:
            return 40125, "invalid appsecret"
        return None

    def _new_token(self, now: float) -> IssuedToken:
        token = IssuedToken(value=secrets.token_urlsafe(96), expires_at=now + self.token_ttl)
        self.tokens[token.value] = token
        self.counters["tokens_issued"] += 1
        return token

    def issue_classic_token(self) -> tuple[str, int]:
        """``/cgi-bin/token``: always a new token; the previous one dies after the grace."""
        now = self.clock.now()
        with self.lock:
            previous = self.tokens.get(self.latest_classic or "")
            if previous is not None and previous.invalid_after is None:
                previous.invalid_after = now + self.token_grace
            token = self._new_token(now)
            self.latest_classic = token.value
            self.counters["token_fetches"] += 1
            return token.value, self.token_ttl

    def issue_stable_token(self, force_refresh: bool) -> tuple[str, int]:
        """``/cgi-bin/stable_token``: the same token while it is valid, unless forced.

        As WeChat does, a call in the token's last five minutes (scaled down for short test
        lifetimes: 1/24 of the lifetime) gets a new token; the old one lives out its time.
        """
        now = self.clock.now()
        with self.lock:
            current = self.tokens.get(self.latest_stable or "")
            self.counters["token_fetches"] += 1
            if current is not None and current.expires_at > now and current.invalid_after is None:
                renew_before = min(300.0, self.token_ttl / 24)
                if not force_refresh and current.expires_at - now > renew_before:
                    return current.value, max(1, int(current.expires_at - now))
                if not force_refresh:
                    token = self._new_token(now)
                    self.latest_stable = token.value
                    return token.value, self.token_ttl
                # A forced refresh invalidates the previous stable token at once.
                current.invalid_after = now
            token = self._new_token(now)
            self.latest_stable = token.value
            return token.value, self.token_ttl

    def check_access_token(self, value: str | None) -> str:
        if not value:
            return TOKEN_MISSING
        now = self.clock.now()
        with self.lock:
            token = self.tokens.get(value)
            if token is None or (token.invalid_after is not None and token.invalid_after <= now):
                return TOKEN_INVALID
            if token.expires_at <= now:
                return TOKEN_EXPIRED
            return TOKEN_OK

    def expire_tokens(self) -> int:
        """Expire every access token now (42001 from now on); returns how many."""
        now = self.clock.now()
        with self.lock:
            count = 0
            for token in self.tokens.values():
                if token.expires_at > now:
                    token.expires_at = now
                    count += 1
            return count

    # -- waybills -----------------------------------------------------------------------

    def register_waybill(
        self,
        waybill_id: Any,
        token: Any,
        sender: Any = None,
        receiver: Any = None,
        list_shape: Any = False,
    ) -> SandboxWaybill:
        if not isinstance(waybill_id, str) or not waybill_id:
            raise ValueError("waybill_id must be a non-empty string")
        if not isinstance(token, str) or not token:
            raise ValueError("token must be a non-empty string (the Token of the order placement event)")
        if not isinstance(list_shape, bool):
            raise ValueError("list_shape must be true or false")
        waybill = SandboxWaybill(
            waybill_id=waybill_id,
            token=token,
            sender=clean_contact(sender, "sender"),
            receiver=clean_contact(receiver, "receiver"),
            list_shape=list_shape,
        )
        with self.lock:
            existing = self.waybills.get(waybill_id)
            if existing is not None:
                waybill.events = existing.events  # re-registering keeps the trace
            self.waybills[waybill_id] = waybill
        return waybill

    def find_waybill(self, waybill_id: str, token: str) -> SandboxWaybill | None:
        """The waybill, auto-registered with ``token`` if that switch is on; None if unknown.

        An order placed in the sandbox whose answer is still on its way makes its waybill known
        at its first call: the shop may push a trace before WeChat has read its answer.
        """
        with self.lock:
            known = waybill_id in self.waybills
        if not known and token:
            order = self.orders.awaiting(token)
            if order is not None:
                register(self, order, waybill_id)
        with self.lock:
            waybill = self.waybills.get(waybill_id)
            if waybill is None and self.auto_register and token:
                waybill = SandboxWaybill(
                    waybill_id=waybill_id,
                    token=token,
                    sender=dict(DEFAULT_SENDER),
                    receiver=dict(DEFAULT_RECEIVER),
                    auto_registered=True,
                )
                self.waybills[waybill_id] = waybill
            return waybill

    def add_event(self, waybill: SandboxWaybill, fields: dict[str, Any]) -> None:
        event = {
            "action_time": fields["action_time"],
            "action_type": fields["action_type"],
            "action_msg": fields["action_msg"],
            "received_at": time.time(),
        }
        with self.lock:
            waybill.events.append(event)
            self.counters["events_accepted"] += 1

    def trace(self, waybill_id: str) -> list[dict[str, Any]] | None:
        with self.lock:
            waybill = self.waybills.get(waybill_id)
            return None if waybill is None else copy.deepcopy(waybill.events)

    def waybill_list(self) -> list[dict[str, Any]]:
        with self.lock:
            return [w.to_dict() for w in self.waybills.values()]

    # -- the call log -------------------------------------------------------------------

    def record_call(self, call: dict[str, Any]) -> None:
        with self.lock:
            self.calls.append(call)
            self.counters["calls"] += 1
            self.counters[f"calls:{call['api']}"] += 1
            if call.get("fault"):
                self.counters["faults"] += 1
                self.counters[f"faults:{call['fault']}"] += 1

    def call_list(self, api: str | None = None, waybill_id: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            calls = list(self.calls)
        if api:
            calls = [c for c in calls if c["api"] == api]
        if waybill_id:
            calls = [
                c for c in calls if isinstance(c["body"], dict) and c["body"].get("waybill_id") == waybill_id
            ]
        return calls

    def stats(self) -> dict[str, Any]:
        with self.lock:
            counters = dict(self.counters)
            by_api = {k.split(":", 1)[1]: v for k, v in counters.items() if k.startswith("calls:")}
            faults_by_kind = {k.split(":", 1)[1]: v for k, v in counters.items() if k.startswith("faults:")}
            return {
                "token_fetches": counters.get("token_fetches", 0),
                "tokens_issued": counters.get("tokens_issued", 0),
                "calls": counters.get("calls", 0),
                "calls_by_api": by_api,
                "faults": counters.get("faults", 0),
                "faults_by_kind": faults_by_kind,
                "events_accepted": counters.get("events_accepted", 0),
                "waybills": len(self.waybills),
                "orders": len(self.orders.orders),
                "pushes": len(self.orders.pushes),
                "trade_pushes": self.trade_pushes.count(),
                **self.merchant.stats(),
            }

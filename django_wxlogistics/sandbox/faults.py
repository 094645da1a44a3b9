"""Fault injection: which call fails and how, deterministic for a given seed."""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

FAULT_KINDS = ("errcode", "http500", "http502", "hang", "reset")
TOKEN_APIS = ("token", "stable_token")
#: the merchant's side: shipping information (/wxa/sec/order/…) and the tracking component
MERCHANT_APIS = (
    "upload_shipping_info",
    "upload_combined_shipping_info",
    "get_order",
    "get_order_list",
    "notify_confirm_receive",
    "set_msg_jump_path",
    "is_trade_managed",
    "is_trade_management_confirmation_completed",
    "trace_waybill",
    "query_trace",
    "update_waybill_goods",
    "get_delivery_list",
)
BUSINESS_APIS = (
    "logistics.updatePath",
    "logistics.getContact",
    "template.preview",
    "business.update",
    *MERCHANT_APIS,
)
ALL_APIS = TOKEN_APIS + BUSINESS_APIS
DEFAULT_HANG_SECONDS = 10.0


@dataclass(frozen=True)
class FaultPlan:
    """What goes wrong, for which APIs. The default plan injects nothing."""

    error_rate: float = 0.0
    kinds: tuple[str, ...] = ("errcode",)
    latency_ms: float = 0
    hang_seconds: float = DEFAULT_HANG_SECONDS
    rate_limit: int | None = None
    seed: int | None = None
    apis: tuple[str, ...] = BUSINESS_APIS
    # The answer of the "errcode" kind: WeChat's "system busy" unless told otherwise.
    errcode: int = -1
    errmsg: str = "system error"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FaultPlan:
        """A plan from the control API's JSON; ValueError saying what to fix if invalid."""
        unknown = set(data) - {f for f in cls.__dataclass_fields__}
        if unknown:
            raise ValueError(
                f"unknown fault option(s) {', '.join(sorted(unknown))}; "
                f"known: {', '.join(cls.__dataclass_fields__)}"
            )
        error_rate = data.get("error_rate", 0.0)
        if (
            isinstance(error_rate, bool)
            or not isinstance(error_rate, int | float)
            or not 0 <= error_rate <= 1
        ):
            raise ValueError(f"error_rate must be a number from 0 to 1, not {error_rate!r}")
        kinds = _names(data.get("kinds", ("errcode",)), FAULT_KINDS, "kinds")
        if not kinds:
            raise ValueError(f"kinds must name at least one of {', '.join(FAULT_KINDS)}")
        latency_ms = data.get("latency_ms", 0) or 0
        if isinstance(latency_ms, bool) or not isinstance(latency_ms, int | float) or latency_ms < 0:
            raise ValueError(f"latency_ms must be a number of milliseconds >= 0, not {latency_ms!r}")
        hang_seconds = data.get("hang_seconds")
        if hang_seconds is None:
            hang_seconds = DEFAULT_HANG_SECONDS
        if isinstance(hang_seconds, bool) or not isinstance(hang_seconds, int | float) or hang_seconds < 0:
            raise ValueError(f"hang_seconds must be a number of seconds >= 0, not {hang_seconds!r}")
        rate_limit = data.get("rate_limit")
        if rate_limit is not None and (
            isinstance(rate_limit, bool) or not isinstance(rate_limit, int) or rate_limit < 1
        ):
            raise ValueError(
                f"rate_limit must be a whole number of calls per second >= 1, not {rate_limit!r}"
            )
        seed = data.get("seed")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ValueError(f"seed must be an integer, not {seed!r}")
        apis = data.get("apis")
        apis_tuple = BUSINESS_APIS if apis is None else _names(apis, ALL_APIS, "apis")
        errcode = data.get("errcode")
        if errcode is None:
            errcode = -1
        if isinstance(errcode, bool) or not isinstance(errcode, int) or errcode == 0:
            raise ValueError(f"errcode must be a whole number other than 0 (0 is success), not {errcode!r}")
        errmsg = data.get("errmsg")
        if errmsg is None:
            errmsg = "system error"
        if not isinstance(errmsg, str):
            raise ValueError(f"errmsg must be text, not {errmsg!r}")
        return cls(
            error_rate=float(error_rate),
            kinds=kinds,
            latency_ms=latency_ms,
            hang_seconds=float(hang_seconds),
            rate_limit=rate_limit,
            seed=seed,
            apis=apis_tuple,
            errcode=errcode,
            errmsg=errmsg,
        )

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["kinds"] = list(self.kinds)
        data["apis"] = list(self.apis)
        return data


def _names(value: Any, allowed: tuple[str, ...], option: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    if not isinstance(value, Iterable) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{option} must be a list of names among {', '.join(allowed)}")
    names = tuple(value)
    wrong = [v for v in names if v not in allowed]
    if wrong:
        raise ValueError(f"{option}: unknown {', '.join(map(repr, wrong))}; use {', '.join(allowed)}")
    return names


@dataclass(frozen=True)
class FaultDecision:
    """What to do to one call: ``kind`` is a fault kind, "rate_limit" or None."""

    kind: str | None = None
    latency: float = 0.0
    hang_seconds: float = DEFAULT_HANG_SECONDS
    errcode: int = -1
    errmsg: str = "system error"


NO_FAULT = FaultDecision()


@dataclass
class FaultInjector:
    """Draws the fate of each call from one ``random.Random`` under a lock."""

    default_seed: int | None = None
    plan: FaultPlan = field(default_factory=FaultPlan)
    #: what the rate limit's one-second window is measured by (the sandbox's clock)
    clock: Callable[[], float] = time.monotonic

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(self.default_seed)
        self._window: deque[float] = deque()

    def set_plan(self, plan: FaultPlan) -> None:
        with self._lock:
            self.plan = plan
            # Re-seeding on every change makes "set faults, run N calls" repeatable.
            self._rng = random.Random(plan.seed if plan.seed is not None else self.default_seed)
            self._window.clear()

    def decide(self, api: str) -> FaultDecision:
        plan = self.plan
        if api not in plan.apis or not (plan.error_rate or plan.latency_ms or plan.rate_limit):
            return NO_FAULT
        kind: str | None = None
        with self._lock:
            if plan.error_rate > 0 and self._rng.random() < plan.error_rate:
                kind = self._rng.choice(plan.kinds)
            if plan.rate_limit is not None:
                now = self.clock()
                while self._window and self._window[0] <= now - 1.0:
                    self._window.popleft()
                if len(self._window) >= plan.rate_limit:
                    kind = "rate_limit"
                else:
                    self._window.append(now)
        return FaultDecision(
            kind=kind,
            latency=plan.latency_ms / 1000.0,
            hang_seconds=plan.hang_seconds,
            errcode=plan.errcode,
            errmsg=plan.errmsg,
        )

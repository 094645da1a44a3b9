"""A client of the sandbox's control API; it drives a sandbox in this or another process."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, quote_plus

import requests

from .merchant_control import MerchantControl
from .trade_push_control import TradePushControl

if TYPE_CHECKING:
    from .server import SandboxServer

#: What a secret is replaced with, as the app's own redaction writes it.
PLACEHOLDER = "[redacted]"
# Values shorter than this are not redacted by value: replacing "1" everywhere helps nobody.
_MIN_SECRET_LENGTH = 6
_QUERY = re.compile(r"(?P<key>(?:[?&;]|\b)(?:access_token|secret|appsecret|token)=)[^&\s'\"#)<>]+", re.I)
_JSON = re.compile(r'(?P<key>"(?:access_token|secret|appsecret|token)"\s*:\s*")(?:[^"\\]|\\.)*(?=")', re.I)


def _redact(text: str, *secrets: str) -> str:
    """``text`` without secrets: by shape (``token=…``, ``"secret": "…"``) and by value, also as
    a page quoting a request writes them (URL-encoded, JSON- or HTML-escaped).

    The sandbox does not import the app's redaction, which reads the shop's settings.
    """
    text = _QUERY.sub(lambda m: m.group("key") + PLACEHOLDER, text)
    text = _JSON.sub(lambda m: m.group("key") + PLACEHOLDER, text)
    forms = {
        form
        for value in secrets
        if len(value) >= _MIN_SECRET_LENGTH
        for form in (
            value,
            quote(value, safe=""),
            quote_plus(value),
            json.dumps(value)[1:-1],
            json.dumps(value, ensure_ascii=False)[1:-1],
            html.escape(value),
        )
    }
    # Longest first, so a secret that contains another is removed whole.
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, PLACEHOLDER)
    return text


def _secrets_in(payload: Any) -> list[str]:
    """The tokens and secrets a control request carries (a waybill's token, the app secret,
    the push's Token and EncodingAESKey, an order's Token and BizPwd)."""
    if not isinstance(payload, dict):
        return []
    words = ("token", "secret", "aes_key", "pwd")
    return [v for k, v in payload.items() if isinstance(v, str) and any(w in k.lower() for w in words)]


class SandboxControlError(RuntimeError):
    """The control API refused a request; the message says why.

    ``data`` is the reply's JSON, if any: for an order the shop did not accept, ``data["order"]``
    is the order as it stands (its state, the shop's ResultCode or what went wrong).
    """

    def __init__(self, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.data = data


class SandboxControl(MerchantControl, TradePushControl):
    """Register waybills, place orders, create payments, read the call log and traces, inject
    faults, reset.

    >>> ctl = SandboxControl("http://127.0.0.1:8900")
    >>> ctl.register_waybill("SF1234567890", "TOKEN")
    >>> ctl.trace("SF1234567890")
    """

    def __init__(self, url: str, *, timeout: float = 10.0, server: SandboxServer | None = None) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        #: the in-process server, when there is one (the pytest fixture sets it)
        self.server = server
        self._session = requests.Session()

    def __repr__(self) -> str:
        return f"<SandboxControl {self.url}>"

    def _request(self, method: str, endpoint: str, **kwargs: Any) -> Any:
        response = self._session.request(
            method, f"{self.url}/__sandbox__/{endpoint}", timeout=self.timeout, **kwargs
        )
        try:
            data = response.json()
        except ValueError:
            data = None
        if response.status_code >= 400:
            if isinstance(data, dict):
                message = data.get("error")
            else:  # e.g. a proxy's page quoting the request: redacted whole, then cut
                message = _redact(response.text, *_secrets_in(kwargs.get("json")))[:200]
            raise SandboxControlError(
                f"{method} /__sandbox__/{endpoint}: {response.status_code} {message}", data
            )
        return data

    # -- waybills ------------------------------------------------------------------------

    def register_waybill(
        self,
        waybill_id: str,
        token: str,
        sender: dict[str, str] | None = None,
        receiver: dict[str, str] | None = None,
        *,
        list_shape: bool = False,
    ) -> dict[str, Any]:
        """Make ``waybill_id`` known with its ``token``; contacts default to the doc's example.

        ``list_shape=True`` makes getContact answer sender and receiver as one-element lists.
        """
        payload: dict[str, Any] = {"waybill_id": waybill_id, "token": token, "list_shape": list_shape}
        if sender is not None:
            payload["sender"] = sender
        if receiver is not None:
            payload["receiver"] = receiver
        return self._request("POST", "waybills", json=payload)["waybill"]

    def waybills(self) -> list[dict[str, Any]]:
        return self._request("GET", "waybills")["waybills"]

    def trace(self, waybill_id: str) -> list[dict[str, Any]]:
        """Accepted updatePath events of the waybill, in the order they were received."""
        return self._request("GET", f"waybills/{quote(waybill_id, safe='')}/trace")["trace"]

    def trace_url(self, waybill_id: str, lang: str = "zh") -> str:
        """The address of the waybill's trace page ("zh" or "en")."""
        return f"{self.url}/__sandbox__/trace/{quote(waybill_id, safe='')}?lang={lang}"

    # -- orders: WeChat's order events, pushed to the shop ---------------------------------

    def configure_push(
        self,
        *,
        url: str | None = None,
        token: str | None = None,
        aes_key: str | None = None,
        appid: str | None = None,
        format: str | None = None,
        mode: str | None = None,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """Where orders are pushed: the shop's events URL, its PUSH_TOKEN, ENCODING_AES_KEY and
        AppID, "json" or "xml", "safe" or "plain". Options not given stay as they are."""
        options = {
            "url": url,
            "token": token,
            "aes_key": aes_key,
            "appid": appid,
            "format": format,
            "mode": mode,
            "timeout": timeout,
        }
        payload = {k: v for k, v in options.items() if v is not None}
        return self._request("POST", "push", json=payload)["push"]

    def push_config(self) -> dict[str, Any]:
        """The push configuration (the Token and the key shown only as set, ``"***"``, or not)."""
        return self._request("GET", "push")["push"]

    def place_order(
        self,
        order_id: str | None = None,
        *,
        waybill_id: str | None = None,
        sender: dict[str, str] | None = None,
        receiver: dict[str, str] | None = None,
        fault: str | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """Place an order as a merchant's mini program would: the sandbox pushes ``add_waybill``.

        ``sender``/``receiver`` and ``fields`` use WeChat's field names (``Name``, ``Mobile``…;
        ``Remark=``, ``Cargo=``, ``Token=``…); each given replaces the sandbox's default. Without
        ``waybill_id`` WayBillID is "0": the shop assigns one. Returns the order once the shop
        accepted it, its waybill now known to updatePath; SandboxControlError otherwise.
        ``fault``: "duplicate", "concurrent_duplicate", "bad_signature", "wrong_appid" or
        "stale_timestamp".
        """
        payload: dict[str, Any] = dict(fields)
        for name, value in (("OrderID", order_id), ("WayBillID", waybill_id)):
            if value is not None:
                payload[name] = value
        for name, party in (("Sender", sender), ("Receiver", receiver)):
            if party is not None:
                payload[name] = party
        if fault is not None:
            payload["fault"] = fault
        return self._request("POST", "orders", json=payload)["order"]

    def repeat_order(self, order_id: str, *, fault: str | None = None) -> dict[str, Any]:
        """Push the order's ``add_waybill`` again, as WeChat does when an answer is late."""
        return self._order_action(order_id, "repeat", fault)

    def cancel_order(self, order_id: str, *, fault: str | None = None) -> dict[str, Any]:
        """Push ``cancel_waybill`` for a placed order; returns it cancelled."""
        return self._order_action(order_id, "cancel", fault)

    def _order_action(self, order_id: str, action: str, fault: str | None) -> dict[str, Any]:
        payload = {"fault": fault} if fault is not None else {}
        return self._request("POST", f"orders/{quote(order_id, safe='')}/{action}", json=payload)["order"]

    def orders(self) -> list[dict[str, Any]]:
        """Every order placed, oldest first."""
        return self._request("GET", "orders")["orders"]

    def order(self, order_id: str) -> dict[str, Any]:
        return self._request("GET", f"orders/{quote(order_id, safe='')}")["order"]

    def pushes(self, order_id: str | None = None, event: str | None = None) -> list[dict[str, Any]]:
        """Every push and the shop's answer, oldest first; filter by order and/or event."""
        params = {k: v for k, v in (("order_id", order_id), ("event", event)) if v}
        return self._request("GET", "pushes", params=params)["pushes"]

    # -- calls ---------------------------------------------------------------------------

    def calls(self, api: str | None = None, waybill_id: str | None = None) -> list[dict[str, Any]]:
        """Every call received, oldest first; filter by API name and/or body ``waybill_id``."""
        params = {k: v for k, v in (("api", api), ("waybill_id", waybill_id)) if v}
        return self._request("GET", "calls", params=params)["calls"]

    def stats(self) -> dict[str, Any]:
        return self._request("GET", "stats")

    # -- faults and tokens ---------------------------------------------------------------

    def set_faults(
        self,
        error_rate: float = 0.0,
        kinds: Iterable[str] = ("errcode",),
        latency_ms: float = 0,
        hang_seconds: float | None = None,
        rate_limit: int | None = None,
        seed: int | None = None,
        apis: Iterable[str] | None = None,
        errcode: int | None = None,
        errmsg: str | None = None,
    ) -> dict[str, Any]:
        """Replace the fault plan; see the documentation for each option."""
        payload = {
            "error_rate": error_rate,
            "kinds": list(kinds),
            "latency_ms": latency_ms,
            "hang_seconds": hang_seconds,
            "rate_limit": rate_limit,
            "seed": seed,
            "apis": None if apis is None else list(apis),
            "errcode": errcode,
            "errmsg": errmsg,
        }
        return self._request("POST", "faults", json=payload)["faults"]

    def faults(self) -> dict[str, Any]:
        return self._request("GET", "faults")["faults"]

    def clear_faults(self) -> None:
        self._request("DELETE", "faults")

    def expire_tokens(self) -> int:
        """Expire every access token now: calls with them get 42001. Returns how many."""
        return self._request("POST", "expire_tokens")["expired"]

    def advance_clock(self, seconds: float) -> dict[str, Any]:
        """Move the sandbox's clock ``seconds`` forward: tokens age, the rate limit's window
        empties, as if that time had passed. Returns the clock's state."""
        return self._request("POST", "clock", json={"advance": seconds})["clock"]

    def stop_clock(self, stopped: bool = True) -> dict[str, Any]:
        """Stop the sandbox's clock (``advance_clock`` still moves it), or let it run again."""
        return self._request("POST", "clock", json={"stopped": stopped})["clock"]

    def clock(self) -> dict[str, Any]:
        """``{"advanced": seconds moved forward so far, "stopped": bool}``."""
        return self._request("GET", "clock")["clock"]

    def release(self) -> int:
        """Answer every call held back by latency or a hang now; returns how many there were.

        ``stats()["held"]`` says how many calls are held at the moment, ``"most_held"`` the
        most at once since the last reset: with a long latency, a test sees how many calls
        its code has in flight together, then lets them go.
        """
        return self._request("POST", "release")["released"]

    def configure(
        self,
        *,
        auto_register: bool | None = None,
        token_ttl: int | None = None,
        token_grace: float | None = None,
    ) -> dict[str, Any]:
        """Change options while running; ``reset()`` restores the ones it started with."""
        payload = {
            k: v
            for k, v in (
                ("auto_register", auto_register),
                ("token_ttl", token_ttl),
                ("token_grace", token_grace),
            )
            if v is not None
        }
        return self._request("POST", "config", json=payload)

    def reset(self) -> None:
        """Forget waybills, orders, calls, tokens and faults; options (the push's too) return to
        their start values."""
        self._request("POST", "reset")

    def close(self) -> None:
        self._session.close()

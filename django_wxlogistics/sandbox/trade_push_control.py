"""The SandboxControl methods of WeChat's shipping-information pushes (``trade_manage_*``): push each
now, wait until they are answered, read them with their outcome."""

from __future__ import annotations

from typing import Any


class TradePushControl:
    """Mixed into SandboxControl, whose ``_request`` speaks the control API."""

    def _request(self, method: str, endpoint: str, **kwargs: Any) -> Any:
        raise NotImplementedError  # SandboxControl's

    def trade_pushes(
        self, transaction_id: str | None = None, event: str | None = None
    ) -> list[dict[str, Any]]:
        """Every ``trade_manage_*`` push, oldest first, filtered by payment and/or event; each with
        its ``state`` ("queued", "delivered", "failed"), ``attempts``, ``error``, the ``fields``
        pushed and each try's HTTP status and reply (``tries``)."""
        params = {k: v for k, v in (("transaction_id", transaction_id), ("event", event)) if v}
        return self._request("GET", "trade_pushes", params=params)["trade_pushes"]

    def wait_for_trade_pushes(self, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Wait until no push is queued or on its way (each delivered or failed), then return them
        all; TimeoutError if pushes are still pending after ``timeout`` seconds (at most 60)."""
        answer = self._request("POST", "trade_pushes/wait", json={"timeout": timeout})
        if not answer["idle"]:
            pending = [p["id"] for p in answer["trade_pushes"] if p["state"] == "queued"]
            raise TimeoutError(f"trade_manage pushes {pending} still pending after {timeout} s")
        return answer["trade_pushes"]

    def push_shipping_reminder(self, transaction_id: str | None = None) -> list[dict[str, Any]]:
        """``trade_manage_remind_shipping``: for the payment now (whenever it was paid; it must be
        awaiting shipment), or, without one, for every payment 48 hours unshipped by the sandbox's
        clock and not reminded of yet (as moving the clock does). The pushes queued."""
        if transaction_id is None:
            return self._request("POST", "trade_pushes/remind_shipping", json={})["trade_pushes"]
        payload = {"transaction_id": transaction_id}
        return [self._request("POST", "trade_pushes/remind_shipping", json=payload)["trade_push"]]

    def push_order_settlement(self, transaction_id: str) -> dict[str, Any]:
        """``trade_manage_order_settlement`` for the payment again, as it stands: the shipped form
        (``estimated_settlement_time``) or, once receipt is confirmed, the settled one."""
        payload = {"transaction_id": transaction_id}
        return self._request("POST", "trade_pushes/order_settlement", json=payload)["trade_push"]

    def push_api_access_reminder(self, msg: str | None = None) -> dict[str, Any]:
        """``trade_manage_remind_access_api``, as when the account records shipping by hand."""
        payload = {} if msg is None else {"msg": msg}
        return self._request("POST", "trade_pushes/remind_access_api", json=payload)["trade_push"]

"""The SandboxControl methods of the merchant's side: payments, what WeChat received about them, the
tracking component's waybills, the carrier list and the account's switches."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote


class MerchantControl:
    """Mixed into SandboxControl, whose ``_request`` speaks the control API."""

    def _request(self, method: str, endpoint: str, **kwargs: Any) -> Any:
        raise NotImplementedError  # SandboxControl's

    # -- payments --------------------------------------------------------------------------

    def create_payment(
        self,
        transaction_id: str | None = None,
        *,
        openid: str | None = None,
        mchid: str | None = None,
        sub_mchid: str | None = None,
        out_trade_no: str | None = None,
        amount: int | None = None,
        description: str | None = None,
        state: int | None = None,
        pay_time: int | None = None,
        unknown_for: float | None = None,
        sub_payments: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """A payment as if the payer had just paid; every field not given gets a fresh default.

        ``unknown_for``: seconds (on the sandbox's clock) during which WeChat answers 10060001
        for it, as right after a real payment callback. ``sub_payments``: the sub-orders of a
        combined payment (each a dict of these fields, the payer the same).
        """
        given = {
            "transaction_id": transaction_id,
            "openid": openid,
            "mchid": mchid,
            "sub_mchid": sub_mchid,
            "out_trade_no": out_trade_no,
            "amount": amount,
            "description": description,
            "state": state,
            "pay_time": pay_time,
            "unknown_for": unknown_for,
            "sub_payments": sub_payments,
        }
        payload = {k: v for k, v in given.items() if v is not None}
        return self._request("POST", "payments", json=payload)["payment"]

    def payments(self) -> list[dict[str, Any]]:
        """Every payment, in the order created."""
        return self._request("GET", "payments")["payments"]

    def payment(self, transaction_id: str) -> dict[str, Any]:
        """The payment: its ``order_state``, the ``shipping`` WeChat recorded, ``reshipped``,
        ``reminded_at`` and ``received_time``, whether it is ``known`` yet."""
        return self._request("GET", f"payments/{quote(transaction_id, safe='')}")["payment"]

    def _payment_action(self, transaction_id: str, action: str, **payload: Any) -> dict[str, Any]:
        endpoint = f"payments/{quote(transaction_id, safe='')}/{action}"
        return self._request("POST", endpoint, json=payload)["payment"]

    def refund_payment(self, transaction_id: str) -> dict[str, Any]:
        """The payer is refunded: order_state 5; shipping uploads now get 10060004."""
        return self._payment_action(transaction_id, "refund")

    def payer_confirm_receipt(self, transaction_id: str) -> dict[str, Any]:
        """The payer confirms receipt in WeChat (order_state 3); the payment must be shipped."""
        return self._payment_action(transaction_id, "confirm")

    def settle_payment(self, transaction_id: str) -> dict[str, Any]:
        """WeChat settles the funds (order_state 4); the payer must have confirmed receipt."""
        return self._payment_action(transaction_id, "settle")

    def set_payment_state(self, transaction_id: str, state: int) -> dict[str, Any]:
        """Any ``order_state``: 6 (funds awaiting settlement), or one WeChat has not documented."""
        return self._payment_action(transaction_id, "state", state=state)

    def set_payment_unknown(self, transaction_id: str, seconds: float) -> dict[str, Any]:
        """WeChat answers 10060001 for the payment for ``seconds`` more, on the sandbox's clock
        (``advance_clock`` ends that at once)."""
        return self._payment_action(transaction_id, "unknown", seconds=seconds)

    def payment_calls(self, transaction_id: str, api: str | None = None) -> list[dict[str, Any]]:
        """The calls WeChat received that name the payment (by either key, as a sub-order, or as
        trace_waybill's ``trans_id``), oldest first, with WeChat's reply; ``api`` filters."""
        calls = self._request("GET", f"payments/{quote(transaction_id, safe='')}/calls")["calls"]
        return [c for c in calls if api is None or c["api"] == api]

    # -- the account -----------------------------------------------------------------------

    def merchant_config(self) -> dict[str, Any]:
        """``{"trade_managed", "confirmation_completed", "confirm_on_reminder", "msg_jump_path"}``."""
        return self._request("GET", "merchant")["merchant"]

    def configure_merchant(
        self,
        *,
        trade_managed: bool | None = None,
        confirmation_completed: bool | None = None,
        confirm_on_reminder: bool | None = None,
    ) -> dict[str, Any]:
        """What ``is_trade_managed`` and ``is_trade_management_confirmation_completed`` answer;
        ``confirm_on_reminder``: the payer confirms receipt as soon as reminded (order_state 3)."""
        given = {
            "trade_managed": trade_managed,
            "confirmation_completed": confirmation_completed,
            "confirm_on_reminder": confirm_on_reminder,
        }
        payload = {k: v for k, v in given.items() if v is not None}
        return self._request("POST", "merchant", json=payload)["merchant"]

    # -- carriers and the tracking component ------------------------------------------------

    def carriers(self) -> list[dict[str, str]]:
        """The carriers ``get_delivery_list`` answers: ``delivery_id`` and ``delivery_name``."""
        return self._request("GET", "carriers")["carriers"]

    def add_carrier(self, delivery_id: str, delivery_name: str) -> dict[str, str]:
        """Add a carrier to the list (WeChat's holds about 1,400; the sandbox the common ones)."""
        payload = {"delivery_id": delivery_id, "delivery_name": delivery_name}
        return self._request("POST", "carriers", json=payload)["carrier"]

    def tracked_waybills(self) -> list[dict[str, Any]]:
        """The waybills registered with ``trace_waybill`` (their goods and status; no token)."""
        return self._request("GET", "tracked")["waybills"]

    def tracked_waybill(self, waybill_id: str) -> dict[str, Any]:
        return self._request("GET", f"tracked/{quote(waybill_id, safe='')}")["waybill"]

    def set_waybill_status(self, waybill_id: str, status: int) -> dict[str, Any]:
        """Move the parcel: ``query_trace`` answers ``waybill_info.status`` 0 to 6 from now on."""
        endpoint = f"tracked/{quote(waybill_id, safe='')}/status"
        return self._request("POST", endpoint, json={"status": status})["waybill"]

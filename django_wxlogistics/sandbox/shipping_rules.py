"""WeChat's rules for a payment's shipping information: who may ship it, the one re-ship, the
receipt reminder once and for express only, and the order as ``get_order`` shows it."""

from __future__ import annotations

from typing import Any

from .merchant_validation import EXPRESS, ShippingError
from .payments import (
    CONFIRMED,
    ORDER_STATES,
    REFUNDED,
    SHIPPED,
    WAITING,
    PaymentBook,
    SandboxPayment,
)

#: a received_time at or above this is milliseconds (the year 33658 in seconds)
MILLISECONDS = 10**12
#: how far ahead of the sandbox's clock the shop's clock may run for a receipt time
CLOCK_SKEW = 60
#: what a re-upload is compared on: everything but its upload_time
_CONTENT = ("logistics_type", "delivery_mode", "is_all_delivered", "shipping_list")


def _not_found(what: str) -> ShippingError:
    return ShippingError(
        10060001,
        f"no payment {what} is known to WeChat: check the keys; right after the payment callback, "
        "try again in a few seconds",
    )


def _key_text(key: dict[str, Any]) -> str:
    if key["order_number_type"] == 2:
        return f"transaction_id {key['transaction_id']!r}"
    return f"mchid {key['mchid']!r} + out_trade_no {key['out_trade_no']!r}"


def _ref_text(ref: dict[str, Any]) -> str:
    if ref.get("transaction_id"):
        return f"transaction_id {ref['transaction_id']!r}"
    return f"merchant_id {ref['merchant_id']!r} + merchant_trade_no {ref['merchant_trade_no']!r}"


def _state_text(state: int) -> str:
    return (
        f"order_state {state} ({ORDER_STATES[state][1].lower()})"
        if state in ORDER_STATES
        else f"order_state {state}"
    )


def _check_ship(payment: SandboxPayment, shipping: dict[str, Any], upload_unix: float) -> bool:
    """Whether ``shipping`` may be recorded for the payment, and if so whether it is its re-ship."""
    if payment.order_state not in (WAITING, SHIPPED):
        why = "it was refunded" if payment.order_state == REFUNDED else "shipping can no longer change"
        raise ShippingError(10060004, f"the payment is in {_state_text(payment.order_state)}: {why}")
    previous = payment.shipping
    if previous is None:
        return False
    if all(previous[name] == shipping[name] for name in _CONTENT):
        raise ShippingError(10060023, "this shipping information is recorded already, unchanged")
    if upload_unix <= previous["upload_unix"]:
        raise ShippingError(
            10060023,
            f"upload_time must be later than the recorded upload's ({previous['upload_time']}) to change it",
        )
    # WeChat counts as the re-ship an upload over finished shipping, or one changing its modes.
    modes_changed = any(previous[n] != shipping[n] for n in ("logistics_type", "delivery_mode"))
    reship = previous["is_all_delivered"] or modes_changed
    if reship and payment.reshipped:
        raise ShippingError(
            10060003, "the payment's one re-ship is used: its shipping information can no longer change"
        )
    return reship


def _apply_ship(book: PaymentBook, payment: SandboxPayment, shipping: dict[str, Any], reship: bool) -> None:
    payment.shipping = dict(shipping)
    payment.uploads += 1
    payment.reshipped = payment.reshipped or reship
    if shipping["is_all_delivered"]:
        payment.finish_shipping_count = 2 if payment.reshipped else 1
        payment.order_state = SHIPPED
        payment.shipped_time = int(book.clock.unix())
        book.notify("shipped", payment)
    else:
        payment.order_state = WAITING


def _shipping(fields: dict[str, Any], upload_time: str, upload_unix: float) -> dict[str, Any]:
    return {**{n: fields[n] for n in _CONTENT}, "upload_time": upload_time, "upload_unix": upload_unix}


def _payer(payment: SandboxPayment, openid: str) -> None:
    if payment.openid != openid:
        raise ShippingError(10060031, "payer.openid is not the openid of the user who paid")


def upload(book: PaymentBook, fields: dict[str, Any]) -> None:
    """``upload_shipping_info``, once the body is valid; ShippingError with WeChat's errcode."""
    shipping = _shipping(fields, fields["upload_time"], fields["upload_unix"])
    with book.lock:
        payment = book.by_order_key(fields["order_key"])
        if payment is None:
            raise _not_found(_key_text(fields["order_key"]))
        _payer(payment, fields["openid"])
        reship = _check_ship(payment, shipping, fields["upload_unix"])
        _apply_ship(book, payment, shipping, reship)


def upload_combined(book: PaymentBook, fields: dict[str, Any]) -> None:
    """``upload_combined_shipping_info``: every sub-order is checked before any is recorded."""
    with book.lock:
        parent = book.by_order_key(fields["order_key"])
        if parent is None:
            raise _not_found(_key_text(fields["order_key"]))
        _payer(parent, fields["openid"])
        planned = []
        for index, sub in enumerate(fields["sub_orders"]):
            payment = book.by_order_key(sub["order_key"])
            if payment is None or payment.combined_into != parent.transaction_id:
                raise ShippingError(
                    10060001,
                    f"sub_orders[{index}]: {_key_text(sub['order_key'])} is no sub-order of this payment",
                )
            shipping = _shipping(sub, fields["upload_time"], fields["upload_unix"])
            planned.append((payment, shipping, _check_ship(payment, shipping, fields["upload_unix"])))
        for payment, shipping, reship in planned:
            _apply_ship(book, payment, shipping, reship)
        subs = [book.payments[tid] for tid in parent.sub_payments]
        parent.order_state = SHIPPED if all(s.order_state == SHIPPED for s in subs) else WAITING


def notify_confirm_receive(book: PaymentBook, fields: dict[str, Any]) -> None:
    """``notify_confirm_receive``: once per payment, express only, a sensible time in seconds."""
    received = fields["received_time"]
    with book.lock:
        payment = book.by_ref(fields)
        if payment is None:
            raise _not_found(_ref_text(fields))
        if payment.order_state != SHIPPED or payment.shipping is None:
            raise ShippingError(
                10060028, f"the payment is in {_state_text(payment.order_state)}; remind only shipped ones"
            )
        if payment.shipping["logistics_type"] != EXPRESS:
            raise ShippingError(
                10060032, "only a payment shipped by express (logistics_type 1) can be reminded"
            )
        if payment.reminded_at is not None:
            raise ShippingError(10060030, "the payment's one receipt reminder was sent already")
        now = int(book.clock.unix())
        if received >= MILLISECONDS:
            raise ShippingError(
                10060029, f"received_time {received} looks like milliseconds: WeChat takes Unix seconds"
            )
        if received > now + CLOCK_SKEW:
            raise ShippingError(10060029, f"received_time {received} is in the future (now is {now})")
        if received < (payment.shipped_time or 0):
            raise ShippingError(
                10060029, f"received_time {received} is before the parcel shipped ({payment.shipped_time})"
            )
        payment.reminded_at, payment.received_time = now, received
        if book.confirm_on_reminder:
            payment.order_state, payment.confirm_receive_time = CONFIRMED, now
            book.notify("confirmed", payment)


def order_view(payment: SandboxPayment) -> dict[str, Any]:
    """The payment as ``get_order`` and ``get_order_list`` answer it."""
    shipping: dict[str, Any] = {}
    if payment.shipping is not None:
        recorded = payment.shipping
        packages = []
        for package in recorded["shipping_list"]:
            item = {
                "tracking_no": package.get("tracking_no", ""),
                "express_company": package.get("express_company", ""),
                "goods_desc": package["item_desc"],
                "upload_time": int(recorded["upload_unix"]),
            }
            if package.get("contact"):
                item["contact"] = dict(package["contact"])
            packages.append(item)
        shipping = {
            "delivery_mode": recorded["delivery_mode"],
            "logistics_type": recorded["logistics_type"],
            "finish_shipping": payment.finish_shipping_count > 0 and recorded["is_all_delivered"],
            "goods_desc": "",
            "finish_shipping_count": payment.finish_shipping_count,
            "shipping_list": packages,
        }
    return {
        "transaction_id": payment.transaction_id,
        "merchant_id": payment.mchid,
        "sub_merchant_id": payment.sub_mchid,
        "merchant_trade_no": payment.out_trade_no,
        "description": payment.description,
        "paid_amount": payment.amount,
        "openid": payment.openid,
        "trade_create_time": payment.pay_time,
        "pay_time": payment.pay_time,
        "order_state": payment.order_state,
        "in_complaint": False,
        "shipping": shipping,
    }


def get_order(book: PaymentBook, ref: dict[str, Any]) -> dict[str, Any]:
    with book.lock:
        payment = book.by_ref(ref)
        if payment is None:
            raise _not_found(_ref_text(ref))
        return order_view(payment)


def _position(payment: SandboxPayment) -> tuple[int, int]:
    return payment.pay_time, payment.seq


def _last_index(position: tuple[int, int]) -> str:
    # Opaque to the caller, as WeChat's is: the paid time and the sequence number, in hex.
    return f"{position[0]:08x}{position[1]:08x}"


def order_list(book: PaymentBook, filters: dict[str, Any]) -> dict[str, Any]:
    """One page of ``get_order_list``: payments in the order they were paid, filtered."""
    after = (-1, 0)
    if filters["last_index"] is not None:
        text = filters["last_index"]
        if len(text) != 16 or any(c not in "0123456789abcdef" for c in text):
            raise ShippingError(10060011, "give last_index as the previous page returned it")
        after = (int(text[:8], 16), int(text[8:], 16))
    with book.lock:
        matching = [
            p
            for p in sorted(book.payments.values(), key=_position)
            if _position(p) > after
            and book.by_ref({"transaction_id": p.transaction_id}) is not None
            and filters["begin_time"] <= p.pay_time <= filters["end_time"]
            and (filters["order_state"] is None or p.order_state == filters["order_state"])
            and (filters["openid"] is None or p.openid == filters["openid"])
        ]
        page = matching[: filters["page_size"]]
        return {
            "errcode": 0,
            "errmsg": "ok",
            "order_list": [order_view(p) for p in page],
            "last_index": _last_index(_position(page[-1]) if page else (max(after[0], 0), after[1])),
            "has_more": len(matching) > len(page),
        }

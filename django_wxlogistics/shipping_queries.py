"""Which bodies WeChat accepts to look a payment up, list payments and confirm receipt (Unix seconds)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from .field_checks import FieldErrors

__all__ = ["clean_confirm_receive", "clean_order_list", "clean_payment_ref"]


def _payment_ref(
    errors: FieldErrors, transaction_id: Any, merchant_id: Any, sub_merchant_id: Any, merchant_trade_no: Any
) -> dict[str, Any]:
    """``transaction_id``, or ``merchant_id`` + ``merchant_trade_no`` (with ``sub_merchant_id``)."""
    ref: dict[str, Any] = {}
    given = {
        "transaction_id": transaction_id,
        "merchant_id": merchant_id,
        "sub_merchant_id": sub_merchant_id,
        "merchant_trade_no": merchant_trade_no,
    }
    for name, value in given.items():
        text = errors.text(name, value, required=False)
        if text is not None:
            ref[name] = text
    named = "transaction_id" in ref or ("merchant_id" in ref and "merchant_trade_no" in ref)
    if not named and not any(errors.has(name) for name in given):
        errors.add(
            "transaction_id",
            _("Name the payment: transaction_id, or merchant_id and merchant_trade_no."),
            "required",
        )
    return ref


def clean_payment_ref(
    *,
    transaction_id: Any = None,
    merchant_id: Any = None,
    sub_merchant_id: Any = None,
    merchant_trade_no: Any = None,
) -> dict[str, Any]:
    """The body of ``get_order``: the payment by ``transaction_id``, or by ``merchant_id`` and
    ``merchant_trade_no``; :class:`InvalidFields` otherwise."""
    errors = FieldErrors()
    ref = _payment_ref(errors, transaction_id, merchant_id, sub_merchant_id, merchant_trade_no)
    errors.raise_any()
    return ref


def clean_confirm_receive(
    *,
    transaction_id: Any = None,
    merchant_id: Any = None,
    sub_merchant_id: Any = None,
    merchant_trade_no: Any = None,
    received_time: Any = None,
) -> dict[str, Any]:
    """The body of ``notify_confirm_receive``; :class:`InvalidFields` otherwise.

    ``received_time``: Unix **seconds** or an aware datetime; None is now. A value that looks
    like milliseconds is refused, saying so.
    """
    errors = FieldErrors()
    body = _payment_ref(errors, transaction_id, merchant_id, sub_merchant_id, merchant_trade_no)
    body["received_time"] = (
        int(timezone.now().timestamp())
        if received_time is None
        else errors.unix_seconds("received_time", received_time)
    )
    errors.raise_any()
    return body


_TIME_RANGE_FIELDS = ("begin_time", "end_time")


def clean_order_list(
    *,
    pay_time_range: Any = None,
    order_state: Any = None,
    openid: Any = None,
    last_index: Any = None,
    page_size: Any = None,
) -> dict[str, Any]:
    """The body of ``get_order_list``; every filter is optional.

    ``pay_time_range``: ``begin_time`` and ``end_time``, Unix seconds or aware datetimes.
    ``last_index``: what the previous page returned. :class:`InvalidFields` otherwise.
    """
    errors = FieldErrors()
    body: dict[str, Any] = {}
    if pay_time_range is not None:
        span = errors.mapping("pay_time_range", pay_time_range, _TIME_RANGE_FIELDS)
        if span is not None:
            body["pay_time_range"] = {
                name: errors.unix_seconds(f"pay_time_range.{name}", span[name])
                for name in _TIME_RANGE_FIELDS
                if span.get(name) is not None
            }
    for name, number in (("order_state", order_state), ("page_size", page_size)):
        if number is None:
            continue
        if isinstance(number, bool) or not isinstance(number, int) or number < 1:
            errors.add(
                name, _("Give a whole number of 1 or more, not %(value)r.") % {"value": number}, "invalid"
            )
        else:
            body[name] = int(number)
    for name, text in (("openid", openid), ("last_index", last_index)):
        cleaned = errors.text(name, text, required=False)
        if cleaned is not None:
            body[name] = cleaned
    errors.raise_any()
    return body

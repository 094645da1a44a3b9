"""Errors raised when talking to WeChat, grouped by what the caller should do next.

``TransientError``: try again later. ``AccessTokenError``: the access token is bad; the
client refreshes it once and repeats the call by itself. ``PermanentError``: retrying cannot
help. ``ConfigurationError`` stands outside this tree: the shop's settings need fixing.

No message here ever contains the access token, the app secret or a waybill token: the
client passes every text through :func:`django_wxlogistics.redaction.redact` first.
"""

from __future__ import annotations

from .base import (
    AccessTokenError,
    ApiUnauthorized,
    ConfigurationError,
    InvalidCredentials,
    InvalidRequest,
    InvalidRequestData,
    InvalidWaybillToken,
    NetworkError,
    PermanentError,
    RateLimited,
    ServerError,
    TokenStoreError,
    TransientError,
    WaybillNotFound,
    WeChatError,
)
from .merchant import (
    AlreadyShipped,
    InvalidShippingData,
    InvalidTraceToken,
    NotShippedYet,
    PayerMismatch,
    PaymentNotShippable,
    PaymentNotYetKnown,
    ReceiptAlreadyNotified,
    ReceiptOnlyForExpress,
    ReceiptTimeInvalid,
    ReshipChanceUsed,
    ShippingRefused,
    ShippingSystemError,
    ShippingUnchanged,
    TrackedWaybillNotFound,
    TrackingOpenidMismatch,
    WaybillChangesUsed,
)

__all__ = [
    "RETRYABLE_ERRCODES",
    "AccessTokenError",
    "AlreadyShipped",
    "ApiUnauthorized",
    "ConfigurationError",
    "InvalidCredentials",
    "InvalidRequest",
    "InvalidRequestData",
    "InvalidShippingData",
    "InvalidTraceToken",
    "InvalidWaybillToken",
    "NetworkError",
    "NotShippedYet",
    "PayerMismatch",
    "PaymentNotShippable",
    "PaymentNotYetKnown",
    "PermanentError",
    "RateLimited",
    "ReceiptAlreadyNotified",
    "ReceiptOnlyForExpress",
    "ReceiptTimeInvalid",
    "ReshipChanceUsed",
    "ServerError",
    "ShippingRefused",
    "ShippingSystemError",
    "ShippingUnchanged",
    "TokenStoreError",
    "TrackedWaybillNotFound",
    "TrackingOpenidMismatch",
    "TransientError",
    "WaybillChangesUsed",
    "WaybillNotFound",
    "WeChatError",
    "error_for_errcode",
]

_BY_ERRCODE: dict[int, type[WeChatError]] = {}
for _cls in (
    TransientError,
    RateLimited,
    AccessTokenError,
    WaybillNotFound,
    InvalidWaybillToken,
    InvalidCredentials,
    InvalidRequest,
    ApiUnauthorized,
    PaymentNotYetKnown,
    ShippingSystemError,
    AlreadyShipped,
    ReshipChanceUsed,
    PaymentNotShippable,
    ShippingUnchanged,
    NotShippedYet,
    ReceiptTimeInvalid,
    ReceiptAlreadyNotified,
    PayerMismatch,
    ReceiptOnlyForExpress,
    InvalidShippingData,
    TrackingOpenidMismatch,
    TrackedWaybillNotFound,
    WaybillChangesUsed,
):
    for _code in _cls.errcodes:
        _BY_ERRCODE[_code] = _cls

#: The closed list of errcodes worth retrying; every other code is permanent.
RETRYABLE_ERRCODES = frozenset(code for code, cls in _BY_ERRCODE.items() if issubclass(cls, TransientError))


def error_for_errcode(errcode: int) -> type[WeChatError]:
    """The exception class for a WeChat errcode: unknown codes are permanent."""
    return _BY_ERRCODE.get(errcode, PermanentError)

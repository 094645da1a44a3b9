"""WeChat's errcodes and errors in words staff can act on."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..exceptions import (
    AccessTokenError,
    ConfigurationError,
    InvalidCredentials,
    InvalidWaybillToken,
    NetworkError,
    RateLimited,
    TransientError,
    WaybillNotFound,
    WeChatError,
)

ERRCODE_LABELS = {
    -1: gettext_lazy("WeChat busy"),
    40001: gettext_lazy("invalid access token"),
    40014: gettext_lazy("invalid access token"),
    42001: gettext_lazy("access token expired"),
    40013: gettext_lazy("invalid AppID"),
    40125: gettext_lazy("invalid AppSecret"),
    45009: gettext_lazy("rate limited"),
    45011: gettext_lazy("rate limited"),
    47001: gettext_lazy("data format error"),
    40199: gettext_lazy("waybill not found"),
    9300507: gettext_lazy("wrong waybill token"),
}


def errcode_label(errcode: int) -> str:
    """``40199 · waybill not found``; unknown codes stand alone."""
    label = ERRCODE_LABELS.get(errcode)
    return f"{errcode} · {label}" if label else str(errcode)


def contact_error_message(exc: Exception) -> str:
    """What the contact panel says when ``getContact`` failed; never a secret, always a next step."""
    code = getattr(exc, "errcode", None)
    params = {"errcode": code}
    if isinstance(exc, WaybillNotFound):
        return _("Waybill not found (%(errcode)s). WeChat does not know this waybill ID.") % params
    if isinstance(exc, InvalidWaybillToken):
        return (
            _(
                "The waybill's token is wrong (%(errcode)s). Set the Token from WeChat's "
                "order placement event for this waybill."
            )
            % params
        )
    if isinstance(exc, NetworkError):
        return _("WeChat could not be reached. Try again in a moment.")
    if isinstance(exc, RateLimited):
        return _("WeChat is rate limiting this app (%(errcode)s). Try again in a minute.") % params
    if isinstance(exc, TransientError):
        if code is None:
            return _("WeChat is not answering. Try again in a moment.")
        return _("WeChat is busy (%(errcode)s). Try again in a moment.") % params
    if isinstance(exc, (AccessTokenError, InvalidCredentials)):
        return (
            _("WeChat refused the app's credentials (%(errcode)s). Check WXLOGISTICS APPID and APPSECRET.")
            % params
        )
    if isinstance(exc, ConfigurationError):
        return _("The WeChat logistics settings are incomplete: %(problem)s") % {"problem": exc}
    if isinstance(exc, WeChatError):
        if code is None:
            return _("WeChat answered with an error: %(error)s") % {"error": exc}
        return _("WeChat answered with errcode %(errcode)s (%(errmsg)s).") % {
            "errcode": code,
            "errmsg": exc.errmsg or _("no message"),
        }
    return _("The contacts could not be loaded.")

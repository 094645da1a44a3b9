"""What to tell staff when a waybill's contacts cannot be fetched: the admin's and the API's words.

Entirely translated, with a next step, and never a secret.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from .exceptions import (
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
from .redaction import redact


def contact_error_message(exc: BaseException) -> str:
    """What went wrong fetching the contacts, in the active language, with a next step.

    Entirely translated: WeChat's errcode is kept, the client's English description is
    left to :func:`contact_error_detail`. Never a secret.
    """
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
    if isinstance(exc, (AccessTokenError, InvalidCredentials)) and code is not None:
        return (
            _("WeChat refused the app's credentials (%(errcode)s). Check WXLOGISTICS APPID and APPSECRET.")
            % params
        )
    if isinstance(exc, ConfigurationError):
        return _("The WeChat logistics settings are incomplete: %(problem)s") % {"problem": exc.setting_name}
    if isinstance(exc, WeChatError):
        if code is None:
            return _("WeChat answered with an error.")
        return _("WeChat answered with errcode %(errcode)s.") % params
    return _("The contacts could not be loaded.")


def contact_error_detail(exc: BaseException, *secrets: str) -> str:
    """The client's own description of a WeChat or settings error, in English, for the technical
    minded; "" for any other exception, whose text is for the server's log only.

    Already free of secrets; ``secrets`` (e.g. the waybill token) are redacted once more.
    """
    if not isinstance(exc, (WeChatError, ConfigurationError)):
        return ""
    return redact(str(exc), *secrets)

"""What to tell staff when a call to WeChat fails for a reason any call can fail for.

Entirely translated, with a next step; WeChat's errcode kept, never a secret. The words for
one call's own errors (an unknown waybill, an unknown payment) stay with that call.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from .exceptions import (
    AccessTokenError,
    ConfigurationError,
    InvalidCredentials,
    NetworkError,
    RateLimited,
    TransientError,
    WeChatError,
)


def wechat_error_message(exc: BaseException, fallback: str) -> str:
    """Why a call to WeChat failed, in the active language, with a next step; ``fallback`` for an
    exception that is not WeChat's or the settings'."""
    code = getattr(exc, "errcode", None)
    params = {"errcode": code}
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
    return fallback

"""What to tell staff when a waybill's contacts cannot be fetched: the admin's and the API's words.

Entirely translated, with a next step, and never a secret.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from .exceptions import ConfigurationError, InvalidWaybillToken, WaybillNotFound, WeChatError
from .redaction import redact
from .wechat_error_words import wechat_error_message


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
    return wechat_error_message(exc, _("The contacts could not be loaded."))


def contact_error_detail(exc: BaseException, *secrets: str) -> str:
    """The client's own description of a WeChat or settings error, in English, for the technical
    minded; "" for any other exception, whose text is for the server's log only.

    Already free of secrets; ``secrets`` (e.g. the waybill token) are redacted once more.
    """
    if not isinstance(exc, (WeChatError, ConfigurationError)):
        return ""
    return redact(str(exc), *secrets)

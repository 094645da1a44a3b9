"""A waybill's sender and receiver as ``getContact`` returns them, their masking, and what to
say when they cannot be fetched.

Contacts are personal data: they are never stored, and the admin and the API show them
masked (:meth:`Contact.masked`) unless the user holds ``django_wxlogistics.view_contact``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

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

_DIGIT = re.compile(r"\d")
_DIGITS = re.compile(r"\d+")
#: A country code before the number: ``+86``, ``0086``, ``(+86)``, ``+852-``. A code other
#: than 86 is recognised only when a separator ends it (``+8521234…`` is ambiguous).
_COUNTRY_CODE = re.compile(r"^\s*\(?(?:\+|00)(?:86|\d{1,3}(?=[\s().-]))\)?[\s.-]*")
#: A landline's extension at the end: ``-123``, `` ext. 123``, ``x123``, ``转123``, ``#123``.
_EXTENSION = re.compile(r"(?P<sep>\s*(?:ext\.?|x|转|分机|#|,)\s*|-)(?P<ext>\d{1,6})\s*$", re.IGNORECASE)
#: The first group of digits, with the parentheses an area code is often written in.
_FIRST_GROUP = re.compile(r"\s*\(?(?P<digits>\d+)\)?")
#: Chinese area codes: 010 and 02X have three digits (two after +86), the others four (0755).
_SHORT_AREA_CODE = re.compile(r"0?(?:10|2\d)")
#: A subscriber number (after the area code) has 7 or 8 digits.
_SUBSCRIBER_DIGITS = range(7, 9)
_MASK = "*"


def mask_phone(value: str) -> str:
    """A phone number with its middle masked, its country code and area code kept.

    * a mobile keeps its first three and last four digits: ``18666666666`` → ``186****6666``,
      ``+86 186 6666 6666`` → ``+86 186****6666``;
    * a landline keeps its area code and the last four digits of its number, and masks the
      extension: ``020-88888888`` → ``020-****8888``, ``0755-12345678-123`` → ``0755-****5678-***``;
    * anything else keeps the first three and the last four of ten or more digits, or only
      the last two digits of a shorter number.
    """
    value = _encodable(value)
    if not _DIGIT.search(value):
        return _mask_all(value)  # not a number: nothing of it is safe to show
    country, national = _split_country_code(value)
    digits = "".join(_DIGIT.findall(national))
    if len(digits) == 11 and digits.startswith("1"):  # a mainland mobile
        return country + digits[:3] + _MASK * (len(digits) - 7) + digits[-4:]
    landline = _mask_landline(national, international=bool(country))
    if landline is not None:
        return country + landline
    # A short number keeps at most half its digits (none of one digit): some are always hidden.
    keep_head, keep_tail = (3, 4) if len(digits) >= 10 else (0, min(2, len(digits) // 2))
    return country + _mask_digits(national, keep_head, keep_tail)


def _split_country_code(value: str) -> tuple[str, str]:
    """``("+86 ", "186 6666 6666")``: the country code as written followed by one space, and the rest."""
    match = _COUNTRY_CODE.match(value)
    if match is None or not _DIGIT.search(value[match.end() :]):
        return "", value
    return match.group().strip(" .-") + " ", value[match.end() :]


def _mask_landline(text: str, *, international: bool) -> str | None:
    """The landline with its area code and the last four digits of its number; None if it is not one."""
    number, extension = text, ""
    found = _EXTENSION.search(text)
    if found and _split_area_code(text[: found.start()], international) is not None:
        number = text[: found.start()]
        extension = found.group("sep") + _MASK * len(found.group("ext"))
    split = _split_area_code(number, international)
    if split is None:
        return None
    area, subscriber = split
    return area + _mask_digits(subscriber, 0, 4) + extension


def _split_area_code(text: str, international: bool) -> tuple[str, str] | None:
    """(area code as written, subscriber number as written), or None if ``text`` has no area code."""
    first = _FIRST_GROUP.match(text)
    if first is None:
        return None
    group = first.group("digits")
    international = international and not group.startswith("0")  # +86 0755…: a trunk 0 kept
    if len(_DIGITS.findall(text)) > 1:  # written in groups: the first one is the area code
        if not re.fullmatch(r"\d{2,3}" if international else r"0\d{2,3}", group):
            return None
        end = first.end()
    else:  # one run of digits: the area code's length follows from its first digits
        if not international and not group.startswith("0"):
            return None
        length = 3 if _SHORT_AREA_CODE.match(group) else 4
        end = first.start("digits") + length - (1 if international else 0)
    area, subscriber = text[:end], text[end:]
    if len(_DIGIT.findall(subscriber)) not in _SUBSCRIBER_DIGITS:
        return None
    return area, subscriber


def _mask_digits(text: str, keep_head: int, keep_tail: int) -> str:
    """``text`` with every digit but the first ``keep_head`` and the last ``keep_tail`` masked."""
    positions = [m.start() for m in _DIGIT.finditer(text)]
    hidden = set(positions[keep_head : len(positions) - keep_tail])
    return "".join(_MASK if i in hidden else ch for i, ch in enumerate(text))


def mask_address(value: str) -> str:
    """Keeps the first six characters (province and city, usually) of a long address, at most
    half of a shorter one, and none of six characters or fewer: ``广东省广州市海珠区…`` →
    ``广东省广州市***…``. Surrounding whitespace counts for nothing."""
    value = _encodable(value)
    text = value.strip()
    if len(text) <= 6:
        return _mask_all(value)
    visible = min(6, len(text) // 2)
    return text[:visible] + _MASK * min(len(text) - visible, 12)


def mask_name(value: str) -> str:
    """``王小萌`` → ``王**``; ``王小`` → ``王*``; ``Jim`` → ``J**``; a one-character name is all
    masked: ``王`` → ``*``. Surrounding whitespace counts for nothing."""
    value = _encodable(value)
    name = value.strip()
    if len(name) < 2:
        return _mask_all(value)
    return name[0] + _MASK * (len(name) - 1)


def _mask_all(value: str) -> str:
    """A mask in place of every character, stripped of surrounding whitespace (one if all is whitespace)."""
    return _MASK * len(value.strip() or value)


def _encodable(value: str) -> str:
    """``value`` as text UTF-8 can carry: a surrogate pair joined into its character, a lone
    surrogate (JSON allows ``"\\ud83d"``) replaced by U+FFFD, so an answer never fails to encode."""
    return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


@dataclass(frozen=True)
class Party:
    """A sender or a receiver."""

    name: str = ""
    tel: str = ""
    mobile: str = ""
    address: str = ""

    @classmethod
    def from_api(cls, data: Any) -> Party:
        """Build from WeChat's JSON: an object, or a list of one object (as the doc types it)."""
        if isinstance(data, list):
            data = data[0] if data else {}
        if not isinstance(data, dict):
            data = {}
        return cls(
            **{
                field: _encodable(str(data.get(field) or ""))
                for field in ("name", "tel", "mobile", "address")
            }
        )

    def masked(self) -> Party:
        return replace(
            self,
            name=mask_name(self.name),
            tel=mask_phone(self.tel),
            mobile=mask_phone(self.mobile),
            address=mask_address(self.address),
        )

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "tel": self.tel, "mobile": self.mobile, "address": self.address}


@dataclass(frozen=True)
class Contact:
    """``getContact``'s answer: the waybill's sender and receiver."""

    waybill_id: str
    sender: Party
    receiver: Party

    def masked(self) -> Contact:
        return replace(self, sender=self.sender.masked(), receiver=self.receiver.masked())

    def as_dict(self) -> dict[str, Any]:
        return {
            "waybill_id": self.waybill_id,
            "sender": self.sender.as_dict(),
            "receiver": self.receiver.as_dict(),
        }


# --- when the contacts cannot be fetched ------------------------------------------------------

#: The setting a ConfigurationError names, e.g. ``WXLOGISTICS['APPID']``.
_SETTING = re.compile(r"WXLOGISTICS\[(['\"])\w+\1\]")


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
        return _("The WeChat logistics settings are incomplete: %(problem)s") % {
            "problem": misconfigured_setting(exc)
        }
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


def misconfigured_setting(exc: ConfigurationError) -> str:
    """The setting a configuration error names (``WXLOGISTICS['APPID']``), or ``WXLOGISTICS``."""
    found = _SETTING.search(str(exc))
    return found.group() if found else "WXLOGISTICS"

"""How a contact is shown to someone who may not see it whole: phones, names and addresses masked.

Every mask hides something of every value, whatever its shape (one-character names, short and
digitless phones, short addresses, whitespace, lone surrogates).
"""

from __future__ import annotations

import re

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
    value = encodable(value)
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
    value = encodable(value)
    text = value.strip()
    if len(text) <= 6:
        return _mask_all(value)
    visible = min(6, len(text) // 2)
    return text[:visible] + _MASK * min(len(text) - visible, 12)


def mask_name(value: str) -> str:
    """``王小萌`` → ``王**``; ``王小`` → ``王*``; ``Jim`` → ``J**``; a one-character name is all
    masked: ``王`` → ``*``. Surrounding whitespace counts for nothing."""
    value = encodable(value)
    name = value.strip()
    if len(name) < 2:
        return _mask_all(value)
    return name[0] + _MASK * (len(name) - 1)


def _mask_all(value: str) -> str:
    """A mask in place of every character, stripped of surrounding whitespace (one if all is whitespace)."""
    return _MASK * len(value.strip() or value)


def encodable(value: str) -> str:
    """``value`` as text UTF-8 can carry: a surrogate pair joined into its character, a lone
    surrogate (JSON allows ``"\\ud83d"``) replaced by U+FFFD, so an answer never fails to encode."""
    return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")

"""Whether a phone number is masked as WeChat's shipping information asks, and how to mask it."""

from __future__ import annotations

import re

__all__ = ["is_masked", "mask_contact"]

_NON_MASK = re.compile(r"[^0-9*]")
_CHINA_PREFIX = re.compile(r"^\s*\(?(?:\+|00)86\)?[\s-]*")
_AREA_CODE = re.compile(r"\s*\(?(?P<code>0\d{2,3})\)?[\s-]")


def is_masked(contact: str) -> bool:
    """Whether a phone number is masked as WeChat asks: ``*`` in it, its last four digits in clear.

    ``189****1234``, ``021-****1234``, ``****1234``, ``0**2-******23-10``, ``+86-123****4321``.
    """
    digits_and_masks = _NON_MASK.sub("", contact)
    return "*" in digits_and_masks and re.search(r"[0-9]{4}$", digits_and_masks) is not None


def mask_contact(phone: str) -> str:
    """A phone number masked as WeChat asks: ``18912341234`` → ``189****1234``.

    The last four digits stay in clear; a mobile (eleven digits, after +86) keeps its first
    three too; separators stay where they are. A number masked already is returned as it is.
    """
    if is_masked(phone):
        return phone
    prefix = ""
    match = _CHINA_PREFIX.match(phone)
    if match and sum(c.isdigit() for c in phone[match.end() :]) == 11:
        prefix, phone = phone[: match.end()], phone[match.end() :]
    positions = [i for i, c in enumerate(phone) if c.isdigit()]
    if len(positions) <= 4:
        return prefix + "*" + phone  # too short to hide any digit: mark it masked all the same
    digits = "".join(phone[i] for i in positions)
    area = _AREA_CODE.match(phone)
    if len(digits) == 11 and digits.startswith("1"):
        keep_front = 3  # a mobile keeps its network prefix, as WeChat's 189****1234
    elif area and len(positions) - len(area["code"]) > 4:
        keep_front = len(area["code"])  # a landline keeps its area code, as 021-****1234
    else:
        keep_front = 0
    hidden = set(positions[keep_front:-4])
    return prefix + "".join("*" if i in hidden else c for i, c in enumerate(phone))

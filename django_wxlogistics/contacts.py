"""A waybill's sender and receiver as ``getContact`` returns them, and their masking.

Contacts are personal data: they are never stored, and the admin and the API show them
masked (:meth:`Contact.masked`) unless the user holds ``django_wxlogistics.view_contact``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

_DIGIT = re.compile(r"\d")


def mask_phone(value: str) -> str:
    """``18666666666`` → ``186****6666``; ``020-88888888`` → ``020-****8888``.

    Keeps the first three and the last four digits, masks the digits between; short
    numbers keep only their last two digits.
    """
    digits = [m.start() for m in _DIGIT.finditer(value)]
    if not digits:
        return value
    keep_head, keep_tail = (3, 4) if len(digits) >= 10 else (0, 2)
    hidden = set(digits[keep_head : len(digits) - keep_tail])
    return "".join("*" if i in hidden else ch for i, ch in enumerate(value))


def mask_address(value: str) -> str:
    """Keeps the first six characters (province and city, usually) and masks the rest."""
    visible = 6
    if len(value) <= visible:
        return "*" * len(value)
    return value[:visible] + "*" * min(len(value) - visible, 12)


def mask_name(value: str) -> str:
    """``王小萌`` → ``王**``; ``Jim`` → ``J**``."""
    return value[:1] + "*" * max(len(value) - 1, 0) if value else value


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
        return cls(**{field: str(data.get(field) or "") for field in ("name", "tel", "mobile", "address")})

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

"""A waybill's sender and receiver as ``getContact`` returns them.

Contacts are personal data: they are never stored, and the admin and the API show them
masked (:meth:`Contact.masked`, see :mod:`django_wxlogistics.masking`) unless the user holds
``django_wxlogistics.view_contact``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from .masking import encodable, mask_address, mask_name, mask_phone


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
            **{field: encodable(str(data.get(field) or "")) for field in ("name", "tel", "mobile", "address")}
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

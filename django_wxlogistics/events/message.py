"""What one push says, the same whatever its format and mode: ``PushMessage`` and its typed views.

XML gives every value as text and JSON as numbers or text; WeChat spells some names two ways
(``WayBillID``, ``WaybillId``). :class:`PushMessage` reads a field by any of its spellings,
case-insensitively, and as text or as an integer. The typed views (:class:`WaybillOrder`,
:class:`BizAccount`) are what the shop's hooks receive; their secrets (the waybill Token, the
merchant's password) are left out of their ``repr``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .wire import Format


def _as_text(value: Any) -> str:
    if value is None or isinstance(value, (dict, list)):
        return ""
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


@dataclass(frozen=True)
class PushMessage:
    """One push from WeChat, verified, decrypted and parsed."""

    fields: Mapping[str, Any] = field(repr=False)
    format: Format
    safe_mode: bool = False

    def _lookup(self, names: tuple[str, ...]) -> Any:
        lowered = {key.lower(): value for key, value in self.fields.items()}
        for name in names:
            if name.lower() in lowered:
                return lowered[name.lower()]
        return None

    def text(self, *names: str) -> str:
        """The first of ``names`` present, as text ("" when absent or not a plain value)."""
        return _as_text(self._lookup(names))

    def integer(self, *names: str) -> int | None:
        """The first of ``names`` present, as an integer; None when absent or not a number."""
        value = self._lookup(names)
        if isinstance(value, bool):
            return None
        if isinstance(value, int):
            return value
        text = _as_text(value)
        return int(text) if text.lstrip("-").isdigit() and len(text) <= 20 else None

    def section(self, *names: str) -> Mapping[str, Any]:
        """A nested object (Sender, Cargo, …); its first item if WeChat sent a list; {} otherwise."""
        value = self._lookup(names)
        if isinstance(value, list):
            value = value[0] if value else None
        return value if isinstance(value, Mapping) else {}

    @property
    def event(self) -> str:
        """The event type, lower case ("add_waybill"): WeChat says it is case-insensitive."""
        return self.text("Event").lower()

    @property
    def msg_type(self) -> str:
        return self.text("MsgType")

    @property
    def to_user_name(self) -> str:
        return self.text("ToUserName")

    @property
    def from_user_name(self) -> str:
        return self.text("FromUserName")

    @property
    def create_time(self) -> int | None:
        return self.integer("CreateTime")


@dataclass(frozen=True)
class OrderParty:
    """The sender or the receiver of an order placement event."""

    name: str = ""
    tel: str = ""
    mobile: str = ""
    company: str = ""
    post_code: str = ""
    country: str = ""
    province: str = ""
    city: str = ""
    area: str = ""
    address: str = ""

    @classmethod
    def from_section(cls, section: Mapping[str, Any]) -> OrderParty:
        lowered = {key.lower(): _as_text(value) for key, value in section.items()}
        return cls(
            name=lowered.get("name", ""),
            tel=lowered.get("tel", ""),
            mobile=lowered.get("mobile", ""),
            company=lowered.get("company", ""),
            post_code=lowered.get("postcode", ""),
            country=lowered.get("country", ""),
            province=lowered.get("province", ""),
            city=lowered.get("city", ""),
            area=lowered.get("area", ""),
            address=lowered.get("address", ""),
        )


@dataclass(frozen=True)
class WaybillOrder:
    """WeChat's order placement event (``add_waybill``) as the shop's order hook sees it.

    ``order_id`` is WeChat's OrderID (made by the merchant), ``waybill_id`` the WayBillID WeChat
    sent, "" when it asks us to assign one ("0"). ``cargo``, ``insured`` and ``service`` are the
    objects as received.
    """

    order_id: str
    biz_id: str
    shop_appid: str
    waybill_id: str
    remark: str
    sender: OrderParty
    receiver: OrderParty
    cargo: Mapping[str, Any]
    insured: Mapping[str, Any]
    service: Mapping[str, Any]
    token: str = field(repr=False)
    biz_password: str = field(repr=False)

    @classmethod
    def from_message(cls, message: PushMessage) -> WaybillOrder:
        waybill_id = message.text("WayBillID", "WaybillId")
        return cls(
            order_id=message.text("OrderID"),
            biz_id=message.text("BizID"),
            shop_appid=message.text("ShopAppID"),
            waybill_id="" if waybill_id in ("", "0") else waybill_id,
            remark=message.text("Remark"),
            sender=OrderParty.from_section(message.section("Sender")),
            receiver=OrderParty.from_section(message.section("Receiver")),
            cargo=message.section("Cargo"),
            insured=message.section("Insured"),
            service=message.section("Service"),
            token=message.text("Token"),
            biz_password=message.text("BizPwd"),
        )


@dataclass(frozen=True)
class BizAccount:
    """The merchant account a ``check_biz`` or ``get_quota`` event asks about."""

    biz_id: str
    shop_appid: str
    password: str = field(repr=False)

    @classmethod
    def from_message(cls, message: PushMessage) -> BizAccount:
        return cls(
            biz_id=message.text("BizID"),
            shop_appid=message.text("ShopAppID"),
            password=message.text("BizPwd"),
        )

"""Which shipping-information fields WeChat accepts: the checks made before any call, one message per field.

Pure functions, no I/O: the client runs them before it calls WeChat, and the services run them
before they record anything. Each ``clean_*`` takes WeChat's field names as keywords and returns
the body WeChat takes (ints, RFC 3339 text, only the keys that apply), or raises
:class:`~django_wxlogistics.field_checks.InvalidFields` (a ValidationError) naming every bad
field: ``order_key.mchid``, ``shipping_list[0].contact.receiver_contact``.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import datetime
from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .field_checks import FieldErrors, InvalidFields, kind

__all__ = [
    "DeliveryMode",
    "InvalidFields",
    "LogisticsType",
    "OrderNumberType",
    "clean_confirm_receive",
    "clean_order_list",
    "clean_payment_ref",
    "clean_upload_combined_shipping_info",
    "clean_upload_shipping_info",
    "format_rfc3339",
    "is_masked",
    "mask_contact",
]

#: shipping_list's items per payment (and per sub-order of a combined payment)
MAX_PACKAGES = 15
#: item_desc, in characters ("限120个字以内")
MAX_ITEM_DESC = 120
#: tracking_no and express_company, in UTF-8 bytes ("字符字节限制: [1, 128]")
MAX_TRACKING_NO_BYTES = 128
MAX_EXPRESS_COMPANY_BYTES = 128
#: payer.openid, in UTF-8 bytes
MAX_OPENID_BYTES = 128
#: consignor_contact and receiver_contact, in characters
MAX_CONTACT = 1024
#: the carrier code of SF Express, whose parcels need a contact
SF_EXPRESS = "SF"


class OrderNumberType(models.IntegerChoices):
    """``order_key.order_number_type``: how a payment is named."""

    MERCHANT = 1, gettext_lazy("mchid + out_trade_no")
    TRANSACTION = 2, gettext_lazy("transaction_id")


class LogisticsType(models.IntegerChoices):
    """``logistics_type``: how the goods travel."""

    EXPRESS = 1, gettext_lazy("Express delivery")
    SAME_CITY = 2, gettext_lazy("Same-city delivery")
    VIRTUAL = 3, gettext_lazy("Virtual goods")
    PICKUP = 4, gettext_lazy("Picked up by the buyer")


class DeliveryMode(models.IntegerChoices):
    """``delivery_mode``: one parcel, or the order split into several."""

    UNIFIED = 1, gettext_lazy("Unified: one parcel")
    SPLIT = 2, gettext_lazy("Split: several parcels")


# -- phones, masked as WeChat asks ---------------------------------------------------------------

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


# -- order_key and payer ------------------------------------------------------------------------

_ORDER_KEY_FIELDS = ("order_number_type", "mchid", "out_trade_no", "transaction_id")


def _order_key(errors: FieldErrors, field: str, value: Any) -> dict[str, Any]:
    key = errors.mapping(field, value, _ORDER_KEY_FIELDS)
    if key is None:
        return {}
    number_type = errors.choice(f"{field}.order_number_type", key.get("order_number_type"), OrderNumberType)
    if number_type == OrderNumberType.MERCHANT:
        by_merchant = _("order_number_type 1 names the payment by mchid and out_trade_no: give both.")
        return {
            "order_number_type": number_type,
            "mchid": _key_part(errors, f"{field}.mchid", key.get("mchid"), by_merchant),
            "out_trade_no": _key_part(errors, f"{field}.out_trade_no", key.get("out_trade_no"), by_merchant),
        }
    if number_type == OrderNumberType.TRANSACTION:
        by_transaction = _("order_number_type 2 names the payment by its transaction_id: give it.")
        return {
            "order_number_type": number_type,
            "transaction_id": _key_part(
                errors, f"{field}.transaction_id", key.get("transaction_id"), by_transaction
            ),
        }
    return {}


def _key_part(errors: FieldErrors, field: str, value: Any, missing: str) -> str | None:
    text = errors.text(field, value, required=False)
    if text is None and not errors.has(field):
        errors.add(field, missing, "required")
    return text


def _payer(errors: FieldErrors, value: Any) -> dict[str, Any]:
    payer = errors.mapping("payer", value, ("openid",))
    if payer is None:
        return {}
    openid = errors.text("payer.openid", payer.get("openid"))
    errors.max_bytes("payer.openid", openid, MAX_OPENID_BYTES)
    return {"openid": openid}


# -- the parcels --------------------------------------------------------------------------------

_PACKAGE_FIELDS = ("tracking_no", "express_company", "item_desc", "contact")
_CONTACT_FIELDS = ("consignor_contact", "receiver_contact")


def _contact(errors: FieldErrors, field: str, value: Any) -> dict[str, str]:
    contact = errors.mapping(field, value, _CONTACT_FIELDS)
    if contact is None:
        return {}
    cleaned = {}
    for name in _CONTACT_FIELDS:
        where = f"{field}.{name}"
        text = errors.text(where, contact.get(name), required=False)
        if text is None:
            continue
        errors.max_chars(where, text, MAX_CONTACT)
        if not errors.has(where) and not is_masked(text):
            errors.add(
                where,
                _(
                    "WeChat takes this phone number masked: the last four digits in clear, others as *, "
                    "e.g. %(example)s (shipping_fields.mask_contact() does it)."
                )
                % {"example": mask_contact(text) if sum(c.isdigit() for c in text) > 4 else "189****1234"},
                "unmasked",
            )
        cleaned[name] = text
    return cleaned


def _package(
    errors: FieldErrors, field: str, value: Any, logistics_type: int | None, carriers: Collection[str] | None
) -> dict[str, Any]:
    item = errors.mapping(field, value, _PACKAGE_FIELDS)
    if item is None:
        return {}
    express = logistics_type == LogisticsType.EXPRESS
    package: dict[str, Any] = {}
    tracking_no = errors.text(f"{field}.tracking_no", item.get("tracking_no"), required=express)
    errors.max_bytes(f"{field}.tracking_no", tracking_no, MAX_TRACKING_NO_BYTES)
    express_company = errors.text(f"{field}.express_company", item.get("express_company"), required=express)
    errors.max_bytes(f"{field}.express_company", express_company, MAX_EXPRESS_COMPANY_BYTES)
    if express_company is not None and carriers is not None and express_company not in carriers:
        errors.add(
            f"{field}.express_company",
            _("%(code)r is not a delivery_id of get_delivery_list (e.g. SF, ZTO, YTO).")
            % {"code": express_company},
            "unknown_carrier",
        )
    item_desc = errors.text(f"{field}.item_desc", item.get("item_desc"))
    errors.max_chars(f"{field}.item_desc", item_desc, MAX_ITEM_DESC)
    contact = _contact(errors, f"{field}.contact", item["contact"]) if item.get("contact") is not None else {}
    if express_company == SF_EXPRESS and not contact:
        errors.add(
            f"{field}.contact",
            _(
                "SF Express parcels need contact.consignor_contact or contact.receiver_contact, "
                "masked like 189****1234."
            ),
            "required",
        )
    for name, text in (
        ("tracking_no", tracking_no),
        ("express_company", express_company),
        ("item_desc", item_desc),
    ):
        if text is not None:
            package[name] = text
    if contact:
        package["contact"] = contact
    return package


def _shipping(
    errors: FieldErrors,
    prefix: str,
    *,
    logistics_type: Any,
    delivery_mode: Any,
    shipping_list: Any,
    is_all_delivered: Any,
    carriers: Collection[str] | None,
) -> dict[str, Any]:
    """``logistics_type``, ``delivery_mode``, ``is_all_delivered`` and ``shipping_list`` of one payment."""
    logistics = errors.choice(f"{prefix}logistics_type", logistics_type, LogisticsType)
    mode = errors.choice(f"{prefix}delivery_mode", delivery_mode, DeliveryMode)
    body: dict[str, Any] = {"logistics_type": logistics, "delivery_mode": mode}
    if is_all_delivered is not None and not isinstance(is_all_delivered, bool):
        errors.add(f"{prefix}is_all_delivered", _("Give true or false."), "invalid")
    elif mode == DeliveryMode.SPLIT:
        if logistics is not None and logistics != LogisticsType.EXPRESS:
            errors.add(
                f"{prefix}delivery_mode",
                _("Split delivery (delivery_mode 2) is for express delivery (logistics_type 1) only."),
                "invalid",
            )
        if is_all_delivered is None:
            errors.add(
                f"{prefix}is_all_delivered",
                _("Split delivery needs it: true once the last parcel is shipped, false before."),
                "required",
            )
        else:
            body["is_all_delivered"] = is_all_delivered
    elif mode == DeliveryMode.UNIFIED and is_all_delivered is False:
        errors.add(
            f"{prefix}is_all_delivered",
            _("Unified delivery ships everything at once; shipping in parts is delivery_mode 2."),
            "invalid",
        )
    field = f"{prefix}shipping_list"
    packages = errors.items(field, shipping_list, MAX_PACKAGES)
    if packages is None:
        return body
    if mode == DeliveryMode.UNIFIED and len(packages) != 1:
        errors.add(
            field,
            _("Unified delivery (delivery_mode 1) has exactly one parcel; several are delivery_mode 2."),
            "count",
        )
    body["shipping_list"] = [
        _package(errors, f"{field}[{index}]", item, logistics, carriers)
        for index, item in enumerate(packages)
    ]
    return body


# -- times ---------------------------------------------------------------------------------------

_RFC3339 = re.compile(
    r"(?P<Y>\d{4})-(?P<M>\d{2})-(?P<D>\d{2})[Tt](?P<h>\d{2}):(?P<m>\d{2}):(?P<s>\d{2})(?:\.\d+)?"
    r"(?:[Zz]|[+-](?P<oh>\d{2}):(?P<om>\d{2}))"
)
_NO_COLON_OFFSET = re.compile(r".*[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?[+-]\d{4}")
_SPACE_FOR_PLUS = re.compile(r".*[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)? \d{2}:\d{2}")


def format_rfc3339(moment: datetime) -> str:
    """An aware datetime as WeChat's ``upload_time`` shows it: ``2022-12-15T13:29:35.120+08:00``."""
    return moment.isoformat(timespec="milliseconds")


def _upload_time(errors: FieldErrors, field: str, value: Any) -> str | None:
    if value is None:
        return format_rfc3339(timezone.localtime(timezone.now()))
    if isinstance(value, datetime):
        moment = errors.aware(field, value)
        return None if moment is None else format_rfc3339(moment)
    if not isinstance(value, str):
        errors.add(
            field,
            _("Give an aware datetime or RFC 3339 text, not %(kind)s.") % {"kind": kind(value)},
            "invalid",
        )
        return None
    match = _RFC3339.fullmatch(value)
    if match is None:
        if _SPACE_FOR_PLUS.fullmatch(value):
            hint = _("the offset's + became a space (form-encoding?); send the JSON as it is")
        elif _NO_COLON_OFFSET.fullmatch(value):
            hint = _("write the offset with a colon, +08:00, not +0800")
        else:
            hint = _("it needs a date, T, a time and an offset")
        errors.add(
            field,
            _("%(value)r is not RFC 3339 with an offset, e.g. 2022-12-15T13:29:35.120+08:00: %(hint)s.")
            % {"value": value, "hint": hint},
            "invalid",
        )
        return None
    year, month, day, hour, minute, second, offset_hours, offset_minutes = (
        int(part or 0) for part in match.group("Y", "M", "D", "h", "m", "s", "oh", "om")
    )
    try:
        datetime(year, month, day, hour, minute, second)
        if offset_hours > 23 or offset_minutes > 59:
            raise ValueError(_("the offset is out of range"))
    except ValueError as exc:
        errors.add(
            field,
            _("%(value)r is no real date and time: %(error)s.") % {"value": value, "error": exc},
            "invalid",
        )
        return None
    return value


# -- the bodies -----------------------------------------------------------------------------------


def clean_upload_shipping_info(
    *,
    order_key: Any = None,
    logistics_type: Any = None,
    delivery_mode: Any = None,
    shipping_list: Any = None,
    payer: Any = None,
    upload_time: Any = None,
    is_all_delivered: Any = None,
    carriers: Collection[str] | None = None,
) -> dict[str, Any]:
    """The body of ``upload_shipping_info``, checked; :class:`InvalidFields` otherwise.

    ``upload_time``: RFC 3339 text with an offset, or an aware datetime; None is now.
    ``carriers``: the ``delivery_id``s of ``get_delivery_list``, when known, to check
    ``express_company`` against.
    """
    errors = FieldErrors()
    body: dict[str, Any] = {"order_key": _order_key(errors, "order_key", order_key)}
    body.update(
        _shipping(
            errors,
            "",
            logistics_type=logistics_type,
            delivery_mode=delivery_mode,
            shipping_list=shipping_list,
            is_all_delivered=is_all_delivered,
            carriers=carriers,
        )
    )
    body["upload_time"] = _upload_time(errors, "upload_time", upload_time)
    body["payer"] = _payer(errors, payer)
    errors.raise_any()
    return body


_SUB_ORDER_FIELDS = ("order_key", "logistics_type", "delivery_mode", "shipping_list", "is_all_delivered")


def clean_upload_combined_shipping_info(
    *,
    order_key: Any = None,
    sub_orders: Any = None,
    payer: Any = None,
    upload_time: Any = None,
    carriers: Collection[str] | None = None,
) -> dict[str, Any]:
    """The body of ``upload_combined_shipping_info``: each sub-order's shipping, its order_key of
    the combined payment's ``order_number_type``; :class:`InvalidFields` otherwise."""
    errors = FieldErrors()
    parent = _order_key(errors, "order_key", order_key)
    subs = []
    for index, sub in enumerate(errors.items("sub_orders", sub_orders) or ()):
        prefix = f"sub_orders[{index}]"
        fields = errors.mapping(prefix, sub, _SUB_ORDER_FIELDS)
        if fields is None:
            continue
        key = _order_key(errors, f"{prefix}.order_key", fields.get("order_key"))
        if key and parent and key["order_number_type"] != parent["order_number_type"]:
            errors.add(
                f"{prefix}.order_key.order_number_type",
                _("Sub-orders are named as the combined payment is: order_number_type %(type)d.")
                % {"type": parent["order_number_type"]},
                "invalid",
            )
        shipping = _shipping(
            errors,
            f"{prefix}.",
            logistics_type=fields.get("logistics_type"),
            delivery_mode=fields.get("delivery_mode"),
            shipping_list=fields.get("shipping_list"),
            is_all_delivered=fields.get("is_all_delivered"),
            carriers=carriers,
        )
        subs.append({"order_key": key, **shipping})
    body = {
        "order_key": parent,
        "sub_orders": subs,
        "upload_time": _upload_time(errors, "upload_time", upload_time),
        "payer": _payer(errors, payer),
    }
    errors.raise_any()
    return body


def _payment_ref(
    errors: FieldErrors, transaction_id: Any, merchant_id: Any, sub_merchant_id: Any, merchant_trade_no: Any
) -> dict[str, Any]:
    """``transaction_id``, or ``merchant_id`` + ``merchant_trade_no`` (with ``sub_merchant_id``)."""
    ref: dict[str, Any] = {}
    given = {
        "transaction_id": transaction_id,
        "merchant_id": merchant_id,
        "sub_merchant_id": sub_merchant_id,
        "merchant_trade_no": merchant_trade_no,
    }
    for name, value in given.items():
        text = errors.text(name, value, required=False)
        if text is not None:
            ref[name] = text
    named = "transaction_id" in ref or ("merchant_id" in ref and "merchant_trade_no" in ref)
    if not named and not any(errors.has(name) for name in given):
        errors.add(
            "transaction_id",
            _("Name the payment: transaction_id, or merchant_id and merchant_trade_no."),
            "required",
        )
    return ref


def clean_payment_ref(
    *,
    transaction_id: Any = None,
    merchant_id: Any = None,
    sub_merchant_id: Any = None,
    merchant_trade_no: Any = None,
) -> dict[str, Any]:
    """The body of ``get_order``: the payment by ``transaction_id``, or by ``merchant_id`` and
    ``merchant_trade_no``; :class:`InvalidFields` otherwise."""
    errors = FieldErrors()
    ref = _payment_ref(errors, transaction_id, merchant_id, sub_merchant_id, merchant_trade_no)
    errors.raise_any()
    return ref


def clean_confirm_receive(
    *,
    transaction_id: Any = None,
    merchant_id: Any = None,
    sub_merchant_id: Any = None,
    merchant_trade_no: Any = None,
    received_time: Any = None,
) -> dict[str, Any]:
    """The body of ``notify_confirm_receive``; :class:`InvalidFields` otherwise.

    ``received_time``: Unix **seconds** or an aware datetime; None is now. A value that looks
    like milliseconds is refused, saying so.
    """
    errors = FieldErrors()
    body = _payment_ref(errors, transaction_id, merchant_id, sub_merchant_id, merchant_trade_no)
    body["received_time"] = (
        int(timezone.now().timestamp())
        if received_time is None
        else errors.unix_seconds("received_time", received_time)
    )
    errors.raise_any()
    return body


_TIME_RANGE_FIELDS = ("begin_time", "end_time")


def clean_order_list(
    *,
    pay_time_range: Any = None,
    order_state: Any = None,
    openid: Any = None,
    last_index: Any = None,
    page_size: Any = None,
) -> dict[str, Any]:
    """The body of ``get_order_list``; every filter is optional.

    ``pay_time_range``: ``begin_time`` and ``end_time``, Unix seconds or aware datetimes.
    ``last_index``: what the previous page returned. :class:`InvalidFields` otherwise.
    """
    errors = FieldErrors()
    body: dict[str, Any] = {}
    if pay_time_range is not None:
        span = errors.mapping("pay_time_range", pay_time_range, _TIME_RANGE_FIELDS)
        if span is not None:
            body["pay_time_range"] = {
                name: errors.unix_seconds(f"pay_time_range.{name}", span[name])
                for name in _TIME_RANGE_FIELDS
                if span.get(name) is not None
            }
    for name, number in (("order_state", order_state), ("page_size", page_size)):
        if number is None:
            continue
        if isinstance(number, bool) or not isinstance(number, int) or number < 1:
            errors.add(
                name, _("Give a whole number of 1 or more, not %(value)r.") % {"value": number}, "invalid"
            )
        else:
            body[name] = int(number)
    for name, text in (("openid", openid), ("last_index", last_index)):
        cleaned = errors.text(name, text, required=False)
        if cleaned is not None:
            body[name] = cleaned
    errors.raise_any()
    return body

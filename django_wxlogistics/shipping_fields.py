"""Which shipping-information fields WeChat accepts: the checks made before any call, one message per field.

Pure functions, no I/O: the client runs them before it calls WeChat, and the services run them
before they record anything. Each ``clean_*`` takes WeChat's field names as keywords and returns
the body WeChat takes (ints, RFC 3339 text, only the keys that apply), or raises
:class:`~django_wxlogistics.field_checks.InvalidFields` (a ValidationError) naming every bad
field: ``order_key.mchid``, ``shipping_list[0].contact.receiver_contact``.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .contact_masks import is_masked, mask_contact
from .field_checks import FieldErrors, InvalidFields
from .shipping_queries import clean_confirm_receive, clean_order_list, clean_payment_ref
from .shipping_times import clean_upload_time, format_rfc3339

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
    body["upload_time"] = clean_upload_time(errors, "upload_time", upload_time)
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
        "upload_time": clean_upload_time(errors, "upload_time", upload_time),
        "payer": _payer(errors, payer),
    }
    errors.raise_any()
    return body

"""Which fields WeChat's tracking component (物流查询组件) accepts: the checks made before any call.

Pure, no I/O, like :mod:`~django_wxlogistics.shipping_fields`: each ``clean_*`` returns the body
WeChat takes or raises :class:`~django_wxlogistics.field_checks.InvalidFields` naming every bad
field (``goods_info.detail_list[0].goods_img_url``).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from django.utils.translation import gettext as _

from .field_checks import FieldErrors

#: goods_name, in characters
MAX_GOODS_NAME = 60

_GOODS_FIELDS = ("goods_name", "goods_img_url", "goods_desc")


def _goods_info(errors: FieldErrors, value: Any) -> dict[str, Any]:
    goods_info = errors.mapping("goods_info", value, ("detail_list",))
    if goods_info is None:
        return {}
    detail_list = errors.items("goods_info.detail_list", goods_info.get("detail_list"))
    goods = []
    for index, item in enumerate(detail_list or ()):
        where = f"goods_info.detail_list[{index}]"
        fields = errors.mapping(where, item, _GOODS_FIELDS)
        if fields is None:
            continue
        name = errors.text(f"{where}.goods_name", fields.get("goods_name"))
        errors.max_chars(f"{where}.goods_name", name, MAX_GOODS_NAME)
        url = errors.text(f"{where}.goods_img_url", fields.get("goods_img_url"))
        if url is not None and not url.startswith(("https://", "http://")):
            errors.add(
                f"{where}.goods_img_url",
                _("Give the picture's full URL, starting with https://."),
                "invalid",
            )
        desc = errors.text(f"{where}.goods_desc", fields.get("goods_desc"), required=False)
        good = {"goods_name": name, "goods_img_url": url}
        if desc is not None:
            good["goods_desc"] = desc
        goods.append(good)
    return {"detail_list": goods}


def clean_trace_waybill(
    *,
    openid: Any = None,
    receiver_phone: Any = None,
    waybill_id: Any = None,
    goods_info: Any = None,
    trans_id: Any = None,
    delivery_id: Any = None,
    sender_phone: Any = None,
    order_detail_path: Any = None,
    carriers: Collection[str] | None = None,
) -> dict[str, Any]:
    """The body of ``trace_waybill``.

    ``receiver_phone`` is the whole number (some carriers look parcels up by it);
    ``delivery_id`` a code of ``get_delivery_list``, checked against ``carriers`` when given.
    WeChat's page marks ``trans_id`` and ``order_detail_path`` required, and takes calls
    without them (the goods card then opens the home page): send them when there are.
    """
    errors = FieldErrors()
    body: dict[str, Any] = {
        "openid": errors.text("openid", openid),
        "receiver_phone": errors.text("receiver_phone", receiver_phone),
        "waybill_id": errors.text("waybill_id", waybill_id),
        "goods_info": _goods_info(errors, goods_info),
    }
    optional = {
        "trans_id": trans_id,
        "delivery_id": delivery_id,
        "sender_phone": sender_phone,
        "order_detail_path": order_detail_path,
    }
    for name, value in optional.items():
        text = errors.text(name, value, required=False)
        if text is not None:
            body[name] = text
    if "delivery_id" in body and carriers is not None and body["delivery_id"] not in carriers:
        errors.add(
            "delivery_id",
            _("%(code)r is not a delivery_id of get_delivery_list (e.g. SF, ZTO, YTO).")
            % {"code": body["delivery_id"]},
            "unknown_carrier",
        )
    errors.raise_any()
    return body


def clean_query_trace(*, waybill_token: Any = None) -> dict[str, Any]:
    """The body of ``query_trace``: the ``waybill_token`` trace_waybill returned."""
    errors = FieldErrors()
    body = {"waybill_token": errors.text("waybill_token", waybill_token)}
    errors.raise_any()
    return body


def clean_update_waybill_goods(*, waybill_token: Any = None, goods_info: Any = None) -> dict[str, Any]:
    """The body of ``update_waybill_goods``: the token, and the goods WeChat shows from now on."""
    errors = FieldErrors()
    body = {
        "waybill_token": errors.text("waybill_token", waybill_token),
        "goods_info": _goods_info(errors, goods_info),
    }
    errors.raise_any()
    return body

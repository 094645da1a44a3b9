"""What the app knows of the shop's orders: the model watched, its status field, the reference kept.

The shop's order is never imported: ``ORDER_MODEL`` names it, ``STATUS_FIELD`` its status,
and ``ORDER_ID_ATTR`` the attribute that ``Waybill.order_id`` stores.
"""

from __future__ import annotations

import enum
from typing import Any

from django.apps import apps
from django.db import models

from .conf import wx_settings
from .exceptions import ConfigurationError


def order_reference(order: Any) -> str:
    """The string stored in ``Waybill.order_id`` for ``order``: its ``ORDER_ID_ATTR`` (``pk``)."""
    attr = wx_settings.ORDER_ID_ATTR
    try:
        value = getattr(order, attr)
    except AttributeError:
        raise ConfigurationError(
            f"WXLOGISTICS['ORDER_ID_ATTR'] is {attr!r}, but {type(order).__name__} has no attribute "
            f"{attr!r}. Set it to the order attribute that Waybill.order_id stores.",
            setting="ORDER_ID_ATTR",
        ) from None
    if value is None or value == "":
        raise ValueError(
            f"The order's {attr} is empty; save the order before its status changes or its waybill "
            "is registered."
        )
    return str(value)


def reference_of(order: Any) -> str:
    """``order``'s reference (:func:`order_reference`), or the reference itself when a string or
    an integer is given in the order's place."""
    if isinstance(order, (str, int)) and not isinstance(order, bool):
        return str(order)
    return order_reference(order)


def plain_status(status: Any) -> Any:
    """A status as the shop stores it: the value of a ``TextChoices`` member, else itself."""
    return status.value if isinstance(status, enum.Enum) else status


def order_model() -> type[models.Model] | None:
    """The model named by ``ORDER_MODEL``; None when unset or not installed (see the checks)."""
    label = wx_settings.ORDER_MODEL
    if not label or not isinstance(label, str):
        return None
    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        return None


def status_field(model: type[models.Model]) -> Any:
    """The field of ``model`` that ``STATUS_FIELD`` names; None when it has none (see the checks)."""
    try:
        return model._meta.get_field(wx_settings.STATUS_FIELD)
    except Exception:
        return None


def status_attname(model: type[models.Model]) -> str | None:
    """The attribute that holds ``model``'s status (``status``, ``state_id``); None without one."""
    field = status_field(model)
    return getattr(field, "attname", None) if field is not None else None

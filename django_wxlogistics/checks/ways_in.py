"""Whether the ways in can hear the shop's status changes: ``LISTEN_TO``, ``ORDER_MODEL``,
``STATUS_FIELD`` and ``ORDER_ID_ATTR`` (E034-E037, W031)."""

from __future__ import annotations

from django.core.checks import CheckMessage, Error, Warning
from django.dispatch import Signal
from django.utils.module_loading import import_string

from ..conf import wx_settings
from ..orders import order_model, status_attname
from .settings import errors_of


def check_order_sources() -> list[CheckMessage]:
    """System checks for ``LISTEN_TO``, ``ORDER_MODEL``, ``STATUS_FIELD`` and ``ORDER_ID_ATTR``."""
    messages = errors_of("LISTEN_TO")
    for path in wx_settings.valid("LISTEN_TO") or ():
        try:
            signal = import_string(path)
        except ImportError as exc:
            messages.append(
                Error(
                    f"WXLOGISTICS['LISTEN_TO'] names {path!r}, which cannot be imported ({exc}).",
                    hint="Give the dotted path of a Signal, e.g. "
                    "'oscar.apps.order.signals.order_status_changed'.",
                    id="wxlogistics.E035",
                )
            )
            continue
        if not isinstance(signal, Signal):
            messages.append(
                Error(
                    f"WXLOGISTICS['LISTEN_TO'] names {path!r}, which is a {type(signal).__name__}, "
                    "not a django.dispatch.Signal.",
                    hint="Name the signal the shop sends with order, old_status and new_status.",
                    id="wxlogistics.E035",
                )
            )
    label = wx_settings.ORDER_MODEL
    if not label:
        return messages
    model = order_model()
    if model is None:
        messages.append(
            Error(
                f"WXLOGISTICS['ORDER_MODEL'] is {label!r}, which is not an installed model.",
                hint="Write 'app_label.ModelName', e.g. 'shop.Order', of an app in INSTALLED_APPS.",
                id="wxlogistics.E036",
            )
        )
        return messages
    if status_attname(model) is None:
        fields = ", ".join(f.name for f in model._meta.concrete_fields)
        messages.append(
            Error(
                f"WXLOGISTICS['STATUS_FIELD'] is {wx_settings.STATUS_FIELD!r}, which is not a field of "
                f"{model._meta.label}.",
                hint=f"Name the field that holds the order status; its fields are: {fields}.",
                id="wxlogistics.E037",
            )
        )
    attr = wx_settings.ORDER_ID_ATTR
    if not isinstance(attr, str) or not hasattr(model, attr):
        messages.append(
            Warning(
                f"WXLOGISTICS['ORDER_ID_ATTR'] is {attr!r}, which is not an attribute of "
                f"{model._meta.label}.",
                hint="Name the order attribute that Waybill.order_id stores ('pk' by default).",
                id="wxlogistics.W031",
            )
        )
    return messages

"""Whether the REST API can be let in as configured: its permission classes and the contact rate
(E040-E043, W040)."""

from __future__ import annotations

from typing import Any

from django.core.checks import CheckMessage, Error, Warning
from django.utils.module_loading import import_string
from rest_framework.permissions import BasePermission, OperationHolderMixin

from ..conf import wx_settings
from ..throttling import parse_contact_rate

_HINT = (
    'List dotted paths of DRF permission classes, e.g. ["rest_framework.permissions.IsAdminUser"], '
    "or remove the key to use Django model permissions."
)


def check_api_settings() -> list[CheckMessage]:
    return _check_permission_classes() + _check_contact_rate()


def _check_contact_rate() -> list[CheckMessage]:
    rate = wx_settings.CONTACT_RATE
    try:
        parse_contact_rate(rate)
    except ValueError as exc:
        return [
            Error(
                f"WXLOGISTICS['CONTACT_RATE'] is not a rate: {exc}.",
                hint='Give lookups per user and period, e.g. "30/min" (periods: s, min, hour, day), '
                "or None for no limit.",
                id="wxlogistics.E043",
            )
        ]
    return []


def _check_permission_classes() -> list[CheckMessage]:
    classes = wx_settings.API_PERMISSION_CLASSES
    if classes is None:
        return []
    if isinstance(classes, (str, bytes)) or not isinstance(classes, (list, tuple)):
        return [
            Error(
                "WXLOGISTICS['API_PERMISSION_CLASSES'] must be a list or None, "
                f"not {type(classes).__name__}.",
                hint=_HINT,
                id="wxlogistics.E040",
            )
        ]
    if not classes:
        return [
            Warning(
                "WXLOGISTICS['API_PERMISSION_CLASSES'] is empty: anyone, logged in or not, "
                "may use the waybill API.",
                hint='If that is meant, say so with ["rest_framework.permissions.AllowAny"]; '
                "otherwise remove the key to use Django model permissions.",
                id="wxlogistics.W040",
            )
        ]
    messages: list[CheckMessage] = []
    for item in classes:
        messages += _check_permission_class(item)
    return messages


def _check_permission_class(item: Any) -> list[CheckMessage]:
    target = item
    if isinstance(item, str):
        try:
            target = import_string(item)
        except ImportError as exc:
            return [
                Error(
                    f"WXLOGISTICS['API_PERMISSION_CLASSES'] names {item!r}, "
                    f"which cannot be imported ({exc}).",
                    hint=_HINT,
                    id="wxlogistics.E041",
                )
            ]
    is_class = isinstance(target, type) and issubclass(target, BasePermission)
    if not is_class and not isinstance(target, OperationHolderMixin):
        return [
            Error(
                f"WXLOGISTICS['API_PERMISSION_CLASSES'] holds {item!r}, which is not a DRF permission class.",
                hint="Each entry must name a subclass of rest_framework.permissions.BasePermission.",
                id="wxlogistics.E042",
            )
        ]
    return []

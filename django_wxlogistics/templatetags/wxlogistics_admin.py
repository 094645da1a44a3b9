"""Template filters of the admin pages."""

from __future__ import annotations

from django import template

from ..admin.errors import errcode_label as _errcode_label

register = template.Library()


@register.filter
def errcode_label(errcode: int | None) -> str:
    """``40199`` → ``40199 · waybill not found``."""
    return "" if errcode is None else _errcode_label(errcode)

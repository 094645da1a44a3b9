"""The list columns every kind of call to WeChat shares: its state, and WeChat's last answer."""

from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy

from ..errcodes import ERRCODE_LABELS, errcode_label
from ..models.outbox import OutboxItem

#: Characters of WeChat's errmsg a list shows; the item's page has the whole of it.
ERRMSG_SHOWN = 60


class DeliveryColumns:
    """``state_badge`` and ``last_error`` for the list of a model with the delivery engine's
    columns (:class:`~django_wxlogistics.models.outbox.OutboxItem`): trace events, shipping
    information."""

    @admin.display(description=gettext_lazy("state"), ordering="state")
    def state_badge(self, obj: OutboxItem) -> str:
        return format_html(
            '<span class="wxl-state wxl-state-{}">{}</span>',
            obj.state,
            obj.get_state_display(),
        )

    @admin.display(description=gettext_lazy("last error"), ordering="last_errcode")
    def last_error(self, obj: OutboxItem) -> str:
        """``-1 · WeChat busy`` for a code with a name, ``10060031 · WeChat's errmsg`` for
        another, WeChat's errmsg alone for no code (a timeout), "–" for none."""
        message = Truncator(obj.last_errmsg).chars(ERRMSG_SHOWN)
        if obj.last_errcode is None:
            return message or "–"
        if obj.last_errcode in ERRCODE_LABELS or not message:
            return errcode_label(obj.last_errcode)
        return f"{obj.last_errcode} · {message}"

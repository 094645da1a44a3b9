"""The inbound event admin: every push WeChat delivered, read-only, with "process again"."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from ..enums import PushVerdict
from ..events.inbound import CannotProcessAgain, process_again
from ..models import InboundEvent
from .audit import ReadOnlyAdmin

#: The model permission that lets staff process a stored push again (the admin stays read-only).
PROCESS_AGAIN_PERMISSION = "django_wxlogistics.change_inboundevent"


@admin.register(InboundEvent)
class InboundEventAdmin(ReadOnlyAdmin):
    list_display = [
        "received_at",
        "event",
        "verdict",
        "result_code",
        "biz_id",
        "order_id",
        "waybill_link",
        "safe_mode",
        "body_format",
        "processed_count",
    ]
    list_filter = ["verdict", "event", "safe_mode", "body_format", "received_at"]
    search_fields = ["biz_id", "order_id", "waybill_number", "event"]
    list_select_related = ["waybill"]
    date_hierarchy = "received_at"
    actions = ["process_selected_again"]
    # Never the sealed body: the redacted message and reply are what staff see of a push.
    fields = [
        "received_at",
        "method",
        "safe_mode",
        "body_format",
        "body_size",
        "verdict",
        "status_code",
        "error",
        "event",
        "biz_id",
        "order_id",
        "waybill_number",
        "waybill",
        "result_code",
        "result_msg",
        "message_view",
        "reply_view",
        "query",
        "headers",
        "processed_count",
        "processed_at",
    ]
    readonly_fields = ["message_view", "reply_view"]

    def has_process_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(PROCESS_AGAIN_PERMISSION)

    @admin.display(description=gettext_lazy("waybill"), ordering="waybill__waybill_id")
    def waybill_link(self, obj: InboundEvent) -> str:
        if obj.waybill is None:
            return obj.waybill_number or "–"
        url = reverse("admin:django_wxlogistics_waybill_change", args=[obj.waybill.pk])
        return format_html('<a href="{}">{}</a>', url, obj.waybill.waybill_id)

    @staticmethod
    def _pretty(value: Any) -> str:
        if value is None:
            return "–"
        return format_html("<pre>{}</pre>", json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True))

    @admin.display(description=gettext_lazy("message (redacted)"))
    def message_view(self, obj: InboundEvent) -> str:
        return self._pretty(obj.payload)

    @admin.display(description=gettext_lazy("reply (redacted)"))
    def reply_view(self, obj: InboundEvent) -> str:
        return self._pretty(obj.reply)

    @admin.action(description=gettext_lazy("Process the selected pushes again"), permissions=["process"])
    def process_selected_again(self, request: HttpRequest, queryset: QuerySet[InboundEvent]) -> None:
        verdicts: Counter[str] = Counter()
        skipped: list[str] = []
        for inbound in queryset.order_by("received_at", "id"):
            try:
                process_again(inbound)
            except CannotProcessAgain as exc:
                skipped.append(f"#{inbound.pk}: {exc}")
                continue
            verdicts[str(PushVerdict(inbound.verdict).label)] += 1
        done = sum(verdicts.values())
        if done:
            summary = ", ".join(f"{label}: {count}" for label, count in sorted(verdicts.items()))
            self.message_user(
                request,
                ngettext(
                    "%(count)d push processed again (%(summary)s).",
                    "%(count)d pushes processed again (%(summary)s).",
                    done,
                )
                % {"count": done, "summary": summary},
                messages.SUCCESS,
            )
        if skipped:
            self.message_user(
                request,
                _("Not processed again: %(reasons)s") % {"reasons": "; ".join(skipped)},
                messages.WARNING,
            )

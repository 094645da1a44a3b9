"""The trace event admin: read-only, with retry and push actions."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from ..models import TraceEvent
from ..models.outbox import SHOWN_FIELDS
from ..services import push_pending_now, retry_failed_events
from .base import GuardedModelAdmin
from .changelists import CappedPaginator, InputChecks
from .columns import DeliveryColumns
from .filters import ErrcodeFilter

#: The model permission that lets staff retry and push events (the admin stays read-only),
#: here and on the waybill pages, as in the API.
CHANGE_EVENT_PERMISSION = "django_wxlogistics.change_traceevent"
#: The model permission that lets staff add an event to waybills (the waybill list's action).
ADD_EVENT_PERMISSION = "django_wxlogistics.add_traceevent"
#: The model permission that shows a waybill's trace on its page, as here.
VIEW_EVENT_PERMISSION = "django_wxlogistics.view_traceevent"


@admin.register(TraceEvent)
class TraceEventAdmin(DeliveryColumns, InputChecks, GuardedModelAdmin):
    list_display = [
        "action_time",
        "waybill_link",
        "action_type",
        "short_message",
        "state_badge",
        "attempts",
        "last_error",
        "sent_at",
    ]
    list_filter = ["state", "action_type", ErrcodeFilter, "action_time"]
    search_fields = ["waybill__waybill_id", "waybill__order_id"]
    list_select_related = ["waybill"]
    ordering = ["-action_time", "-id"]
    # From the calendar, not from a scan of every event's date (templates/admin/django_wxlogistics/).
    date_hierarchy = "action_time"
    # Counts that stay cheap at a million events: up to a cap, and not the whole table again.
    paginator = CappedPaginator
    show_full_result_count = False
    actions = ["retry_failed", "push_pending"]
    fields = [
        "waybill",
        "action_type",
        "action_msg",
        "action_time",
        *SHOWN_FIELDS,
        "updated_at",
    ]

    class Media:
        css = {"all": ["django_wxlogistics/admin/wxlogistics.css"]}

    # Events change only through the pipeline and the actions below.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: TraceEvent | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: TraceEvent | None = None) -> bool:
        return False

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(CHANGE_EVENT_PERMISSION)

    @admin.display(description=gettext_lazy("waybill"), ordering="waybill__waybill_id")
    def waybill_link(self, obj: TraceEvent) -> str:
        url = reverse("admin:django_wxlogistics_waybill_change", args=[obj.waybill.pk])
        return format_html('<a href="{}">{}</a>', url, obj.waybill.waybill_id)

    @admin.display(description=gettext_lazy("message"))
    def short_message(self, obj: TraceEvent) -> str:
        return Truncator(obj.action_msg).chars(40)

    @admin.action(description=gettext_lazy("Retry the failed events"), permissions=["retry"])
    def retry_failed(self, request: HttpRequest, queryset: QuerySet[TraceEvent]) -> None:
        count = retry_failed_events(queryset)
        if count:
            self.message_user(
                request,
                ngettext(
                    "%(count)d failed event will be pushed again.",
                    "%(count)d failed events will be pushed again.",
                    count,
                )
                % {"count": count},
                messages.SUCCESS,
            )
        else:
            self.message_user(request, _("None of the selected events has failed."), messages.WARNING)

    @admin.action(description=gettext_lazy("Push the pending events now"), permissions=["retry"])
    def push_pending(self, request: HttpRequest, queryset: QuerySet[TraceEvent]) -> None:
        count = push_pending_now(queryset)
        if count:
            self.message_user(
                request,
                ngettext(
                    "%(count)d pending event will be pushed now.",
                    "%(count)d pending events will be pushed now.",
                    count,
                )
                % {"count": count},
                messages.SUCCESS,
            )
        else:
            self.message_user(request, _("None of the selected events is pending."), messages.WARNING)

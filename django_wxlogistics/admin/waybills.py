"""The waybill admin: delivery health in the list, the trace timeline and the contact panel."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from ..contact_errors import contact_error_message
from ..contacts import Contact
from ..enums import AccessChannel
from ..models import TraceEvent, Waybill
from ..redaction import get_logger
from ..services import (
    can_view_contact,
    fetch_contact,
    push_pending_now,
    record_contact_access,
    record_trace_event,
    retry_failed_events,
)
from ..throttling import contact_lookup_wait, too_many_lookups_message
from .base import GuardedModelAdmin
from .changelists import CappedPaginator, InputChecks, WaybillChangeList
from .filters import HasFailedEventsFilter
from .forms import TraceEventActionForm, WaybillForm
from .on_demand import Asked, ask_wechat, panel_response
from .retry_one import retry_one
from .trace_events import ADD_EVENT_PERMISSION, CHANGE_EVENT_PERMISSION, VIEW_EVENT_PERMISSION

logger = get_logger(__name__)

#: What WeChat's order placement and cancellation events set: shown, read-only.
WECHAT_ORDER = gettext_lazy("WeChat's order")
WECHAT_ORDER_FIELDS = ("biz_id", "wechat_order_id", "cancelled_at")


@admin.register(Waybill)
class WaybillAdmin(InputChecks, GuardedModelAdmin):
    form = WaybillForm
    change_form_template = "admin/django_wxlogistics/waybill/change_form.html"
    list_display = ["waybill_id", "order_id", "latest_action", "delivery_health", "created_at"]
    list_filter = ["latest_action_type", HasFailedEventsFilter, "created_at"]
    search_fields = ["waybill_id", "order_id"]
    readonly_fields = [
        "token_status",
        "latest_action_type",
        "created_at",
        "updated_at",
        *WECHAT_ORDER_FIELDS,
    ]
    fieldsets = [
        (None, {"fields": ["waybill_id", "order_id", "token_status", "new_token"]}),
        (gettext_lazy("Delivery"), {"fields": ["latest_action_type", "created_at", "updated_at"]}),
        (WECHAT_ORDER, {"fields": WECHAT_ORDER_FIELDS}),
    ]
    actions = ["push_pending_now", "retry_failed_events", "add_trace_event"]
    list_per_page = 50
    # Counts that stay cheap as the waybills add up: up to a cap, and not the whole table again.
    paginator = CappedPaginator
    show_full_result_count = False

    class Media:
        css = {"all": ["django_wxlogistics/admin/wxlogistics.css"]}
        js = ["django_wxlogistics/admin/panel_loader.js", "django_wxlogistics/admin/contact_panel.js"]

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[WaybillChangeList]:
        return WaybillChangeList

    def get_fieldsets(self, request: HttpRequest, obj: Waybill | None = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)
        # A waybill added by hand has no order from WeChat to show yet.
        return fieldsets if obj is not None else [f for f in fieldsets if f[0] != WECHAT_ORDER]

    def get_readonly_fields(self, request: HttpRequest, obj: Waybill | None = None) -> list[str]:
        readonly = list(super().get_readonly_fields(request, obj))
        # Events already pushed under this ID: changing it would orphan them at WeChat.
        return [*readonly, "waybill_id"] if obj is not None else readonly

    # --- permissions: the events' own, as in the API ----------------------------------------

    def has_retry_permission(self, request: HttpRequest) -> bool:
        """Retrying and pushing change trace events, not the waybill."""
        return request.user.has_perm(CHANGE_EVENT_PERMISSION)

    def has_add_event_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(ADD_EVENT_PERMISSION)

    def has_trace_view_permission(self, request: HttpRequest) -> bool:
        """The trace on a waybill's page needs what the trace event admin needs: view or change."""
        return request.user.has_perm(VIEW_EVENT_PERMISSION) or self.has_retry_permission(request)

    # --- list columns --------------------------------------------------------------

    @admin.display(description=gettext_lazy("latest action"), ordering="latest_action_type")
    def latest_action(self, obj: Waybill) -> str:
        return obj.get_latest_action_type_display() if obj.latest_action_type else "–"

    @admin.display(description=gettext_lazy("delivery health"))
    def delivery_health(self, obj: Waybill) -> str:
        sent, waiting, failed = obj.sent_count, obj.waiting_count, obj.failed_count  # type: ignore[attr-defined]
        if not (sent or waiting or failed):
            return format_html('<span class="wxl-health wxl-health-none">{}</span>', _("no events"))
        if not (waiting or failed):
            return format_html('<span class="wxl-health wxl-health-ok">✓ {}</span>', _("all sent"))
        parts = [
            ("sent", sent, ngettext("%(count)d sent", "%(count)d sent", sent)),
            ("pending", waiting, ngettext("%(count)d pending", "%(count)d pending", waiting)),
            ("failed", failed, ngettext("%(count)d failed", "%(count)d failed", failed)),
        ]
        return format_html_join(
            " · ",
            '<span class="wxl-health wxl-health-{}">{}</span>',
            [(kind, text % {"count": count}) for kind, count, text in parts if count],
        )

    @admin.display(description=gettext_lazy("token"))
    def token_status(self, obj: Waybill) -> str:
        return _("set") if obj.has_token else _("not set")

    # --- change page -----------------------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        info = self.opts.app_label, self.opts.model_name
        own = [
            path(
                "<path:object_id>/contact/",
                self.admin_site.admin_view(self.contact_view),
                name="{}_{}_contact".format(*info),
            ),
            path(
                "<path:object_id>/events/<int:event_id>/retry/",
                self.admin_site.admin_view(self.retry_event_view),
                name="{}_{}_retry_event".format(*info),
            ),
        ]
        return own + super().get_urls()

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        context = dict(extra_context or {})
        waybill_pk = unquote(object_id)
        show_trace = self.has_trace_view_permission(request)
        context.update(
            show_trace=show_trace,
            trace_events=TraceEvent.objects.filter(waybill_id=waybill_pk).order_by("action_time", "id")
            if str(waybill_pk).isdigit() and show_trace
            else TraceEvent.objects.none(),
            contact_url=reverse("admin:django_wxlogistics_waybill_contact", args=[object_id]),
            can_retry=self.has_retry_permission(request),
        )
        return super().change_view(request, object_id, form_url, context)

    def contact_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """GET: the masked panel. POST: the unmasked panel, for ``view_contact`` holders, audited."""
        if request.method not in ("GET", "POST"):
            return HttpResponseNotAllowed(["GET", "POST"])
        waybill = self.get_object(request, unquote(object_id))
        if waybill is None:
            raise Http404(_("There is no waybill with this ID."))
        if not self.has_view_or_change_permission(request, waybill):
            raise PermissionDenied
        reveal = request.method == "POST"
        if reveal and not can_view_contact(request.user):
            raise PermissionDenied
        if not waybill.has_token:
            asked: Asked[Contact] = Asked(
                error=_(
                    "This waybill has no token, so WeChat cannot be asked for its contacts. "
                    "Set the Token from WeChat's order placement event."
                )
            )
        else:
            asked = ask_wechat(
                request,
                lambda: fetch_contact(waybill),
                wait=contact_lookup_wait,
                too_many=too_many_lookups_message,
                message=contact_error_message,
                logger=logger,
                what="Contacts",
                key=f"waybill {waybill.waybill_id}",
                secrets=(waybill.token,),
            )
        contact = asked.answer
        if contact is not None and reveal:
            record_contact_access(waybill, request.user, AccessChannel.ADMIN)
        shown = contact if reveal else (contact.masked() if contact else None)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": waybill,
            "title": _("Contacts of waybill %(waybill)s") % {"waybill": waybill.waybill_id},
            "parties": [(_("Sender"), shown.sender), (_("Receiver"), shown.receiver)] if shown else [],
            "revealed": reveal and contact is not None,
            "can_reveal": can_view_contact(request.user),
            "error": asked.error,
            "error_detail": asked.error_detail,
            "contact_url": request.path,
        }
        return panel_response(
            request,
            context,
            "admin/django_wxlogistics/waybill/contact.html",
            "django_wxlogistics/admin/contact_panel.html",
            asked.wait,
        )

    def retry_event_view(self, request: HttpRequest, object_id: str, event_id: int) -> HttpResponse:
        return retry_one(
            self,
            request,
            object_id,
            not_found=_("There is no waybill with this ID."),
            may_retry=self.has_retry_permission,
            items=TraceEvent,
            parent="waybill",
            item_id=event_id,
            retry=retry_failed_events,
            retried=lambda event: (
                _("The event “%(event)s” will be pushed again.") % {"event": event.get_action_type_display()}
            ),
            not_retried=lambda event: (
                _("The event “%(event)s” has not failed; there is nothing to retry.")
                % {"event": event.get_action_type_display()}
            ),
        )

    # --- actions -----------------------------------------------------------------------

    @admin.action(description=gettext_lazy("Push pending events now"), permissions=["retry"])
    def push_pending_now(self, request: HttpRequest, queryset: QuerySet[Waybill]) -> None:
        count = push_pending_now(TraceEvent.objects.filter(waybill__in=queryset.values("pk")))
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
            self.message_user(request, _("The selected waybills have no pending events."), messages.WARNING)

    @admin.action(description=gettext_lazy("Retry failed events"), permissions=["retry"])
    def retry_failed_events(self, request: HttpRequest, queryset: QuerySet[Waybill]) -> None:
        count = retry_failed_events(TraceEvent.objects.filter(waybill__in=queryset.values("pk")))
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
            self.message_user(request, _("The selected waybills have no failed events."), messages.WARNING)

    @admin.action(description=gettext_lazy("Add a trace event"), permissions=["add_event"])
    def add_trace_event(self, request: HttpRequest, queryset: QuerySet[Waybill]) -> HttpResponse | None:
        """An intermediate page asks for the event; each selected waybill gets one."""
        if "apply" in request.POST:
            form = TraceEventActionForm(request.POST)
            if form.is_valid():
                waybills = list(queryset.order_by("pk"))
                with transaction.atomic():
                    for waybill in waybills:
                        record_trace_event(
                            waybill,
                            form.cleaned_data["action_type"],
                            form.cleaned_data["action_msg"],
                            form.cleaned_data["action_time"],
                        )
                self.message_user(
                    request,
                    ngettext(
                        "Added the event “%(action)s” to %(count)d waybill.",
                        "Added the event “%(action)s” to %(count)d waybills.",
                        len(waybills),
                    )
                    % {"action": form.cleaned_data["action_type"].label, "count": len(waybills)},
                    messages.SUCCESS,
                )
                return None
        else:
            form = TraceEventActionForm()
        selected = request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
        shown = 20
        context = {
            **self.admin_site.each_context(request),
            "title": _("Add a trace event"),
            "opts": self.opts,
            "form": form,
            "waybills": queryset[:shown],
            "more": max(queryset.count() - shown, 0),
            "selected": selected,
            "select_across": request.POST.get("select_across", "0"),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/django_wxlogistics/waybill/add_trace_event.html", context)

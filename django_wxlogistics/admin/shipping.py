"""The shipping-information admin: payments and their calls to WeChat, read-only, with "retry failed";
WeChat's own view of a payment (``get_order``) and the carriers it knows, asked on demand."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from ..models import Payment, ShippingInfo
from ..models.outbox import SHOWN_FIELDS
from ..redaction import get_logger
from ..services import (
    carrier_list,
    retry_failed_shipping_info,
    wechat_order,
    wechat_order_error_message,
)
from ..throttling import too_many_wechat_lookups_message, wechat_lookup_wait
from .audit import ReadOnlyAdmin
from .columns import DeliveryColumns
from .on_demand import ask_wechat, lookup_error, panel_response
from .retry_one import retry_one

logger = get_logger(__name__)

#: The model permission that lets staff retry failed shipping information (the admin stays
#: read-only), as ``change_traceevent`` does for trace events.
RETRY_SHIPPING_PERMISSION = "django_wxlogistics.change_shippinginfo"
#: The model permission that shows a payment's calls on its page, as the calls' own list does.
VIEW_SHIPPING_PERMISSION = "django_wxlogistics.view_shippinginfo"


def _lookup_error(exc: Exception, what: str, key: str) -> tuple[str, str]:
    return lookup_error(exc, wechat_order_error_message, logger, what, key)


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    change_form_template = "admin/django_wxlogistics/payment/change_form.html"
    list_display = ["created_at", "order_id", "payment_key", "latest_call", "shipping_link"]
    list_filter = ["latest_call", "created_at"]
    search_fields = ["order_id", "transaction_id", "out_trade_no"]
    date_hierarchy = "created_at"
    ordering = ["-created_at", "-id"]
    fields = [
        "order_id",
        "transaction_id",
        "mchid",
        "out_trade_no",
        "latest_call",
        "created_at",
        "updated_at",
    ]

    class Media:
        css = {"all": ["django_wxlogistics/admin/wxlogistics.css"]}
        js = ["django_wxlogistics/admin/panel_loader.js", "django_wxlogistics/admin/wechat_order_panel.js"]

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(RETRY_SHIPPING_PERMISSION)

    def has_calls_view_permission(self, request: HttpRequest) -> bool:
        """The calls on a payment's page need what their own list needs: view or change."""
        return request.user.has_perm(VIEW_SHIPPING_PERMISSION) or self.has_retry_permission(request)

    @admin.display(description=gettext_lazy("payment"))
    def payment_key(self, obj: Payment) -> str:
        return str(obj)

    @admin.display(description=gettext_lazy("shipping information"))
    def shipping_link(self, obj: Payment) -> str:
        url = reverse("admin:django_wxlogistics_shippinginfo_changelist")
        return format_html(
            '<a href="{}?{}">{}</a>', url, urlencode({"payment__id__exact": obj.pk}), _("Calls")
        )

    # --- change page: the payment's calls, and WeChat's view of it on demand ----------------

    def get_urls(self) -> list[URLPattern]:
        info = self.opts.app_label, self.opts.model_name
        own = [
            path(
                "<path:object_id>/wechat-order/",
                self.admin_site.admin_view(self.wechat_order_view),
                name="{}_{}_wechat_order".format(*info),
            ),
            path(
                "<path:object_id>/calls/<int:info_id>/retry/",
                self.admin_site.admin_view(self.retry_call_view),
                name="{}_{}_retry_call".format(*info),
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
        payment_pk = unquote(object_id)
        show_calls = self.has_calls_view_permission(request)
        context.update(
            show_calls=show_calls,
            shipping_calls=ShippingInfo.objects.filter(payment_id=payment_pk).order_by("id")
            if str(payment_pk).isdigit() and show_calls
            else ShippingInfo.objects.none(),
            can_retry=self.has_retry_permission(request),
            wechat_order_url=reverse("admin:django_wxlogistics_payment_wechat_order", args=[object_id]),
        )
        return super().change_view(request, object_id, form_url, context)

    def wechat_order_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """WeChat's view of the payment (``get_order``), asked now: the panel, or a page of its own."""
        if request.method != "GET":
            return HttpResponseNotAllowed(["GET"])
        payment = self.get_object(request, unquote(object_id))
        if payment is None:
            raise Http404(_("There is no payment with this ID."))
        if not self.has_view_permission(request, payment):
            raise PermissionDenied
        asked = ask_wechat(
            request,
            lambda: wechat_order(payment),
            wait=wechat_lookup_wait,
            too_many=too_many_wechat_lookups_message,
            message=wechat_order_error_message,
            logger=logger,
            what="WeChat's view",
            key=f"payment {payment}",
        )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": payment,
            "title": _("WeChat's view of payment %(payment)s") % {"payment": payment},
            "order": asked.answer,
            "asked_at": timezone.now(),
            "error": asked.error,
            "error_detail": asked.error_detail,
            "wechat_order_url": request.path,
        }
        return panel_response(
            request,
            context,
            "admin/django_wxlogistics/payment/wechat_order.html",
            "django_wxlogistics/admin/wechat_order_panel.html",
            asked.wait,
        )

    def retry_call_view(self, request: HttpRequest, object_id: str, info_id: int) -> HttpResponse:
        """Retry one failed call of the payment, from its page."""
        return retry_one(
            self,
            request,
            object_id,
            not_found=_("There is no payment with this ID."),
            may_retry=self.has_retry_permission,
            items=ShippingInfo,
            parent="payment",
            item_id=info_id,
            retry=retry_failed_shipping_info,
            retried=lambda info: (
                _("The call “%(call)s” will be sent to WeChat again.") % {"call": info.get_call_display()}
            ),
            not_retried=lambda info: (
                _("The call “%(call)s” cannot be retried: it has not failed, or it was recorded again.")
                % {"call": info.get_call_display()}
            ),
        )


@admin.register(ShippingInfo)
class ShippingInfoAdmin(DeliveryColumns, ReadOnlyAdmin):
    change_list_template = "admin/django_wxlogistics/shippinginfo/change_list.html"
    list_display = [
        "created_at",
        "order_id",
        "payment_link",
        "call",
        "state_badge",
        "attempts",
        "last_error",
        "sent_at",
    ]
    list_filter = ["state", "call", "created_at"]
    search_fields = ["order_id", "payment__transaction_id", "payment__out_trade_no"]
    list_select_related = ["payment"]
    date_hierarchy = "created_at"
    ordering = ["-created_at", "-id"]
    actions = ["retry_failed"]
    # Not the request: it holds the payer's openid; the order and the payment find it.
    fields = [
        "payment",
        "order_id",
        "call",
        *SHOWN_FIELDS,
        "updated_at",
    ]

    class Media:
        css = {"all": ["django_wxlogistics/admin/wxlogistics.css"]}

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(RETRY_SHIPPING_PERMISSION)

    def get_urls(self) -> list[URLPattern]:
        info = self.opts.app_label, self.opts.model_name
        # Before the model's own URLs, whose ``<path:object_id>/`` would take "carriers/".
        own = [
            path(
                "carriers/",
                self.admin_site.admin_view(self.carriers_view),
                name="{}_{}_carriers".format(*info),
            )
        ]
        return own + super().get_urls()

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        context = {
            "carriers_url": reverse("admin:django_wxlogistics_shippinginfo_carriers"),
            **(extra_context or {}),
        }
        return super().changelist_view(request, context)

    def carriers_view(self, request: HttpRequest) -> HttpResponse:
        """GET: the carriers WeChat knows (kept for hours), filtered by ``q``. POST: ask WeChat again."""
        if request.method not in ("GET", "POST"):
            return HttpResponseNotAllowed(["GET", "POST"])
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        url = reverse("admin:django_wxlogistics_shippinginfo_carriers")
        refresh = request.method == "POST"
        carriers = []
        error = error_detail = ""
        wait: int | None = None
        try:
            # A refresh is a lookup at WeChat, counted as the API counts it; the list kept is not.
            wait = wechat_lookup_wait(request) if refresh else None
            if wait is not None:
                error = too_many_wechat_lookups_message(wait)
            carriers = carrier_list(refresh=refresh and wait is None)
        except Exception as exc:
            error, error_detail = _lookup_error(exc, "The carrier list", "WeChat")
        if refresh and not error:
            self.message_user(
                request,
                ngettext(
                    "WeChat's carrier list was fetched again: %(count)d carrier.",
                    "WeChat's carrier list was fetched again: %(count)d carriers.",
                    len(carriers),
                )
                % {"count": len(carriers)},
                messages.SUCCESS,
            )
            return HttpResponseRedirect(url)
        query = request.GET.get("q", "").strip()
        shown = [
            c
            for c in carriers
            if not query
            or query.casefold() in c.delivery_id.casefold()
            or query.casefold() in c.delivery_name.casefold()
        ]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Carriers"),
            "carriers": shown,
            "total": len(carriers),
            "query": query,
            "example": shown[0] if shown else (carriers[0] if carriers else None),
            "error": error,
            "error_detail": error_detail,
            "carriers_url": url,
        }
        response = TemplateResponse(request, "admin/django_wxlogistics/shippinginfo/carriers.html", context)
        if wait is not None:
            response.status_code = 429
            response["Retry-After"] = str(wait)
        return response

    @admin.display(description=gettext_lazy("payment"), ordering="payment__transaction_id")
    def payment_link(self, obj: ShippingInfo) -> str:
        url = reverse("admin:django_wxlogistics_payment_change", args=[obj.payment.pk])
        return format_html('<a href="{}">{}</a>', url, str(obj.payment))

    @admin.action(description=gettext_lazy("Retry the failed shipping information"), permissions=["retry"])
    def retry_failed(self, request: HttpRequest, queryset: QuerySet[ShippingInfo]) -> None:
        count = retry_failed_shipping_info(queryset)
        if count:
            self.message_user(
                request,
                ngettext(
                    "%(count)d failed call will be sent to WeChat again.",
                    "%(count)d failed calls will be sent to WeChat again.",
                    count,
                )
                % {"count": count},
                messages.SUCCESS,
            )
        else:
            self.message_user(
                request,
                _("None of the selected calls can be retried: none has failed, or each was recorded again."),
                messages.WARNING,
            )

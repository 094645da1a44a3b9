"""The shipping-information admin: payments and their calls to WeChat, read-only, with "retry failed"."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from ..models import Payment, ShippingInfo
from ..services import retry_failed_shipping_info
from .audit import ReadOnlyAdmin

#: The model permission that lets staff retry failed shipping information (the admin stays
#: read-only), as ``change_traceevent`` does for trace events.
RETRY_SHIPPING_PERMISSION = "django_wxlogistics.change_shippinginfo"


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
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

    @admin.display(description=gettext_lazy("payment"))
    def payment_key(self, obj: Payment) -> str:
        return str(obj)

    @admin.display(description=gettext_lazy("shipping information"))
    def shipping_link(self, obj: Payment) -> str:
        url = reverse("admin:django_wxlogistics_shippinginfo_changelist")
        return format_html(
            '<a href="{}?{}">{}</a>', url, urlencode({"payment__id__exact": obj.pk}), _("Calls")
        )


@admin.register(ShippingInfo)
class ShippingInfoAdmin(ReadOnlyAdmin):
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
        "state",
        "attempts",
        "next_attempt_at",
        "last_errcode",
        "last_errmsg",
        "sent_at",
        "created_at",
        "updated_at",
    ]

    class Media:
        css = {"all": ["django_wxlogistics/admin/wxlogistics.css"]}

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(RETRY_SHIPPING_PERMISSION)

    @admin.display(description=gettext_lazy("payment"), ordering="payment__transaction_id")
    def payment_link(self, obj: ShippingInfo) -> str:
        url = reverse("admin:django_wxlogistics_payment_change", args=[obj.payment.pk])
        return format_html('<a href="{}">{}</a>', url, str(obj.payment))

    @admin.display(description=gettext_lazy("state"), ordering="state")
    def state_badge(self, obj: ShippingInfo) -> str:
        return format_html(
            '<span class="wxl-state wxl-state-{}">{}</span>', obj.state, obj.get_state_display()
        )

    @admin.display(description=gettext_lazy("last error"), ordering="last_errcode")
    def last_error(self, obj: ShippingInfo) -> str:
        message = Truncator(obj.last_errmsg).chars(60)
        if obj.last_errcode is None:
            return message or "–"
        return f"{obj.last_errcode} · {message}" if message else str(obj.last_errcode)

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

"""The example shop's order admin: every status change tells WeChat through our signal, and the
order's page shows its WeChat Pay payment's shipping information on its way to WeChat, and
whether its parcel is registered with WeChat's tracking component.

The payer's openid and the receiver's phone are personal data: masked on the order's page, as
the app masks them, unless the user holds the app's ``view_contact`` permission; each time they
are shown whole the reveal is recorded as the app's contact accesses are (one per waybill of the
order). An order with no waybill to record it against shows them masked to everyone.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import transaction
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.formats import localize
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from django_wxlogistics import services
from django_wxlogistics.enums import AccessChannel
from django_wxlogistics.masking import mask_phone
from django_wxlogistics.merchant_lookups import mask_openid
from django_wxlogistics.models import ShippingInfo, Waybill

from .models import Order, send_status_changed


def _set_status(modeladmin: OrderAdmin, request: HttpRequest, queryset: QuerySet[Order], status: str) -> None:
    with transaction.atomic():  # one commit: every selected order's events are pushed together
        changed = sum(
            order.set_status(status)
            for order in Order.objects.filter(pk__in=queryset.values("pk")).select_for_update()
        )
    label = Order.Status(status).label
    modeladmin.message_user(
        request,
        ngettext(
            "%(count)d order marked “%(status)s”.",
            "%(count)d orders marked “%(status)s”.",
            changed,
        )
        % {"count": changed, "status": label},
    )


@admin.action(description=_("Mark selected orders shipped"), permissions=["change"])
def mark_shipped(modeladmin: OrderAdmin, request: HttpRequest, queryset: QuerySet[Order]) -> None:
    _set_status(modeladmin, request, queryset, Order.Status.SHIPPED)


@admin.action(description=_("Mark selected orders out for delivery"), permissions=["change"])
def mark_out_for_delivery(modeladmin: OrderAdmin, request: HttpRequest, queryset: QuerySet[Order]) -> None:
    _set_status(modeladmin, request, queryset, Order.Status.OUT_FOR_DELIVERY)


@admin.action(description=_("Mark selected orders delivered"), permissions=["change"])
def mark_delivered(modeladmin: OrderAdmin, request: HttpRequest, queryset: QuerySet[Order]) -> None:
    _set_status(modeladmin, request, queryset, Order.Status.DELIVERED)


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["number", "status", "customer_name", "waybill_links", "created_at"]
    list_filter = ["status"]
    search_fields = ["number", "customer_name", "tracking_number", "wechat_transaction_id"]
    readonly_fields = [
        "waybill_list",
        "shipping_info_list",
        "parcel_tracking",
        "payer_openid_masked",
        "receiver_phone_masked",
    ]
    #: Personal data on the order's page, each with the read-only field that shows it masked.
    MASKED_FIELDS = {"payer_openid": "payer_openid_masked", "receiver_phone": "receiver_phone_masked"}
    # The receiver's phone and the payer's openid stay on the order's own page, not in the list.
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "number",
                    "status",
                    "customer_name",
                    "courier_name",
                    "courier_phone",
                    "waybill_list",
                ]
            },
        ),
        (
            _("WeChat Pay"),
            {
                "fields": ["wechat_transaction_id", "payer_openid", "shipping_info_list"],
                "description": _(
                    "Marked shipped, a paid order's shipment is uploaded to WeChat; marked delivered, "
                    "its receipt is confirmed."
                ),
            },
        ),
        (
            _("Parcel"),
            {
                "fields": [
                    "tracking_number",
                    "carrier_code",
                    "item_desc",
                    "receiver_phone",
                    "parcel_tracking",
                ],
                "description": _(
                    "Once its shipment is uploaded, the parcel is registered with WeChat's tracking "
                    "component, so the customer can follow it in the mini program."
                ),
            },
        ),
    ]
    actions = [mark_shipped, mark_out_for_delivery, mark_delivered]

    def reveals_contacts(self, request: HttpRequest, order: Order | None) -> bool:
        """Whether the order's page shows its personal data whole: a new order's form has none to
        show; a saved one's only to ``view_contact`` holders, and only with a waybill to record
        the reveal against."""
        if order is None or order.pk is None:
            return True
        return (
            services.can_view_contact(request.user) and Waybill.objects.filter(order_id=order.number).exists()
        )

    def get_fieldsets(self, request: HttpRequest, obj: Order | None = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)
        if self.reveals_contacts(request, obj):
            return fieldsets
        return [
            (name, {**options, "fields": [self._masked(field) for field in options["fields"]]})
            for name, options in fieldsets
        ]

    def _masked(self, field: Any) -> Any:
        """The read-only field that shows ``field`` masked, or ``field`` when it is not personal."""
        return self.MASKED_FIELDS.get(field, field) if isinstance(field, str) else field

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Order | None = None,
    ) -> HttpResponse:
        personal = obj is not None and bool(obj.payer_openid or obj.receiver_phone)
        if change and obj is not None and personal and self.reveals_contacts(request, obj):
            # Shown whole: recorded as the app records a reveal of a waybill's contacts.
            for waybill in Waybill.objects.filter(order_id=obj.number).order_by("pk"):
                services.record_contact_access(waybill, request.user, AccessChannel.ADMIN)
        return super().render_change_form(request, context, add, change, form_url, obj)

    @admin.display(description=_("payer's openid"))
    def payer_openid_masked(self, order: Order) -> str:
        return mask_openid(order.payer_openid) or "—"

    @admin.display(description=_("receiver's phone"))
    def receiver_phone_masked(self, order: Order) -> str:
        return mask_phone(order.receiver_phone) if order.receiver_phone else "—"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Order]:
        waybills = (
            Waybill.objects.filter(order_id=OuterRef("number"))
            .values("order_id")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return (
            super()
            .get_queryset(request)
            .annotate(waybill_count=Coalesce(Subquery(waybills, output_field=IntegerField()), 0))
        )

    def save_model(self, request: HttpRequest, obj: Order, form: ModelForm, change: bool) -> None:
        # The admin's change view runs in a transaction: the event is pushed only if it commits.
        old_status = form.initial.get("status") if change else None
        super().save_model(request, obj, form, change)
        if obj.status != old_status:
            send_status_changed(obj, old_status, obj.status)

    @admin.display(description=_("waybills"), ordering="waybill_count")
    def waybill_links(self, order: Any) -> str:
        count = getattr(order, "waybill_count", 0)
        if not count:
            return "—"
        url = (
            reverse("admin:django_wxlogistics_waybill_changelist")
            + "?"
            + urlencode({"order_id": order.number})
        )
        return format_html('<a href="{}">{}</a>', url, count)

    @admin.display(description=_("waybills"))
    def waybill_list(self, order: Order) -> str:
        waybills = list(Waybill.objects.filter(order_id=order.number).order_by("pk")) if order.pk else []
        if not waybills:
            return str(_("No waybill yet: its trace is pushed once a waybill is registered."))
        return format_html_join(
            "",
            '<div><a href="{}">{}</a> — {}</div>',
            (
                (
                    reverse("admin:django_wxlogistics_waybill_change", args=[w.pk]),
                    w.waybill_id,
                    w.get_latest_action_type_display() if w.latest_action_type else _("nothing pushed yet"),
                )
                for w in waybills
            ),
        )

    @admin.display(description=_("shipping information"))
    def shipping_info_list(self, order: Order) -> str:
        calls = list(ShippingInfo.objects.filter(order_id=order.number).order_by("pk")) if order.pk else []
        if not calls:
            return str(_("None yet: it is recorded when a paid order is marked shipped."))
        return format_html_join(
            "",
            '<div><a href="{}">{}</a> — {}{}</div>',
            (
                (
                    reverse("admin:django_wxlogistics_shippinginfo_change", args=[info.pk]),
                    info.get_call_display(),
                    info.get_state_display(),
                    f" ({info.last_errcode} {info.last_errmsg})" if info.last_errcode else "",
                )
                for info in calls
            ),
        )

    @admin.display(description=_("parcel tracking"))
    def parcel_tracking(self, order: Order) -> str:
        # The waybill_token is a secret the mini program opens the parcel with: never shown.
        tracked = services.waybill_tokens(order) if order.pk else []
        if not tracked:
            return str(_("Not registered yet: it is registered after the shipment is uploaded."))
        return format_html_join(
            "",
            "<div>{}</div>",
            (
                (
                    _(
                        "%(waybill)s: registered with WeChat's tracking component on %(time)s; "
                        "its token is kept."
                    )
                    % {
                        "waybill": parcel.waybill_id,
                        "time": localize(localtime(parcel.tracked_at)) if parcel.tracked_at else "—",
                    },
                )
                for parcel in tracked
            ),
        )

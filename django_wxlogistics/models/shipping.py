"""What the merchant told WeChat of a payment: payments and their shipping information, in order."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ..enums import (
    EventState,
    ShippingCall,
)
from ..secret_fields import SecretCharField
from .outbox import OutboxItem

#: The longest ``waybill_token`` kept (WeChat's page gives no length; seen ones are under 100).
WAYBILL_TOKEN_MAX_LENGTH = 255

#: The states in which an item still counts against WeChat's one-time rules: all but failed,
#: since WeChat did not take a failed call.
_NOT_FAILED = ~Q(state=EventState.FAILED)


class Payment(models.Model):
    """A WeChat Pay payment of one of the shop's orders, as WeChat's shipping-information calls
    name it: by ``transaction_id``, or by merchant number and ``out_trade_no``.

    Its shipping information reaches WeChat in the order it was recorded: an upload before
    its receipt confirmation.
    """

    order_id = models.CharField(_("order"), max_length=64, db_index=True)
    transaction_id = models.CharField(_("transaction ID"), max_length=64, blank=True, default="")
    mchid = models.CharField(_("merchant number"), max_length=32, blank=True, default="")
    out_trade_no = models.CharField(_("out_trade_no"), max_length=64, blank=True, default="")
    latest_call = models.CharField(
        _("latest call sent"), max_length=16, choices=ShippingCall.choices, blank=True, default=""
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(order_id=""), name="wxl_payment_order_id_not_empty"),
            models.CheckConstraint(
                condition=~Q(transaction_id="") | (~Q(mchid="") & ~Q(out_trade_no="")),
                name="wxl_payment_has_key",
            ),
            models.UniqueConstraint(
                fields=["transaction_id"],
                condition=~Q(transaction_id=""),
                name="wxl_payment_transaction_unique",
            ),
            models.UniqueConstraint(
                fields=["mchid", "out_trade_no"],
                condition=Q(transaction_id=""),
                name="wxl_payment_trade_no_unique",
            ),
            models.CheckConstraint(
                condition=Q(latest_call__in=[*ShippingCall.values, ""]), name="wxl_payment_latest_call_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.transaction_id or f"{self.mchid}/{self.out_trade_no}"


class ShippingInfo(OutboxItem):
    """One shipping-information call for a payment (an upload, the one re-upload, the receipt
    confirmation, a parcel registered with the tracking component), with the body WeChat is sent
    and how far it got on its way there.

    WeChat's one-time rules are held here too: per payment at most one upload that completes
    its shipping, one re-upload and one receipt confirmation that did not fail.
    """

    payment = models.ForeignKey(
        Payment, on_delete=models.CASCADE, related_name="shipping_infos", verbose_name=_("payment")
    )
    # The shop's order reference, as on the payment: what the shop searches by.
    order_id = models.CharField(_("order"), max_length=64, db_index=True)
    call = models.CharField(_("call"), max_length=16, choices=ShippingCall.choices)
    # An upload that finishes the payment's shipping (unified delivery, or the last parcel of
    # a split one); a later upload is the re-upload.
    completes = models.BooleanField(_("completes the shipping"), default=True)
    # The body fields as WeChat is sent them (upload_shipping_info's, notify_confirm_receive's or
    # trace_waybill's; the last holds the receiver's whole phone until WeChat took it, masked after).
    request = models.JSONField(_("request"))
    # trace_waybill's answer, once WeChat took it: what the shop's mini program opens the parcel
    # with. Written and read through services.waybill_tokens, never shown or searched on.
    waybill_token = SecretCharField(
        _("waybill token"), max_length=WAYBILL_TOKEN_MAX_LENGTH, blank=True, default="", editable=False
    )

    class Meta:
        verbose_name = _("shipping information")
        verbose_name_plural = _("shipping information")
        ordering = ["id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(state=EventState.PENDING),
                name="wxl_shipping_due_idx",
            ),
            models.Index(
                fields=["lease_expires_at"],
                condition=Q(state=EventState.SENDING),
                name="wxl_shipping_lease_idx",
            ),
            # Per-payment order on the hot path: reads only the items in flight.
            models.Index(
                fields=["payment", "id"],
                condition=Q(state__in=[EventState.PENDING, EventState.SENDING]),
                name="wxl_shipping_unsent_idx",
            ),
            models.Index(fields=["state", "last_errcode"], name="wxl_shipping_state_errcode_idx"),
            # The health figures (health.py), as for trace events.
            models.Index(
                fields=["sent_at"], condition=Q(sent_at__isnull=False), name="wxl_shipping_sent_at_idx"
            ),
            models.Index(
                fields=["updated_at", "last_errcode", "state"],
                condition=~Q(last_errmsg=""),
                name="wxl_shipping_refused_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(state__in=EventState.values), name="wxl_shipping_state_valid"),
            models.CheckConstraint(condition=Q(call__in=ShippingCall.values), name="wxl_shipping_call_valid"),
            models.CheckConstraint(condition=~Q(order_id=""), name="wxl_shipping_order_id_not_empty"),
            models.CheckConstraint(
                condition=Q(waybill_token="") | Q(call=ShippingCall.TRACE_WAYBILL),
                name="wxl_shipping_token_of_tracking",
            ),
            models.CheckConstraint(
                condition=~Q(state=EventState.SENT) | Q(sent_at__isnull=False),
                name="wxl_shipping_sent_has_sent_at",
            ),
            models.CheckConstraint(
                condition=~Q(state=EventState.SENDING) | Q(lease_expires_at__isnull=False),
                name="wxl_shipping_sending_has_lease",
            ),
            # WeChat's one-time rules, per payment, for every call WeChat may have taken.
            models.UniqueConstraint(
                fields=["payment"],
                condition=Q(call=ShippingCall.UPLOAD, completes=True) & _NOT_FAILED,
                name="wxl_shipping_one_upload",
            ),
            models.UniqueConstraint(
                fields=["payment"],
                condition=Q(call=ShippingCall.REUPLOAD) & _NOT_FAILED,
                name="wxl_shipping_one_reupload",
            ),
            models.UniqueConstraint(
                fields=["payment"],
                condition=Q(call=ShippingCall.CONFIRM_RECEIPT) & _NOT_FAILED,
                name="wxl_shipping_one_confirmation",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_call_display()} of payment {self.payment_id} ({self.get_state_display()})"

"""Waybills and their trace events, payments and their shipping information, on the way to WeChat;
access tokens, contact audits, pushes received."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .enums import (
    ACTION_MSG_MAX_LENGTH,
    AccessChannel,
    ActionType,
    BodyFormat,
    EventState,
    PushVerdict,
    ShippingCall,
)
from .lookups import guard_columns
from .secret_fields import SecretCharField


class Waybill(models.Model):
    """A parcel of one of the shop's orders, known to WeChat by ``waybill_id``."""

    waybill_id = models.CharField(_("waybill ID"), max_length=64, unique=True)
    # The per-order Token from WeChat's order placement event. Secret: written, never shown.
    token = SecretCharField(_("token"), max_length=256, blank=True, default="")
    order_id = models.CharField(_("order"), max_length=64, db_index=True)
    latest_action_type = models.PositiveIntegerField(
        _("latest pushed action"), choices=ActionType.choices, null=True, blank=True
    )
    # The key of the order placement event the waybill answers: a repeated push of the same
    # merchant's BizID and OrderID finds this waybill again instead of making another.
    biz_id = models.CharField(_("BizID"), max_length=64, blank=True, default="")
    wechat_order_id = models.CharField(_("WeChat OrderID"), max_length=128, blank=True, default="")
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("waybill")
        verbose_name_plural = _("waybills")
        ordering = ["-created_at", "-id"]
        permissions = [("view_contact", _("Can view unmasked waybill contacts"))]
        indexes = [
            # The admin's list, newest first: a page is read from one end, never sorted whole.
            models.Index(fields=["created_at", "id"], name="wxl_waybill_created_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(waybill_id=""), name="wxl_waybill_id_not_empty"),
            models.CheckConstraint(condition=~Q(order_id=""), name="wxl_waybill_order_id_not_empty"),
            models.CheckConstraint(
                condition=Q(latest_action_type__isnull=True) | Q(latest_action_type__in=ActionType.values),
                name="wxl_waybill_latest_action_type_valid",
            ),
            models.UniqueConstraint(
                fields=["biz_id", "wechat_order_id"],
                condition=~Q(wechat_order_id=""),
                name="wxl_waybill_wechat_order_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.waybill_id

    @property
    def has_token(self) -> bool:
        return bool(self.token)

    @property
    def is_cancelled(self) -> bool:
        return self.cancelled_at is not None


class TraceEvent(models.Model):
    """One change of a waybill's trace, and how far it got on its way to WeChat."""

    waybill = models.ForeignKey(
        Waybill, on_delete=models.CASCADE, related_name="events", verbose_name=_("waybill")
    )
    action_type = models.PositiveIntegerField(_("action type"), choices=ActionType.choices)
    action_msg = models.CharField(_("message"), max_length=ACTION_MSG_MAX_LENGTH)
    action_time = models.DateTimeField(_("action time"), default=timezone.now)
    state = models.CharField(
        _("state"), max_length=16, choices=EventState.choices, default=EventState.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    # While state is "sending", the worker holding the event must finish before this time;
    # after it, the sweeper hands the event to another worker.
    lease_expires_at = models.DateTimeField(_("lease expires"), null=True, blank=True)
    # While state is "sending", the claim that leased the event: every write after the claim
    # checks it, so a worker whose lease ran out cannot record over the worker holding it now.
    claim_id = models.UUIDField(_("claim ID"), null=True, blank=True, editable=False)
    last_errcode = models.IntegerField(_("last errcode"), null=True, blank=True)
    last_errmsg = models.CharField(_("last error"), max_length=512, blank=True, default="")
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("trace event")
        verbose_name_plural = _("trace events")
        ordering = ["action_time", "id"]
        indexes = [
            # The sweeper: pending events whose time has come.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(state=EventState.PENDING),
                name="wxl_event_due_idx",
            ),
            # The sweeper: events whose worker died mid-push.
            models.Index(
                fields=["lease_expires_at"],
                condition=Q(state=EventState.SENDING),
                name="wxl_event_lease_idx",
            ),
            # Per-waybill order: earlier events of the same waybill, and the admin timeline.
            models.Index(fields=["waybill", "action_time", "id"], name="wxl_event_waybill_time_idx"),
            # Per-waybill order on the hot path: "is an earlier event still unsent?" reads only
            # the events in flight, however many sent ones the table holds.
            models.Index(
                fields=["waybill", "action_time", "id"],
                condition=Q(state__in=[EventState.PENDING, EventState.SENDING]),
                name="wxl_event_unsent_idx",
            ),
            models.Index(fields=["state", "last_errcode"], name="wxl_event_state_errcode_idx"),
            # The admin's list, newest first, and the first and last dates of its drill-down:
            # read from one end, never sorted whole...
            models.Index(fields=["action_time", "id"], name="wxl_event_time_idx"),
            # ...and filtered by state: a few failed or pending events among a million sent
            # ones are read from theirs, not looked for along every event's time.
            models.Index(fields=["state", "action_time", "id"], name="wxl_event_state_time_idx"),
            # The admin's errcode filter: the codes that occur, among the few events that have one.
            models.Index(
                fields=["last_errcode"], condition=Q(last_errcode__isnull=False), name="wxl_event_errcode_idx"
            ),
            # The health figures (health.py): pushes of the last minutes, by sending time...
            models.Index(
                fields=["sent_at"], condition=Q(sent_at__isnull=False), name="wxl_event_sent_at_idx"
            ),
            # ...and the refusals of the last hour, by errcode: events whose last attempt failed.
            models.Index(
                fields=["updated_at", "last_errcode", "state"],
                condition=~Q(last_errmsg=""),
                name="wxl_event_refused_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(state__in=EventState.values), name="wxl_event_state_valid"),
            models.CheckConstraint(
                condition=Q(action_type__in=ActionType.values), name="wxl_event_action_type_valid"
            ),
            models.CheckConstraint(condition=~Q(action_msg=""), name="wxl_event_action_msg_not_empty"),
            models.CheckConstraint(
                condition=~Q(state=EventState.SENT) | Q(sent_at__isnull=False),
                name="wxl_event_sent_has_sent_at",
            ),
            models.CheckConstraint(
                condition=~Q(state=EventState.SENDING) | Q(lease_expires_at__isnull=False),
                name="wxl_event_sending_has_lease",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.waybill_id}: {self.get_action_type_display()} @ {self.action_time:%Y-%m-%d %H:%M}"


class AccessToken(models.Model):
    """The access token shared by every process of the shop, one row per AppID."""

    appid = models.CharField(_("AppID"), max_length=64, unique=True)
    token = SecretCharField(_("access token"), max_length=1024)
    expires_at = models.DateTimeField(_("expires"))
    fetched_at = models.DateTimeField(_("fetched"), default=timezone.now)

    class Meta:
        verbose_name = _("access token")
        verbose_name_plural = _("access tokens")
        constraints = [
            models.CheckConstraint(condition=~Q(appid=""), name="wxl_access_token_appid_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.appid} (expires {self.expires_at:%Y-%m-%d %H:%M:%S})"

    def __repr__(self) -> str:
        return f"<AccessToken appid={self.appid!r} expires_at={self.expires_at!r}>"


class ContactAccess(models.Model):
    """An audit row: a user saw a waybill's unmasked sender and receiver."""

    waybill = models.ForeignKey(
        Waybill, on_delete=models.CASCADE, related_name="contact_accesses", verbose_name=_("waybill")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("user"),
    )
    # Kept when the user is deleted, so the audit trail stays readable.
    username = models.CharField(_("username"), max_length=150)
    channel = models.CharField(_("channel"), max_length=8, choices=AccessChannel.choices)
    accessed_at = models.DateTimeField(_("accessed"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("contact access")
        verbose_name_plural = _("contact accesses")
        ordering = ["-accessed_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(channel__in=AccessChannel.values), name="wxl_contact_access_channel_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.username} → {self.waybill_id} ({self.channel}, {self.accessed_at:%Y-%m-%d %H:%M})"


class InboundEvent(models.Model):
    """One delivery to the events endpoint, stored before anything is done with it.

    ``sealed_body`` is the body as received, sealed with a key derived from ``SECRET_KEY``
    (it may hold a waybill's Token and the sender's and receiver's contacts): only "process
    again" opens it. ``payload`` and ``reply`` are redacted views, safe to show.
    """

    received_at = models.DateTimeField(_("received"), default=timezone.now, db_index=True)
    method = models.CharField(_("method"), max_length=8)
    safe_mode = models.BooleanField(_("safe mode"), default=False)
    body_format = models.CharField(_("format"), max_length=4, choices=BodyFormat.choices, blank=True)
    sealed_body = models.TextField(_("sealed body"), blank=True, default="", editable=False)
    body_size = models.PositiveIntegerField(_("body size"), default=0)
    # The query string's push parameters (signatures, timestamp, nonce): none is a secret.
    query = models.JSONField(_("query parameters"), default=dict, blank=True)
    headers = models.JSONField(_("headers"), default=dict, blank=True)
    verdict = models.CharField(
        _("verdict"), max_length=24, choices=PushVerdict.choices, default=PushVerdict.RECEIVED
    )
    event = models.CharField(_("event"), max_length=64, blank=True, default="")
    biz_id = models.CharField(_("BizID"), max_length=64, blank=True, default="")
    order_id = models.CharField(_("WeChat OrderID"), max_length=128, blank=True, default="")
    # The WayBillID pushed or assigned, kept when the waybill itself is deleted.
    waybill_number = models.CharField(_("WayBillID"), max_length=64, blank=True, default="")
    waybill = models.ForeignKey(
        Waybill,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="inbound_events",
        verbose_name=_("waybill"),
    )
    payload = models.JSONField(_("message (redacted)"), null=True, blank=True)
    reply = models.JSONField(_("reply (redacted)"), null=True, blank=True)
    result_code = models.IntegerField(_("ResultCode"), null=True, blank=True)
    result_msg = models.CharField(_("ResultMsg"), max_length=256, blank=True, default="")
    status_code = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True, default="")
    processed_count = models.PositiveIntegerField(_("times processed"), default=0)
    processed_at = models.DateTimeField(_("processed"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("inbound event")
        verbose_name_plural = _("inbound events")
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["biz_id", "order_id"], name="wxl_inbound_order_idx"),
            models.Index(fields=["event", "verdict"], name="wxl_inbound_event_verdict_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(verdict__in=PushVerdict.values), name="wxl_inbound_verdict_valid"
            ),
            models.CheckConstraint(
                condition=Q(body_format__in=[*BodyFormat.values, ""]), name="wxl_inbound_format_valid"
            ),
        ]

    def __str__(self) -> str:
        what = self.event or self.method
        return f"{what} @ {self.received_at:%Y-%m-%d %H:%M:%S} ({self.get_verdict_display()})"


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


class ShippingInfo(models.Model):
    """One shipping-information call for a payment (an upload, the one re-upload, the receipt
    confirmation), with the body WeChat is sent and how far it got on its way there.

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
    # The body fields as WeChat is sent them (upload_shipping_info's or notify_confirm_receive's).
    request = models.JSONField(_("request"))
    state = models.CharField(
        _("state"), max_length=16, choices=EventState.choices, default=EventState.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    lease_expires_at = models.DateTimeField(_("lease expires"), null=True, blank=True)
    claim_id = models.UUIDField(_("claim ID"), null=True, blank=True, editable=False)
    # WeChat's answer to the last attempt that failed (errcode None: no answer, e.g. a timeout).
    last_errcode = models.IntegerField(_("last errcode"), null=True, blank=True)
    last_errmsg = models.CharField(_("last error"), max_length=512, blank=True, default="")
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

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


# A NUL character or a year no date holds, from a URL or a filter, must not become a 500.
guard_columns([Waybill, TraceEvent, AccessToken, ContactAccess, InboundEvent, Payment, ShippingInfo])

"""What WeChat pushed to the events endpoint: each delivery, stored sealed before it is acted on."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..enums import (
    BodyFormat,
    PushVerdict,
)
from .waybills import Waybill


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

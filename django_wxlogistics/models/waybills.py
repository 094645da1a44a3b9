"""What a waybill is: a parcel of one of the shop's orders, known to WeChat by its waybill ID."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ..enums import (
    ActionType,
)
from ..secret_fields import SecretCharField


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

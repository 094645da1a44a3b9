"""Who may call WeChat and who saw a contact: the shared access token and the contact audit."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..enums import (
    AccessChannel,
)
from ..secret_fields import SecretCharField
from .waybills import Waybill


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

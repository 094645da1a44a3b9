"""Read-only admins: the contact access audit, and the access tokens' freshness (never the token)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy

from ..models import AccessToken, ContactAccess
from .base import GuardedModelAdmin
from .changelists import InputChecks


class ReadOnlyAdmin(InputChecks, GuardedModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(ContactAccess)
class ContactAccessAdmin(ReadOnlyAdmin):
    list_display = ["accessed_at", "username", "waybill_link", "channel"]
    list_filter = ["channel", "accessed_at"]
    search_fields = ["username", "waybill__waybill_id", "waybill__order_id"]
    list_select_related = ["waybill"]
    date_hierarchy = "accessed_at"
    fields = ["accessed_at", "username", "user", "waybill", "channel"]

    @admin.display(description=gettext_lazy("waybill"), ordering="waybill__waybill_id")
    def waybill_link(self, obj: ContactAccess) -> str:
        url = reverse("admin:django_wxlogistics_waybill_change", args=[obj.waybill.pk])
        return format_html('<a href="{}">{}</a>', url, obj.waybill.waybill_id)


@admin.register(AccessToken)
class AccessTokenAdmin(ReadOnlyAdmin):
    # The token itself travels in URLs to WeChat: it is never listed here.
    list_display = ["appid", "expires_at", "fetched_at"]
    fields = ["appid", "expires_at", "fetched_at"]

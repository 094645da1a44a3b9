"""Whether the REST API can be let in as configured: its permission classes and the contact rate
(E040-E043, W040)."""

from __future__ import annotations

from django.core.checks import CheckMessage, Warning

from ..conf import wx_settings
from .settings import errors_of


def check_api_settings() -> list[CheckMessage]:
    messages = errors_of("API_PERMISSION_CLASSES")
    if wx_settings.valid("API_PERMISSION_CLASSES") == ():
        messages.append(
            Warning(
                "WXLOGISTICS['API_PERMISSION_CLASSES'] is empty: anyone, logged in or not, "
                "may use the waybill API.",
                hint='If that is meant, say so with ["rest_framework.permissions.AllowAny"]; '
                "otherwise remove the key to use Django model permissions.",
                id="wxlogistics.W040",
            )
        )
    return messages + errors_of("CONTACT_RATE")

"""Whether order-status changes can become WeChat shipping information: ``SHIPPING_ACTIONS`` and
``SHIPPING_ADAPTER`` (E090-E091, W090)."""

from __future__ import annotations

from django.core.checks import CheckMessage

from ..conf import wx_settings
from ..shipping_orders import CONFIRM_RECEIPT, UPLOAD
from .settings import errors_of, warning


def check_shipping_settings() -> list[CheckMessage]:
    """E090 for SHIPPING_ACTIONS, E091 for SHIPPING_ADAPTER; W090: receipt confirmed, never uploaded."""
    messages = errors_of("SHIPPING_ACTIONS", "SHIPPING_ADAPTER")
    actions = wx_settings.valid("SHIPPING_ACTIONS") or {}
    calls = set(actions.values())
    if CONFIRM_RECEIPT in calls and UPLOAD not in calls:
        messages.append(
            warning(
                90,
                "WXLOGISTICS['SHIPPING_ACTIONS'] confirms receipt for a status, but no status uploads "
                "shipping information: WeChat confirms receipt only of payments shipped first.",
                'Map the status of a shipped order to "upload", e.g. {"shipped": "upload", '
                '"delivered": "confirm_receipt"}, or record uploads with services.record_shipping_info().',
            )
        )
    return messages

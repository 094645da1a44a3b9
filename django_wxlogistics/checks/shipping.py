"""Whether order-status changes can become WeChat shipping information: ``SHIPPING_ACTIONS`` and
``SHIPPING_ADAPTER`` (E090-E091, W090), and tracked waybills: ``TRACK_WAYBILLS`` and
``TRACKING_ADAPTER`` (E007, E092, W091)."""

from __future__ import annotations

from django.core.checks import CheckMessage

from ..conf import wx_settings
from ..shipping_orders import CONFIRM_RECEIPT, UPLOAD
from .settings import errors_of, warning


def check_shipping_settings() -> list[CheckMessage]:
    """E090 for SHIPPING_ACTIONS, E091 for SHIPPING_ADAPTER, E007 for TRACK_WAYBILLS, E092 for
    TRACKING_ADAPTER; W090: receipt confirmed, never uploaded; W091: tracking with no upload."""
    messages = errors_of("SHIPPING_ACTIONS", "SHIPPING_ADAPTER", "TRACK_WAYBILLS", "TRACKING_ADAPTER")
    actions = wx_settings.valid("SHIPPING_ACTIONS") or {}
    calls = set(actions.values())
    if wx_settings.valid("TRACK_WAYBILLS") and UPLOAD not in calls:
        messages.append(
            warning(
                91,
                "WXLOGISTICS['TRACK_WAYBILLS'] is on, but no status in SHIPPING_ACTIONS uploads shipping "
                "information: waybills are tracked with their upload, so none will be.",
                'Map the status of a shipped order to "upload" in SHIPPING_ACTIONS, or record them '
                "yourself with services.track_parcels() after services.record_shipping_info().",
            )
        )
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

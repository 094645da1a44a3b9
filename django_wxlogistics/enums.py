"""The fixed vocabularies of WeChat's APIs (logistics, shipping information) and of our delivery pipeline."""

from django.db import models
from django.utils.translation import gettext_lazy as _

#: WeChat does not document a maximum for ``action_msg``; the customer sees it on a phone
#: screen, so we cap it here and in the database column.
ACTION_MSG_MAX_LENGTH = 500


class ActionType(models.IntegerChoices):
    """The nine ``action_type`` values of ``logistics.updatePath``."""

    PICKED_UP = 100001, _("Picked up")
    PICKUP_FAILED = 100002, _("Pick-up failed")
    ASSIGNING_COURIER = 100003, _("Assigning a courier")
    IN_TRANSIT = 200001, _("In transit")
    OUT_FOR_DELIVERY = 300002, _("Out for delivery")
    SIGNED = 300003, _("Signed for")
    SIGNING_FAILED = 300004, _("Signing failed")
    CANCELLED = 400001, _("Order cancelled")
    DELAYED = 400002, _("Order delayed")


class EventState(models.TextChoices):
    """Where a trace event stands on its way to WeChat."""

    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class AccessChannel(models.TextChoices):
    """Where a contact reveal happened."""

    ADMIN = "admin", _("Admin")
    API = "api", _("API")


class PushVerdict(models.TextChoices):
    """What became of one delivery to the events endpoint."""

    RECEIVED = "received", _("Received, not processed yet")
    OK = "ok", _("Processed")
    DUPLICATE = "duplicate", _("Processed again: a repeated push")
    UNKNOWN_EVENT = "unknown_event", _("Unknown event type")
    HANDLER_ERROR = "handler_error", _("Handler error")
    BAD_SIGNATURE = "bad_signature", _("Bad signature")
    BAD_APPID = "bad_appid", _("Encrypted for another AppID")
    STALE_TIMESTAMP = "stale_timestamp", _("Timestamp outside the replay window")
    MALFORMED = "malformed", _("Malformed body")
    UNDECRYPTABLE = "undecryptable", _("Cannot be decrypted")
    TOO_LARGE = "too_large", _("Body too large")
    NOT_CONFIGURED = "not_configured", _("Push settings missing")


class BodyFormat(models.TextChoices):
    """The format of a push body, chosen in WeChat's console."""

    XML = "xml", "XML"
    JSON = "json", "JSON"


class ShippingCall(models.TextChoices):
    """Which of WeChat's shipping-information calls one ``ShippingInfo`` makes."""

    UPLOAD = "upload", _("Upload")
    #: An upload after the payment's shipping was complete: WeChat allows it once.
    REUPLOAD = "reupload", _("Re-upload")
    CONFIRM_RECEIPT = "confirm_receipt", _("Receipt confirmation")
    #: A parcel registered with the tracking component (``trace_waybill``), after its upload.
    TRACE_WAYBILL = "trace_waybill", _("Waybill tracking")

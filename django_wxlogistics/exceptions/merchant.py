"""Which errors WeChat's merchant APIs answer: shipping information, receipt reminders, tracking."""

from __future__ import annotations

from .base import InvalidRequest, InvalidWaybillToken, PermanentError, TransientError


class PaymentNotYetKnown(TransientError):
    """WeChat does not know the payment (10060001): usual for seconds after the payment callback."""

    summary = "WeChat does not know this payment yet"
    errcodes = (10060001,)
    advice = (
        "Retry in a few seconds: WeChat learns of a payment a little after its callback. If it lasts, "
        "check the order_key (mchid + out_trade_no, or transaction_id) against the payment"
    )
    #: seconds before each early retry, before the usual backoff takes over
    early_retries: tuple[float, ...] = (10.0, 60.0)


class ShippingSystemError(TransientError):
    """The shipping service's own system errors (10060012; 10060019, a write conflict)."""

    summary = "WeChat's shipping service had a system error"
    errcodes = (10060012, 10060019)
    advice = "Retry later"


class ShippingRefused(PermanentError):
    """WeChat refused the call for where the payment stands (shipping information, receipt)."""

    summary = "WeChat refused this for the payment as it stands"
    advice = "Look at the payment with get_order before doing anything else"


class AlreadyShipped(ShippingRefused):
    """The payment's shipping is complete already (10060002)."""

    summary = "The payment's shipping is complete already"
    errcodes = (10060002,)
    advice = "Nothing to send; to correct it, upload once more with a later upload_time (the one re-ship)"


class ReshipChanceUsed(ShippingRefused):
    """The payment's one re-ship is used (10060003): its shipping information can no longer change."""

    summary = "The payment's one chance to re-ship is used"
    errcodes = (10060003,)
    advice = (
        "WeChat takes no more changes to its shipping information; tell the buyer any correction directly"
    )


class PaymentNotShippable(ShippingRefused):
    """The payment cannot be shipped (10060004): refunded, or past shipping."""

    summary = "The payment cannot be shipped: it was refunded or is past shipping"
    errcodes = (10060004,)
    advice = "Check get_order's order_state (5 is refunded) and the order in the shop; do not retry"


class ShippingUnchanged(ShippingRefused):
    """The shipping information was not updated (10060023): the same again, or not a later upload_time."""

    summary = "WeChat kept the shipping information it had"
    errcodes = (10060023,)
    advice = "WeChat has this shipping already; to change it, send different data with a later upload_time"


class NotShippedYet(ShippingRefused):
    """The receipt reminder came before the payment was shipped (10060028)."""

    summary = "The payment is not shipped yet"
    errcodes = (10060028,)
    advice = "Upload its shipping information first (all parcels), then confirm receipt"


class ReceiptTimeInvalid(ShippingRefused):
    """``received_time`` is not a sensible time of receipt (10060029)."""

    summary = "received_time is not a sensible time of receipt"
    errcodes = (10060029,)
    advice = (
        "Give the time of receipt in Unix seconds (not milliseconds), after shipping and not in the future"
    )


class ReceiptAlreadyNotified(ShippingRefused):
    """The payment's one receipt reminder was sent already (10060030)."""

    summary = "The buyer was reminded to confirm receipt already"
    errcodes = (10060030,)
    advice = "WeChat reminds once per payment; nothing more to do"


class PayerMismatch(ShippingRefused):
    """``payer.openid`` is not the user who paid (10060031)."""

    summary = "The payment does not belong to payer.openid"
    errcodes = (10060031,)
    advice = "Send the openid of the user who paid, under this mini program's AppID (from the payment notice)"


class ReceiptOnlyForExpress(ShippingRefused):
    """Receipt reminders are for payments shipped by express only (10060032)."""

    summary = "Only a payment shipped by express can be reminded to confirm receipt"
    errcodes = (10060032,)
    advice = "Do not confirm receipt of same-city, virtual or picked-up orders (logistics_type 2 to 4)"


class InvalidShippingData(InvalidRequest):
    """WeChat refused a shipping-information field (10060005 to 10060026, 268485194 to 268485228)."""

    summary = "WeChat could not accept the shipping information's data"
    errcodes = (
        *(10060005, 10060006, 10060007, 10060008, 10060009, 10060011, 10060014, 10060020),
        *(10060024, 10060025, 10060026),
        *(268485194, 268485195, 268485196, 268485197, 268485216, 268485224, 268485226, 268485227, 268485228),
    )
    advice = "Fix the field WeChat's errmsg names"


class TrackingOpenidMismatch(PermanentError):
    """The tracking component's openid is not of this mini program (9300534)."""

    summary = "The openid does not belong to this mini program"
    errcodes = (9300534,)
    advice = "Send the payer's openid under the AppID whose access token is used"


class TrackedWaybillNotFound(PermanentError):
    """The tracking component finds no such waybill (9300559)."""

    summary = "WeChat's tracking component does not find the waybill"
    errcodes = (9300559,)
    advice = "Check waybill_id and delivery_id (a code of get_delivery_list)"


class WaybillChangesUsed(PermanentError):
    """The tracked waybill may change no more (9300560)."""

    summary = "The waybill's changes in the tracking component are used up"
    errcodes = (9300560,)
    advice = "WeChat takes no more changes for this waybill"


class InvalidTraceToken(InvalidWaybillToken):
    """The tracking component does not know the ``waybill_token`` (9300507 from query_trace)."""

    summary = "The waybill_token is wrong"
    errcodes = ()
    advice = "Use the waybill_token trace_waybill returned for this waybill"

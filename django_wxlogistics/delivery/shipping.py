"""The shipping-information kind of outbound call: each ShippingInfo is one ``upload_shipping_info``,
``notify_confirm_receive`` or, for a parcel to follow in the mini program, ``trace_waybill``.

Its lines are payments, in the order the calls were recorded (an upload before its receipt
confirmation); a sent item sets its payment's ``latest_call``; the signals are
``shipping_info_sent`` and ``shipping_info_failed``. Right after a payment WeChat may not
know it yet (errcode 10060001, ``PaymentNotYetKnown``): such a call is tried again soon (its
``early_retries``: 10 s, then a minute) before the normal backoff takes over.

A ``trace_waybill`` keeps the ``waybill_token`` WeChat answers on its item; once it is recorded
sent, the receiver's whole phone in its body is masked and ``waybill_tracked`` is sent.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from ..client import get_client
from ..contact_masks import mask_contact
from ..enums import EventState, ShippingCall
from ..exceptions import (
    PaymentNotYetKnown,
    ReceiptAlreadyNotified,
    ShippingUnchanged,
    TransientError,
    WeChatError,
)
from ..models import ShippingInfo
from ..redaction import get_logger
from ..signals import shipping_info_failed, shipping_info_sent, waybill_tracked
from .kinds import OutboxKind
from .records import backoff_seconds, send_signal

logger = get_logger(__name__)

#: Seconds before the second and the third attempt of a call WeChat answered 10060001 (the
#: exception's ``early_retries``); afterwards the normal backoff, never sooner than the last of these.
UNKNOWN_PAYMENT_RETRIES = PaymentNotYetKnown.early_retries


def send_shipping_info(info: ShippingInfo) -> None:
    """Make the call of one ShippingInfo; raises the client's WeChatError when WeChat refuses it.

    A call made again because the answer to an earlier attempt never came (a timeout, a
    worker that died before recording it) may find WeChat holding it already: an upload is
    then "unchanged" (10060023), a receipt reminder "used" (10060030). On such a retry that
    answer means WeChat took the earlier attempt, and the call is done.
    """
    client = get_client()
    if info.call == ShippingCall.TRACE_WAYBILL:
        _trace_waybill(client, info)
        return
    try:
        if info.call == ShippingCall.CONFIRM_RECEIPT:
            fields = dict(info.request)
            if fields.get("received_time") is None:  # "received by now": the time of the call
                fields["received_time"] = int(timezone.now().timestamp())
            client.notify_confirm_receive(**fields)
        else:
            client.upload_shipping_info(**info.request)
    except (ShippingUnchanged, ReceiptAlreadyNotified) as exc:
        if not info.attempts:
            raise
        logger.info(
            "Shipping information %s: WeChat has it already (errcode %s); an earlier attempt reached "
            "WeChat and its answer was lost.",
            info.pk,
            exc.errcode,
        )


def _trace_waybill(client: Any, info: ShippingInfo) -> None:
    """Register the parcel with the tracking component and keep the token WeChat answers.

    The token is written before the call is recorded sent, under this worker's claim: a worker
    that dies in between leaves the call to be made again, and the new token replaces this one.
    """
    token = client.trace_waybill(**info.request)
    if not token:
        raise TransientError(None, "WeChat answered trace_waybill without a waybill_token", "trace_waybill")
    kept = ShippingInfo.objects.filter(pk=info.pk, state=EventState.SENDING, claim_id=info.claim_id).update(
        waybill_token=token
    )
    if not kept:  # the lease ran out and another worker holds the item: it registers it again
        raise TransientError(None, "The claim ended before the waybill_token was kept", "trace_waybill")
    info.waybill_token = token


def tracked(info: ShippingInfo) -> None:
    """After a ``trace_waybill`` is recorded sent: its body keeps the receiver's phone masked only
    (WeChat has it whole now), and ``waybill_tracked`` tells the shop the token."""
    if info.call != ShippingCall.TRACE_WAYBILL:
        return
    phone = info.request.get("receiver_phone")
    if isinstance(phone, str) and phone:
        request = {**info.request, "receiver_phone": mask_contact(phone)}
        ShippingInfo.objects.filter(pk=info.pk, state=EventState.SENT).update(request=request)
        info.request = request
    send_signal(
        SHIPPING_INFO,
        waybill_tracked,
        **_signal_kwargs(info),
        waybill_id=str(info.request.get("waybill_id") or ""),
        waybill_token=info.waybill_token,
    )


def shipping_retry_delay(exc: WeChatError, attempts: int) -> float | None:
    """The short schedule for a payment WeChat does not know yet; None (the backoff) otherwise."""
    if not isinstance(exc, PaymentNotYetKnown):
        return None
    early = exc.early_retries
    if attempts <= len(early):
        return early[attempts - 1]
    return max(early[-1], backoff_seconds(attempts - 1))


def _signal_kwargs(info: ShippingInfo) -> dict[str, Any]:
    return {"shipping_info": info, "payment": info.payment}


SHIPPING_INFO = OutboxKind(
    name="shipping_info",
    model=ShippingInfo,
    line="payment",
    order=("id",),
    send=send_shipping_info,
    sent_signal=shipping_info_sent,
    failed_signal=shipping_info_failed,
    signal_kwargs=_signal_kwargs,
    latest=("latest_call", "call"),
    noun="shipping information",
    retry_delay=shipping_retry_delay,
    after_sent=tracked,
)

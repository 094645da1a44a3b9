"""How the shop records a payment's shipping information for WeChat: the upload, the one re-upload,
the receipt confirmation, each checked against WeChat's rules and recorded in the caller's transaction.

Nothing here touches the network: a pending :class:`~django_wxlogistics.models.ShippingInfo` is
inserted and, once the caller's transaction commits, a worker is nudged to make the call. WeChat's
one-time rules are refused here with a ValidationError that says what to do; the database's
constraints hold them against concurrent callers too.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, router, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from .enums import EventState, ShippingCall
from .models import Payment, ShippingInfo
from .nudges import SHIPPING_INFO, nudge, nudge_on_commit
from .orders import reference_of
from .shipping_fields import (
    DeliveryMode,
    LogisticsType,
    OrderNumberType,
    clean_confirm_receive,
    clean_upload_shipping_info,
)

#: How far ahead of this server's clock a receipt time may be (WeChat refuses a future one: 10060029).
RECEIPT_CLOCK_SKEW = timedelta(minutes=1)

_UPLOADS = (ShippingCall.UPLOAD, ShippingCall.REUPLOAD)


def _refusal(field: str, message: str, code: str) -> ValidationError:
    """A ValidationError on ``field`` whose ``code`` says which rule refused it."""
    return ValidationError({field: ValidationError(message, code=code)})


def _reference(order: Any) -> str:
    """The shop's order reference: the order's ``ORDER_ID_ATTR``, or the id given as it is."""
    reference = reference_of(order)
    if not reference.strip():
        raise _refusal("order", _("The order reference must not be empty."), "required")
    return reference


def _payment_text(payment: Payment) -> str:
    if payment.transaction_id:
        return f"transaction_id {payment.transaction_id}"
    return f"mchid {payment.mchid} + out_trade_no {payment.out_trade_no}"


def _locked_payment(reference: str, order_key: dict[str, Any]) -> tuple[Payment, bool]:
    """The payment ``order_key`` names, created for the order if new (then True), locked until
    the caller's transaction ends (so two callers classify its calls one after the other)."""
    if order_key["order_number_type"] == OrderNumberType.TRANSACTION:
        key = {"transaction_id": order_key["transaction_id"]}
    else:
        key = {"transaction_id": "", "mchid": order_key["mchid"], "out_trade_no": order_key["out_trade_no"]}
    # One statement reads and locks a known payment; one this transaction inserts is its own.
    payment, created = Payment.objects.select_for_update().get_or_create(
        **key, defaults={"order_id": reference}
    )
    if payment.order_id != reference:
        raise _refusal(
            "order_key",
            _("The payment %(payment)s belongs to order %(other)s, not to order %(order)s.")
            % {"payment": _payment_text(payment), "other": payment.order_id, "order": reference},
            "other_order",
        )
    return payment, created


def _taken(payment: Payment) -> list[ShippingInfo]:
    """The payment's calls that count against WeChat's one-time rules: all but the failed ones."""
    return list(payment.shipping_infos.exclude(state=EventState.FAILED).order_by("id"))


def _modes(fields: dict[str, Any]) -> tuple[Any, Any]:
    return fields.get("logistics_type"), fields.get("delivery_mode")


def _upload_call(
    payment: Payment, body: dict[str, Any], reupload: bool, taken: list[ShippingInfo]
) -> ShippingCall:
    """Whether ``body`` is the payment's upload or its one re-upload, given the payment's calls
    ``taken`` so far; a ValidationError when WeChat would refuse it, saying what to do instead."""
    which = _payment_text(payment)
    if any(info.call == ShippingCall.CONFIRM_RECEIPT for info in taken):
        raise _refusal(
            "order_key",
            _(
                "Receipt of payment %(payment)s is confirmed already: WeChat takes no more shipping "
                "information for it."
            )
            % {"payment": which},
            "confirmed_already",
        )
    uploads = [info for info in taken if info.call in _UPLOADS]
    if any(info.call == ShippingCall.REUPLOAD for info in uploads):
        raise _refusal(
            "order_key",
            _(
                "The shipping information of payment %(payment)s was changed once already, and "
                "WeChat allows one change (errcode 10060003). Correct it in WeChat's merchant "
                "console (mp.weixin.qq.com, 发货信息管理) if it is still wrong."
            )
            % {"payment": which},
            "reupload_used",
        )
    # WeChat counts as the one change an upload over complete shipping, or one that changes
    # how the goods travel (logistics_type, delivery_mode).
    change = any(info.completes or _modes(info.request) != _modes(body) for info in uploads)
    if change and not reupload:
        raise _refusal(
            "order_key",
            _(
                "Shipping information of payment %(payment)s is recorded already. WeChat lets a "
                "merchant change it once: pass reupload=True to spend that change."
            )
            % {"payment": which},
            "uploaded_already",
        )
    if reupload and not change:
        raise _refusal(
            "order_key",
            _(
                "No complete shipping information of payment %(payment)s is recorded to change: "
                "record it without reupload."
            )
            % {"payment": which},
            "nothing_to_change",
        )
    return ShippingCall.REUPLOAD if change else ShippingCall.UPLOAD


def _insert(info: ShippingInfo, refusal: ValidationError) -> ShippingInfo:
    """Insert ``info`` in a savepoint; ``refusal`` when a one-time constraint stops it (another
    caller recorded the same call first)."""
    try:
        with transaction.atomic(using=router.db_for_write(ShippingInfo)):
            info.save(force_insert=True)
    except IntegrityError as exc:
        raise refusal from exc
    nudge_on_commit(
        info.pk,
        line=info.payment_id,
        order=info.pk,
        using=router.db_for_write(ShippingInfo),
        kind=SHIPPING_INFO,
    )
    return info


def record_shipping_info(order: Any, *, reupload: bool = False, **fields: Any) -> ShippingInfo:
    """Record ``upload_shipping_info`` for a payment of ``order``; returns the pending ShippingInfo.

    ``fields`` are the call's body fields as WeChat names them: ``order_key``, ``logistics_type``,
    ``delivery_mode``, ``shipping_list``, ``payer``, ``is_all_delivered``, ``upload_time``
    (RFC 3339 text with an offset or an aware datetime; now by default). ``order`` is the shop's
    order (its ``ORDER_ID_ATTR`` is kept) or its reference. A payment's shipping information
    is uploaded once; WeChat allows one change after that, which ``reupload=True`` spends.

    Raises a ValidationError naming each bad field (``InvalidShippingFields``), or refusing what
    WeChat would refuse: a second upload without ``reupload``, a second change, anything after
    the receipt confirmation. No network I/O: the call is made by a worker after the caller's
    transaction commits, in order with the payment's other calls.
    """
    reference = _reference(order)
    body = clean_upload_shipping_info(**fields)
    split = body["delivery_mode"] == DeliveryMode.SPLIT
    completes = not split or bool(body.get("is_all_delivered"))
    with transaction.atomic(using=router.db_for_write(ShippingInfo)):
        payment, created = _locked_payment(reference, body["order_key"])
        # A payment new to this transaction has no calls to read.
        call = _upload_call(payment, body, reupload, [] if created else _taken(payment))
        info = ShippingInfo(
            payment=payment,
            order_id=reference,
            call=call,
            completes=completes,
            request=body,
            next_attempt_at=timezone.now(),
        )
        refusal = _refusal(
            "order_key",
            _("Shipping information of payment %(payment)s was just recorded by another caller.")
            % {"payment": _payment_text(payment)},
            "uploaded_already",
        )
        return _insert(info, refusal)


def _shipped_upload(payment: Payment) -> ShippingInfo | None:
    """The payment's latest upload or re-upload that did not fail."""
    uploads = [info for info in _taken(payment) if info.call in _UPLOADS]
    return uploads[-1] if uploads else None


def _upload_moment(upload: ShippingInfo) -> datetime | None:
    try:
        return datetime.fromisoformat(str(upload.request.get("upload_time", "")).replace("Z", "+00:00"))
    except ValueError:
        return None


def _check_receipt_time(seconds: int, upload: ShippingInfo) -> None:
    """Refuse a receipt time WeChat refuses (10060029): in the future, or before the shipping."""
    received = datetime.fromtimestamp(seconds, tz=timezone.get_current_timezone())
    if received > timezone.now() + RECEIPT_CLOCK_SKEW:
        raise _refusal(
            "received_time",
            _("The receipt time is in the future; WeChat refuses it (errcode 10060029)."),
            "future",
        )
    shipped_at = _upload_moment(upload)
    if shipped_at is not None and received < shipped_at.replace(microsecond=0):
        raise _refusal(
            "received_time",
            _(
                "The receipt time is before the parcel shipped (%(shipped)s); WeChat refuses it "
                "(errcode 10060029)."
            )
            % {"shipped": upload.request["upload_time"]},
            "before_shipping",
        )


def confirm_receipt(order: Any, received_time: datetime | int | None = None) -> ShippingInfo:
    """Record ``notify_confirm_receive`` for the payment of ``order``; returns the pending ShippingInfo.

    ``received_time``: when the customer received the parcel, in Unix **seconds** or an aware
    datetime; by default the time the call is made (kept as None until then), which is after
    WeChat recorded the shipping however late the upload got there. The payment is the one the
    order's shipping information named; WeChat takes one confirmation per payment, for express
    deliveries whose shipping is complete. A ValidationError says what is wrong; nothing touches
    the network, and the call waits for the payment's upload to reach WeChat first.
    """
    reference = _reference(order)
    with transaction.atomic(using=router.db_for_write(ShippingInfo)):
        # The order's payments, locked; the latest one with shipping information is confirmed.
        shipped = (
            (payment, upload)
            for payment in Payment.objects.select_for_update().filter(order_id=reference).order_by("-id")
            if (upload := _shipped_upload(payment)) is not None
        )
        payment, upload = next(shipped, (None, None))
        if payment is None or upload is None:
            raise _refusal(
                "order",
                _(
                    "No shipping information of order %(order)s is recorded: WeChat confirms receipt "
                    "only of shipped payments. Record it first (services.record_shipping_info)."
                )
                % {"order": reference},
                "not_shipped",
            )
        which = _payment_text(payment)
        if any(info.call == ShippingCall.CONFIRM_RECEIPT for info in _taken(payment)):
            raise _refusal(
                "order",
                _("Receipt of payment %(payment)s is confirmed already; WeChat takes it once.")
                % {"payment": which},
                "confirmed_already",
            )
        if upload.request.get("logistics_type") != LogisticsType.EXPRESS:
            raise _refusal(
                "order",
                _(
                    "Payment %(payment)s was not shipped by express (logistics_type 1): WeChat takes "
                    "receipt confirmations of express deliveries only."
                )
                % {"payment": which},
                "not_express",
            )
        if not upload.completes:
            raise _refusal(
                "order",
                _(
                    "Payment %(payment)s is not completely shipped: upload its last parcel with "
                    "is_all_delivered true before confirming receipt."
                )
                % {"payment": which},
                "not_shipped",
            )
        ref = (
            {"transaction_id": payment.transaction_id}
            if payment.transaction_id
            else {"merchant_id": payment.mchid, "merchant_trade_no": payment.out_trade_no}
        )
        body = clean_confirm_receive(**ref, received_time=received_time)
        if received_time is None:
            # The time of the call: after WeChat recorded the shipping, however long the upload
            # took to get there (a payment WeChat did not know yet, an outage).
            body["received_time"] = None
        else:
            _check_receipt_time(body["received_time"], upload)
        info = ShippingInfo(
            payment=payment,
            order_id=reference,
            call=ShippingCall.CONFIRM_RECEIPT,
            completes=False,
            request=body,
            next_attempt_at=timezone.now(),
        )
        refusal = _refusal(
            "order",
            _("Receipt of payment %(payment)s was just confirmed by another caller.") % {"payment": which},
            "confirmed_already",
        )
        return _insert(info, refusal)


def retry_failed_shipping_info(infos: QuerySet[ShippingInfo], *, nudge_workers: bool = True) -> int:
    """Give failed shipping information a fresh set of attempts, sent in order with the payment's
    other calls; returns how many.

    A failed call whose payment has recorded the same call again since (an upload put right)
    stays failed: WeChat takes it once, and the database's constraints say so.
    """
    using = router.db_for_write(ShippingInfo)
    retried: list[int] = []
    for pk in infos.filter(state=EventState.FAILED).values_list("pk", flat=True):
        now = timezone.now()
        try:
            with transaction.atomic(using=using):
                changed = ShippingInfo.objects.filter(pk=pk, state=EventState.FAILED).update(
                    state=EventState.PENDING, attempts=0, next_attempt_at=now, updated_at=now
                )
        except IntegrityError:
            continue
        if changed:
            retried.append(pk)
    if retried and nudge_workers:
        transaction.on_commit(lambda: nudge(retried, SHIPPING_INFO), using=using, robust=True)
    return len(retried)

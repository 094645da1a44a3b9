"""Which parcels of a payment the shop registers with WeChat's tracking component (物流查询组件), and
the ``waybill_token`` each got: ``trace_waybill`` recorded on the payment's line, after its upload.

Like the shipping information it follows, nothing here touches the network: a pending
:class:`~django_wxlogistics.models.ShippingInfo` (call ``trace_waybill``) is inserted in the
caller's transaction and sent by a worker once the payment's earlier calls are done; the
token WeChat answers is kept on it and read back with :func:`waybill_tokens`.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import router, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .enums import EventState, ShippingCall
from .models import ShippingInfo
from .nudges import SHIPPING_INFO, nudge_on_commit
from .orders import reference_of
from .redaction import get_logger
from .shipping_fields import LogisticsType
from .shipping_orders import tracking_adapter
from .tracking_fields import clean_trace_waybill

logger = get_logger(__name__)

#: The fields of ``trace_waybill`` a caller or an adapter may give.
TRACE_WAYBILL_FIELDS = frozenset(inspect.signature(clean_trace_waybill).parameters) - {"carriers"}

_UPLOADS = (ShippingCall.UPLOAD, ShippingCall.REUPLOAD)


@dataclass(frozen=True)
class TrackedWaybill:
    """A parcel WeChat's tracking component knows, and the token the mini program opens it with."""

    waybill_id: str
    #: The carrier's code (``delivery_id`` of ``get_delivery_list``); empty when none was sent.
    delivery_id: str
    #: What the mini program's logistics plugin takes to show the parcel; kept out of reprs.
    waybill_token: str = field(repr=False)
    #: When WeChat took the registration.
    tracked_at: datetime | None


def _upload_defaults(upload: ShippingInfo) -> dict[str, Any]:
    """What the upload says of every parcel: the payer's openid and WeChat Pay's transaction_id."""
    request = upload.request if isinstance(upload.request, dict) else {}
    defaults: dict[str, Any] = {}
    openid = (request.get("payer") or {}).get("openid")
    if openid:
        defaults["openid"] = openid
    transaction_id = (request.get("order_key") or {}).get("transaction_id")
    if transaction_id:
        defaults["trans_id"] = transaction_id
    return defaults


def _body(upload: ShippingInfo, fields: dict[str, Any], where: str = "") -> dict[str, Any]:
    """trace_waybill's body from ``fields`` over the upload's defaults; a ValidationError names
    each bad field (after ``where``, the parcel it is about)."""
    unknown = sorted(set(fields) - TRACE_WAYBILL_FIELDS)
    if unknown:
        raise ValidationError(
            {
                f"{where}{name}": ValidationError(
                    _("%(name)s is not a field of trace_waybill.") % {"name": name}, code="unknown"
                )
                for name in unknown
            }
        )
    try:
        return clean_trace_waybill(**{**_upload_defaults(upload), **fields})
    except ValidationError as exc:
        if not where:
            raise
        raise ValidationError({f"{where}{name}": errors for name, errors in exc.error_dict.items()}) from None


def _insert(upload: ShippingInfo, bodies: list[dict[str, Any]]) -> list[ShippingInfo]:
    """Insert one pending trace_waybill per body on the upload's payment, in a savepoint; each
    is nudged once the caller's transaction commits."""
    using = router.db_for_write(ShippingInfo)
    infos = [
        ShippingInfo(
            payment_id=upload.payment_id,
            order_id=upload.order_id,
            call=ShippingCall.TRACE_WAYBILL,
            completes=False,
            request=body,
            next_attempt_at=timezone.now(),
        )
        for body in bodies
    ]
    with transaction.atomic(using=using):
        for info in infos:
            info.save(force_insert=True)
    for info in infos:
        nudge_on_commit(info.pk, line=info.payment_id, order=info.pk, using=using, kind=SHIPPING_INFO)
    return infos


def _check_upload(upload: ShippingInfo) -> None:
    if upload.call not in _UPLOADS or upload.pk is None:
        raise ValidationError(
            {
                "upload": ValidationError(
                    _("Waybills are tracked after a recorded upload of shipping information."),
                    code="not_an_upload",
                )
            }
        )


def record_trace_waybill(upload: ShippingInfo, **fields: Any) -> ShippingInfo:
    """Record ``trace_waybill`` for one parcel of ``upload``'s payment; returns the pending ShippingInfo.

    ``fields`` are the call's body fields as WeChat names them (``receiver_phone``, the whole
    number; ``waybill_id``; ``delivery_id``; ``goods_info``; ``order_detail_path``; …);
    ``openid`` and ``trans_id`` default to the upload's payer and transaction_id. Checked
    first (a ValidationError names each bad field), then inserted in the caller's transaction:
    a worker makes the call after the payment's earlier calls, and keeps the ``waybill_token``
    WeChat answers (:func:`waybill_tokens`).
    """
    _check_upload(upload)
    return _insert(upload, [_body(upload, fields)])[0]


def _tracked_already(upload: ShippingInfo) -> set[str]:
    """The waybills of the payment registered already, or on their way (not failed)."""
    infos = (
        ShippingInfo.objects.filter(payment_id=upload.payment_id, call=ShippingCall.TRACE_WAYBILL)
        .exclude(state=EventState.FAILED)
        .only("request")
    )
    return {str(info.request.get("waybill_id")) for info in infos if isinstance(info.request, dict)}


def track_parcels(order: Any, upload: ShippingInfo) -> list[ShippingInfo]:
    """Record ``trace_waybill`` for each parcel of an express ``upload``; the pending ShippingInfos.

    Each parcel with a tracking number is asked of ``TRACKING_ADAPTER`` (``adapter(order,
    parcel)``; None leaves it untracked), its ``waybill_id`` and ``delivery_id`` being the
    parcel's ``tracking_no`` and ``express_company``. A parcel the payment registered already
    is not registered again (a re-upload that keeps it). Nothing is recorded unless every
    parcel's fields pass: a ValidationError names each bad field by the parcel
    (``tracking[SF1400000000001].receiver_phone``).
    """
    _check_upload(upload)
    request = upload.request if isinstance(upload.request, dict) else {}
    if request.get("logistics_type") != LogisticsType.EXPRESS:
        return []
    adapter = tracking_adapter()
    tracked = _tracked_already(upload)
    bodies: list[dict[str, Any]] = []
    errors: dict[str, Any] = {}
    for parcel in request.get("shipping_list") or ():
        waybill_id = parcel.get("tracking_no") if isinstance(parcel, dict) else None
        if not waybill_id:
            continue
        if waybill_id in tracked:
            logger.debug("Waybill %s of order %s is tracked already.", waybill_id, upload.order_id)
            continue
        fields = adapter(order, dict(parcel))
        if fields is None:
            continue
        given = {"waybill_id": waybill_id, "delivery_id": parcel.get("express_company"), **fields}
        try:
            bodies.append(_body(upload, given, where=f"tracking[{waybill_id}]."))
        except ValidationError as exc:
            errors.update(exc.error_dict)
        tracked.add(waybill_id)
    if errors:
        raise ValidationError(errors)
    return _insert(upload, bodies) if bodies else []


def waybill_tokens(order: Any) -> list[TrackedWaybill]:
    """The order's parcels WeChat's tracking component took, each with its ``waybill_token``.

    ``order`` is the shop's order or its reference. One entry per waybill, in the order they
    were registered (a waybill registered again: its latest token); parcels still on their way
    to WeChat, or refused, are not listed. Give the token to the mini program, whose logistics
    plugin opens the parcel's page with it.
    """
    reference = reference_of(order)
    infos = (
        ShippingInfo.objects.filter(
            order_id=reference, call=ShippingCall.TRACE_WAYBILL, state=EventState.SENT
        )
        .exclude(waybill_token="")
        .order_by("sent_at", "id")
    )
    found: dict[str, TrackedWaybill] = {}
    for info in infos:
        request = info.request if isinstance(info.request, dict) else {}
        waybill_id = str(request.get("waybill_id") or "")
        found[waybill_id] = TrackedWaybill(
            waybill_id=waybill_id,
            delivery_id=str(request.get("delivery_id") or ""),
            waybill_token=info.waybill_token,
            tracked_at=info.sent_at,
        )
    return list(found.values())

"""A shop's order-status change becomes one trace event per waybill of the order, and the
payment's shipping information where ``SHIPPING_ACTIONS`` lists the status.

Three ways in, all ending in :func:`record_status_change`:

* the shop sends :data:`django_wxlogistics.signals.order_status_changed`;
* ``WXLOGISTICS["LISTEN_TO"]`` names signals the shop already sends with the same
  arguments (django-oscar's ``order_status_changed``);
* ``WXLOGISTICS["ORDER_MODEL"]`` + ``STATUS_FIELD``: a model whose status field is watched;
  a real change sends ``order_status_changed`` (so the shop's own receivers hear it too).

Receivers never touch the network (the push happens in a Celery worker) and never break
the shop's save: an unexpected error is logged at ERROR, with its traceback, and swallowed.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.signals import setting_changed
from django.db import models, transaction
from django.db.models import OuterRef, Subquery
from django.db.models.signals import post_save, pre_save
from django.dispatch import Signal
from django.utils import timezone
from django.utils.module_loading import import_string

from .conf import wx_settings
from .exceptions import ConfigurationError
from .models import Payment, ShippingInfo, TraceEvent, Waybill
from .orders import order_model, order_reference, plain_status, status_attname, status_field
from .redaction import get_logger
from .services import confirm_receipt, record_shipping_info, record_trace_event
from .shipping_orders import UPLOAD, shipping_action, shipping_adapter
from .signals import order_status_changed
from .trace_messages import render_message, status_action
from .waybill_tracking import track_parcels

logger = get_logger(__name__)

#: Where pre_save leaves the stored status for post_save, on the instance being saved.
PREVIOUS_STATUS_ATTR = "_wxlogistics_previous_status"


def record_status_change(order: Any, old_status: Any, new_status: Any) -> list[TraceEvent]:
    """Record the trace event of a status change for each waybill of ``order``.

    Does nothing (logged at debug) for an unchanged status, a status not in
    ``STATUS_ACTIONS``, an order with no waybill, or a waybill whose latest event already
    says the same (same action type and message). Runs in a savepoint inside the caller's
    transaction; the events are pushed once that transaction commits.
    """
    old_status, new_status = plain_status(old_status), plain_status(new_status)
    if old_status == new_status:
        logger.debug("Order status stayed %r: nothing to record.", new_status)
        return []
    action = status_action(new_status)
    if action is None:
        logger.debug(
            "Order status %r is not in WXLOGISTICS['STATUS_ACTIONS']: nothing to record.", new_status
        )
        return []
    reference = order_reference(order)
    latest = TraceEvent.objects.filter(waybill=OuterRef("pk")).order_by("-action_time", "-id")
    events: list[TraceEvent] = []
    # A savepoint: a database error here must not abort the shop's own transaction.
    with transaction.atomic():
        waybills = list(
            Waybill.objects.filter(order_id=reference)
            .annotate(
                latest_type=Subquery(latest.values("action_type")[:1]),
                latest_msg=Subquery(latest.values("action_msg")[:1]),
            )
            .order_by("pk")
        )
        if not waybills:
            logger.debug("Order %s has no waybill: status %r is not recorded.", reference, new_status)
            return []
        action_time = timezone.now()
        for waybill in waybills:
            message = render_message(action, order=order, waybill=waybill)
            if waybill.latest_type == action.action_type and waybill.latest_msg == message:
                logger.debug(
                    "Waybill %s already has this %s event: status %r is not recorded twice.",
                    waybill.waybill_id,
                    action.action_type.label,
                    new_status,
                )
                continue
            events.append(record_trace_event(waybill, action.action_type, message, action_time))
    for event in events:
        logger.info(
            "Order %s is %r: trace event %s (%s) recorded for waybill %s.",
            reference,
            new_status,
            event.pk,
            action.action_type.label,
            event.waybill.waybill_id,
        )
    return events


def record_shipping_change(order: Any, old_status: Any, new_status: Any) -> ShippingInfo | None:
    """Record the shipping information a status change calls for in ``SHIPPING_ACTIONS``.

    ``"upload"``: the fields ``SHIPPING_ADAPTER`` reads from the order, through
    ``record_shipping_info``; nothing when the adapter returns None (not paid with WeChat Pay).
    With ``TRACK_WAYBILLS``, each parcel of an express upload is then registered with the
    tracking component (``track_parcels``); what stops that is logged, and the upload stays.
    ``"confirm_receipt"``: ``confirm_receipt`` for the order's payment, received now; nothing
    for an order without one. Raises the services' ValidationError when WeChat would refuse it.
    """
    old_status, new_status = plain_status(old_status), plain_status(new_status)
    action = shipping_action(new_status)
    if old_status == new_status or action is None:
        return None
    reference = order_reference(order)
    if action == UPLOAD:
        fields = shipping_adapter()(order)
        if fields is None:
            logger.debug("Order %s has no WeChat Pay payment: no shipping information to upload.", reference)
            return None
        info = record_shipping_info(order, **fields)
        if wx_settings.TRACK_WAYBILLS:
            _track(order, info, reference)
    else:
        if not Payment.objects.filter(order_id=reference).exists():
            logger.debug("Order %s has no WeChat Pay payment: no receipt to confirm.", reference)
            return None
        info = confirm_receipt(order)
    logger.info(
        "Order %s is %r: shipping information %s (%s) recorded for payment %s.",
        reference,
        new_status,
        info.pk,
        info.call,
        info.payment_id,
    )
    return info


def _track(order: Any, upload: ShippingInfo, reference: str) -> None:
    """Register the upload's parcels with the tracking component; a failure is logged, and the
    upload, recorded already, goes to WeChat all the same."""
    try:
        # A savepoint: a database error here must not abort the shop's own transaction.
        with transaction.atomic():
            tracking = track_parcels(order, upload)
    except ValidationError as exc:
        reasons = (
            "; ".join(f"{name}: {' '.join(errors)}" for name, errors in exc.message_dict.items())
            if hasattr(exc, "error_dict")
            else "; ".join(exc.messages)
        )
        logger.error(
            "The waybill tracking of order %s was NOT recorded for WeChat (its shipping information was): %s",
            reference,
            reasons,
        )
        return
    except Exception:
        logger.error(
            "The waybill tracking of order %s was NOT recorded for WeChat (its shipping information "
            "was); record it with services.track_parcels() once the cause is fixed.",
            reference,
            exc_info=True,
        )
        return
    for info in tracking:
        logger.info(
            "Order %s: waybill %s will be registered with the tracking component (shipping information %s).",
            reference,
            info.request.get("waybill_id"),
            info.pk,
        )


def on_order_status_changed(
    sender: Any, order: Any = None, old_status: Any = None, new_status: Any = None, **kwargs: Any
) -> None:
    """Receiver of ``order_status_changed`` and of the signals in ``LISTEN_TO``. Never raises."""
    try:
        if order is None:
            raise TypeError("order_status_changed was sent without an 'order' argument.")
        record_status_change(order, old_status, new_status)
    except Exception:
        # The shop's save goes on; the lost event must be seen.
        logger.error(
            "The status change of order %s from %r to %r was NOT recorded for WeChat; "
            "record it with services.record_trace_event() once the cause is fixed.",
            _describe(order),
            plain_status(old_status),
            plain_status(new_status),
            exc_info=True,
        )
        if order is None:
            return
    try:
        record_shipping_change(order, old_status, new_status)
    except ValidationError as exc:
        # What WeChat would refuse (a second upload, fields the order lacks): the words say why.
        logger.error(
            "The shipping information of order %s (status %r) was NOT recorded for WeChat: %s",
            _describe(order),
            plain_status(new_status),
            "; ".join(exc.messages),
        )
    except Exception:
        logger.error(
            "The shipping information of order %s (status %r) was NOT recorded for WeChat; record it "
            "with services.record_shipping_info() or confirm_receipt() once the cause is fixed.",
            _describe(order),
            plain_status(new_status),
            exc_info=True,
        )


def _describe(order: Any) -> str:
    try:
        return order_reference(order)
    except Exception:
        return f"{type(order).__name__}(pk={getattr(order, 'pk', None)!r})"


# --- ORDER_MODEL watching -----------------------------------------------------------


def remember_stored_status(
    sender: type[models.Model],
    instance: models.Model,
    raw: bool = False,
    using: str | None = None,
    update_fields: Any = None,
    **kwargs: Any,
) -> None:
    """pre_save: keep the status as stored, so post_save acts only on a real change.

    No query for a new order or a save whose ``update_fields`` leave the status out;
    otherwise one SELECT of the status column by primary key.
    """
    instance.__dict__.pop(PREVIOUS_STATUS_ATTR, None)
    attname = status_attname(sender)
    if raw or attname is None:
        return  # fixtures are loaded as they are; a bad STATUS_FIELD is a system check error
    field_name = status_field(sender).name
    if update_fields is not None and field_name not in update_fields and attname not in update_fields:
        return
    try:
        if instance._state.adding or instance.pk is None:
            stored = None
        else:
            rows = (
                sender._base_manager.using(using).filter(pk=instance.pk).order_by().values_list(attname)[:1]
            )
            stored = next((row[0] for row in rows), None)
    except Exception:
        logger.error(
            "Could not read the stored status of %s %r; its status change will not be recorded.",
            sender._meta.label,
            instance.pk,
            exc_info=True,
        )
        return
    instance.__dict__[PREVIOUS_STATUS_ATTR] = stored


def send_status_change(
    sender: type[models.Model], instance: models.Model, raw: bool = False, **kwargs: Any
) -> None:
    """post_save: send ``order_status_changed`` when the watched status really changed.

    A new order counts as a change from None to its initial status.
    """
    if raw or PREVIOUS_STATUS_ATTR not in instance.__dict__:
        return
    old_status = instance.__dict__.pop(PREVIOUS_STATUS_ATTR)
    attname = status_attname(sender)
    if attname is None:
        return
    new_status = getattr(instance, attname)
    if old_status == new_status:
        return
    order_status_changed.send(sender=sender, order=instance, old_status=old_status, new_status=new_status)


# --- wiring ---------------------------------------------------------------------------

_OWN_UID = "django_wxlogistics.order_status_changed"
#: (signal, dispatch_uid, sender) of each connection made from the settings.
_connections: list[tuple[Signal, str, Any]] = []


def connect_receivers() -> None:
    """Connect the receivers named by the settings; called by ``AppConfig.ready()``.

    Reconnects when ``WXLOGISTICS`` changes (``override_settings`` in tests). Paths that
    cannot be imported are skipped here and reported by the system checks.
    """
    disconnect_receivers()
    order_status_changed.connect(on_order_status_changed, dispatch_uid=_OWN_UID)
    setting_changed.connect(_settings_changed, dispatch_uid="django_wxlogistics.settings_changed")
    try:
        paths, model = listen_to_paths(), order_model()
    except ConfigurationError:
        return  # WXLOGISTICS is not a dict: check E001 says so
    for path in paths:
        signal = _import_signal(path)
        if signal is None or signal is order_status_changed:
            continue
        uid = f"django_wxlogistics.listen_to:{path}"
        signal.connect(on_order_status_changed, dispatch_uid=uid)
        _connections.append((signal, uid, None))
    if model is not None and status_attname(model) is not None:
        pre_save.connect(remember_stored_status, sender=model, dispatch_uid="django_wxlogistics.pre_save")
        post_save.connect(send_status_change, sender=model, dispatch_uid="django_wxlogistics.post_save")
        _connections.append((pre_save, "django_wxlogistics.pre_save", model))
        _connections.append((post_save, "django_wxlogistics.post_save", model))


def disconnect_receivers() -> None:
    """Undo the connections made from ``LISTEN_TO`` and ``ORDER_MODEL``."""
    while _connections:
        signal, uid, sender = _connections.pop()
        signal.disconnect(sender=sender, dispatch_uid=uid)


def _settings_changed(setting: str, **kwargs: Any) -> None:
    if setting == "WXLOGISTICS":
        connect_receivers()


def listen_to_paths() -> list[str]:
    """``LISTEN_TO``'s paths; none when it is not a list of them (E034), so the app still starts."""
    return list(wx_settings.valid("LISTEN_TO") or ())


def _import_signal(path: str) -> Signal | None:
    try:
        signal = import_string(path)
    except ImportError:
        return None
    return signal if isinstance(signal, Signal) else None

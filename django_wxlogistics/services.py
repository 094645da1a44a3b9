"""What the shop, the admin and the API call: the only entry points that change state.

``record_trace_event`` never touches the network: it inserts a pending event in the
caller's transaction and, once that commits, nudges a Celery worker to push it. So do the
merchant's ``record_shipping_info`` and ``confirm_receipt`` (:mod:`.shipping_info`), and
``record_trace_waybill``/``track_parcels``, whose ``waybill_tokens`` the mini program opens
parcels with (:mod:`.waybill_tracking`).
``wechat_order`` and ``carrier_list`` only read, on demand (:mod:`.merchant_lookups`).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from typing import Any

from django.core.exceptions import ValidationError
from django.db import router, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from .contacts import Contact
from .enums import ACTION_MSG_MAX_LENGTH, AccessChannel, ActionType, EventState
from .merchant_lookups import WeChatOrder as WeChatOrder
from .merchant_lookups import carrier_list as carrier_list
from .merchant_lookups import wechat_order as wechat_order
from .merchant_lookups import wechat_order_error_message as wechat_order_error_message
from .models import ContactAccess, TraceEvent, Waybill
from .nudges import NUDGE_TIMEOUT, nudge, nudge_on_commit
from .orders import reference_of
from .shipping_info import confirm_receipt as confirm_receipt
from .shipping_info import record_shipping_info as record_shipping_info
from .shipping_info import retry_failed_shipping_info as retry_failed_shipping_info
from .signals import contact_viewed, waybill_registered
from .waybill_tracking import TrackedWaybill as TrackedWaybill
from .waybill_tracking import record_trace_waybill as record_trace_waybill
from .waybill_tracking import track_parcels as track_parcels
from .waybill_tracking import waybill_tokens as waybill_tokens

#: Seconds a nudge may keep the shop waiting for the broker before leaving the event to the sweeper.
NUDGE_CONNECT_TIMEOUT = NUDGE_TIMEOUT

#: Events dated further in the future than this are refused (a clock or unit mistake).
MAX_FUTURE_SKEW = timedelta(hours=1)

#: The ``action_time`` WeChat takes: Unix seconds from 1 to the largest unsigned 32-bit number.
MIN_ACTION_TIME = 1
MAX_ACTION_TIME = 2**32 - 1
_EARLIEST_ACTION_TIME = datetime.fromtimestamp(MIN_ACTION_TIME, tz=dt_timezone.utc)
# Sent as whole seconds: any time before the next second still is MAX_ACTION_TIME.
_AFTER_LATEST_ACTION_TIME = datetime.fromtimestamp(MAX_ACTION_TIME + 1, tz=dt_timezone.utc)


def _outside_wechat_range() -> ValueError:
    return ValueError(
        _(
            "The action time must lie between %(earliest)s and %(latest)s UTC (Unix time %(min)d to "
            "%(max)d), the times WeChat accepts."
        )
        % {
            "earliest": f"{_EARLIEST_ACTION_TIME:%Y-%m-%d %H:%M:%S}",
            "latest": f"{_AFTER_LATEST_ACTION_TIME - timedelta(seconds=1):%Y-%m-%d %H:%M:%S}",
            "min": MIN_ACTION_TIME,
            "max": MAX_ACTION_TIME,
        }
    )


def _clean_action_time(value: Any, now: datetime) -> datetime:
    """``value`` as the aware datetime of a time WeChat takes, or now; a ValueError says what is wrong."""
    if value is None:
        return now
    if isinstance(value, int) and not isinstance(value, bool):
        if not MIN_ACTION_TIME <= value <= MAX_ACTION_TIME:
            raise _outside_wechat_range()
        value = datetime.fromtimestamp(value, tz=timezone.get_current_timezone())
    if not isinstance(value, datetime):
        raise ValueError(_("The action time must be a datetime or a Unix timestamp."))
    if timezone.is_naive(value):
        raise ValueError(_("The action time must carry a time zone."))
    if value < _EARLIEST_ACTION_TIME:
        raise _outside_wechat_range()
    if value > now + MAX_FUTURE_SKEW:
        raise ValueError(_("The action time is more than an hour in the future."))
    if value >= _AFTER_LATEST_ACTION_TIME:  # a clock set beyond 2106
        raise _outside_wechat_range()
    return value


def clean_trace_event(
    action_type: Any, action_msg: Any, action_time: datetime | int | None = None
) -> tuple[ActionType, str, datetime]:
    """Validate and normalise a trace event's fields; a ValidationError names each bad field."""
    errors: dict[str, str] = {}
    try:
        action_type = ActionType(int(action_type))
    except (TypeError, ValueError):
        valid = ", ".join(str(v) for v in ActionType.values)
        errors["action_type"] = _("%(value)r is not an action type WeChat knows. Use one of %(valid)s.") % {
            "value": action_type,
            "valid": valid,
        }
    if not isinstance(action_msg, str) or not action_msg.strip():
        errors["action_msg"] = _("The message shown to the customer must not be empty.")
    elif len(action_msg) > ACTION_MSG_MAX_LENGTH:
        errors["action_msg"] = _("The message has %(length)d characters; the most is %(max)d.") % {
            "length": len(action_msg),
            "max": ACTION_MSG_MAX_LENGTH,
        }
    elif "\x00" in action_msg:  # PostgreSQL cannot store it
        errors["action_msg"] = _("The message must not contain NUL characters.")
    else:
        try:
            action_msg.encode("utf-8")
        except UnicodeEncodeError:
            errors["action_msg"] = _("The message is not valid UTF-8 text.")
    try:
        action_time = _clean_action_time(action_time, timezone.now())
    except ValueError as exc:
        errors["action_time"] = str(exc)
    if errors:
        raise ValidationError(errors)
    assert isinstance(action_time, datetime)
    return ActionType(action_type), action_msg.strip(), action_time


def record_trace_event(
    waybill: Waybill,
    action_type: ActionType | int,
    action_msg: str,
    action_time: datetime | int | None = None,
) -> TraceEvent:
    """Insert a pending trace event in the caller's transaction; push it once that commits.

    One query, the INSERT. No network I/O: the push happens in a Celery worker, nudged
    after the commit, and nothing is nudged if the transaction rolls back. The events of
    one transaction share their nudges: one per waybill (its earliest event here), several
    waybills a message. An event behind an earlier unsent one is nudged all the same: the
    worker finds it waiting and leaves it, and the worker that finishes the earlier one,
    whose look for the next event may come before this commit, is never relied on alone.
    """
    action_type, action_msg, action_time = clean_trace_event(action_type, action_msg, action_time)
    event = TraceEvent.objects.create(
        waybill=waybill,
        action_type=action_type,
        action_msg=action_msg,
        action_time=action_time,
        next_attempt_at=timezone.now(),
    )
    nudge_on_commit(
        event.pk, line=event.waybill_id, order=event.action_time, using=router.db_for_write(TraceEvent)
    )
    return event


def push_pending_now(events: QuerySet[TraceEvent], *, nudge_workers: bool = True) -> int:
    """Make pending events due now (skipping any backoff) and, after commit, nudge workers.

    Returns the count.
    """
    ids = list(events.filter(state=EventState.PENDING).values_list("pk", flat=True))
    if ids:
        now = timezone.now()
        TraceEvent.objects.filter(pk__in=ids, state=EventState.PENDING).update(
            next_attempt_at=now, updated_at=now
        )
        if nudge_workers:
            transaction.on_commit(lambda: nudge(ids), robust=True)
    return len(ids)


def retry_failed_events(events: QuerySet[TraceEvent], *, nudge_workers: bool = True) -> int:
    """Give failed events a fresh set of attempts, pushed in order with the waybill's others.

    Returns how many were failed. ``last_errcode``/``last_errmsg`` stay until the next attempt.
    """
    ids = list(events.filter(state=EventState.FAILED).values_list("pk", flat=True))
    if ids:
        now = timezone.now()
        TraceEvent.objects.filter(pk__in=ids, state=EventState.FAILED).update(
            state=EventState.PENDING, attempts=0, next_attempt_at=now, updated_at=now
        )
        if nudge_workers:
            transaction.on_commit(lambda: nudge(ids), robust=True)
    return len(ids)


ORDER_ID_MAX_LENGTH = Waybill._meta.get_field("order_id").max_length or 64
WAYBILL_ID_MAX_LENGTH = Waybill._meta.get_field("waybill_id").max_length or 64
TOKEN_MAX_LENGTH = Waybill._meta.get_field("token").max_length or 256

#: Waybill IDs travel in URL paths (the API's ``waybills/{waybill_id}/``), so they are URL-safe.
WAYBILL_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*\Z"


class InvalidWaybill(ValidationError, ValueError):
    """Waybill fields that ``clean_waybill`` refused: a ValidationError naming each field, and a
    ValueError, as ``register_waybill`` documents."""


def _text_error(value: str) -> str | None:
    if "\x00" in value:  # PostgreSQL cannot store it
        return _("Text with NUL characters cannot be stored.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return _("This field is not valid UTF-8 text.")
    return None


def _waybill_id_error(value: Any) -> str | None:
    if not isinstance(value, str):
        return _("The waybill ID must be text: the waybill ID of WeChat's order placement event.")
    if not 1 <= len(value) <= WAYBILL_ID_MAX_LENGTH:
        return _("The waybill ID must have 1 to %(max)d characters; this one has %(length)d.") % {
            "max": WAYBILL_ID_MAX_LENGTH,
            "length": len(value),
        }
    if not re.match(WAYBILL_ID_PATTERN, value):
        return _("Use only letters, digits, '_', '.' and '-', starting with a letter or digit.")
    return None


def _order_id_error(value: Any) -> str | None:
    if not isinstance(value, str):
        return _("The order ID must be text.")
    if not value.strip():
        return _("The order ID must not be empty or only spaces.")
    if len(value) > ORDER_ID_MAX_LENGTH:
        return _("The order ID has %(length)d characters; the most is %(max)d.") % {
            "length": len(value),
            "max": ORDER_ID_MAX_LENGTH,
        }
    return _text_error(value)


def _token_error(value: Any) -> str | None:
    # The token is secret: say what is wrong with it, never what it is.
    if not isinstance(value, str):
        return _("The token must be text: the Token of WeChat's order placement event.")
    if len(value) > TOKEN_MAX_LENGTH:
        return _("The token has %(length)d characters; the most is %(max)d.") % {
            "length": len(value),
            "max": TOKEN_MAX_LENGTH,
        }
    return _text_error(value)


_WAYBILL_FIELD_CHECKS = {"waybill_id": _waybill_id_error, "order_id": _order_id_error, "token": _token_error}


def clean_waybill(**fields: Any) -> None:
    """Check the waybill fields given (``waybill_id``, ``order_id``, ``token``).

    The one set of rules for ``register_waybill``, the API and the admin: an InvalidWaybill
    names each bad field. A field left out is not checked (an update that keeps it).
    """
    unknown = set(fields) - set(_WAYBILL_FIELD_CHECKS)
    if unknown:
        raise TypeError(f"clean_waybill() got unexpected fields: {', '.join(sorted(unknown))}")
    errors = {name: _WAYBILL_FIELD_CHECKS[name](value) for name, value in fields.items()}
    if any(errors.values()):
        raise InvalidWaybill({name: error for name, error in errors.items() if error})


def register_waybill(order: Any, waybill_id: str, token: str) -> Waybill:
    """Create or update the waybill of an order, with the Token from WeChat's order event.

    ``order`` is the shop's order (its ``ORDER_ID_ATTR`` is stored) or the order id itself
    (a string or an integer). Registering the same waybill again updates its order and
    token. Sends ``waybill_registered``. Bad arguments raise ``InvalidWaybill``, a
    ValidationError and a ValueError, naming each one and why (``clean_waybill``).
    """
    order_id = reference_of(order)
    clean_waybill(waybill_id=waybill_id, order_id=order_id, token=token)
    waybill, created = Waybill.objects.update_or_create(
        waybill_id=waybill_id, defaults={"order_id": order_id, "token": token}
    )
    waybill_registered.send(sender=Waybill, waybill=waybill, order=order, created=created)
    return waybill


def fetch_contact(waybill: Waybill) -> Contact:
    """The waybill's sender and receiver, live from WeChat, unmasked.

    Masking belongs to the admin and the API. Raises the client's exceptions
    (e.g. ``WaybillNotFound`` for errcode 40199). With ``WXLOGISTICS["CONTACT_CACHE_SECONDS"]``
    above 0, an answer is kept that long in Django's default cache; errors are never kept.
    """
    from django.core.cache import cache

    from .client import get_client
    from .conf import wx_settings
    from .contacts import Party

    seconds = wx_settings.CONTACT_CACHE_SECONDS
    key = contact_cache_key(waybill) if seconds else ""
    if key:
        cached = cache.get(key)
        if cached is not None:
            return Contact(
                waybill_id=cached["waybill_id"],
                sender=Party(**cached["sender"]),
                receiver=Party(**cached["receiver"]),
            )
    contact = get_client().get_contact(waybill.token, waybill.waybill_id)
    if key:
        cache.set(key, contact.as_dict(), timeout=seconds)
    return contact


def contact_cache_key(waybill: Waybill) -> str:
    """The cache key of a waybill's contacts: an HMAC of waybill ID and token, never the token itself.

    A new token makes a new key, so a replaced token is never answered from the cache.
    """
    from django.utils.crypto import salted_hmac

    digest = salted_hmac(
        "django_wxlogistics.contact", f"{waybill.waybill_id}\0{waybill.token}", algorithm="sha256"
    ).hexdigest()
    return f"wxlogistics:contact:{digest}"


#: The permission that lets a user see contacts unmasked.
VIEW_CONTACT_PERMISSION = "django_wxlogistics.view_contact"


def can_view_contact(user: Any) -> bool:
    return bool(user and user.is_authenticated and user.has_perm(VIEW_CONTACT_PERMISSION))


def record_contact_access(waybill: Waybill, user: Any, channel: AccessChannel | str) -> ContactAccess:
    """Audit a reveal of unmasked contacts and send ``contact_viewed``."""
    access = ContactAccess.objects.create(
        waybill=waybill,
        user=user if user and user.is_authenticated else None,
        username=user.get_username() if user and user.is_authenticated else "",
        channel=AccessChannel(channel),
    )
    contact_viewed.send(sender=Waybill, waybill=waybill, user=user, channel=access.channel, access=access)
    return access

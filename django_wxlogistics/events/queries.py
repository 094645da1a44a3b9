"""WeChat asks and we answer from what we hold: ``check_biz``, ``get_quota``, ``waybill_notify_query``.

A merchant account is the shop's business, not the app's: until a receiver of
``biz_check_requested`` / ``quota_requested`` (or a handler in ``EVENT_HANDLERS``) says
otherwise, every BizID is answered 10001, "not our customer": refusing an unknown merchant is
the safe default. ``waybill_notify_query`` is answered from the trace events we hold: they
are exactly the path WeChat asks for.
"""

from __future__ import annotations

from typing import Any

from django.dispatch import Signal
from django.utils.translation import gettext as _

from ..enums import EventState
from ..models import Waybill
from ..signals import biz_check_requested, quota_requested
from .message import BizAccount, PushMessage
from .results import EventResult, ResultCode


def _account_answer(message: PushMessage, signal: Signal) -> EventResult:
    result = EventResult(fields={"Quota": 0})
    result.refuse(ResultCode.ACCOUNT_NOT_FOUND, _("The merchant account is not known."))
    account = BizAccount.from_message(message)
    signal.send(sender=Waybill, account=account, result=result, message=message)
    quota = result.fields.get("Quota")
    if not isinstance(quota, (int, float)) or isinstance(quota, bool):
        result.fields["Quota"] = 0
    return result


def check_biz(message: PushMessage) -> EventResult:
    """Is the merchant (BizID, BizPwd) our customer? Answered by receivers of ``biz_check_requested``."""
    return _account_answer(message, biz_check_requested)


def get_quota(message: PushMessage) -> EventResult:
    """The merchant's balance. Answered by receivers of ``quota_requested``."""
    return _account_answer(message, quota_requested)


def waybill_notify_query(message: PushMessage) -> EventResult:
    """The waybill's path as we hold it: every trace event WeChat has not refused, oldest first."""
    result = EventResult()
    waybill_id = message.text("WaybillId", "WayBillID")
    waybill = Waybill.objects.filter(waybill_id=waybill_id).first() if waybill_id else None
    if waybill is None:
        return result.refuse(ResultCode.OTHER_ERROR, _("No waybill has this ID."))
    events = waybill.events.exclude(state=EventState.FAILED).order_by("action_time", "id")
    path: list[dict[str, Any]] = [
        {
            "ActionTime": int(event.action_time.timestamp()),
            "ActionType": event.action_type,
            "ActionMsg": event.action_msg,
        }
        for event in events
    ]
    result.waybill = waybill
    result.fields.update({"WaybillCreateTime": int(waybill.created_at.timestamp()), "Path": path})
    return result

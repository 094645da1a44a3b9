"""What we answer a push: ``EventResult`` (ResultCode, ResultMsg, more fields) and the reply it makes.

A handler, a signal receiver or the shop's own handler fills an :class:`EventResult`;
:func:`reply_fields` turns it into the reply WeChat expects for that event: ToUserName and
FromUserName swapped, CreateTime, MsgType, Event, the event's own echoes (Token, OrderID,
BizID, WayBillID for an order), ResultCode and ResultMsg.
"""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .message import PushMessage

if TYPE_CHECKING:
    from ..models import Waybill


class ResultCode(enum.IntEnum):
    """The ResultCode values WeChat's provider events document."""

    OK = 0
    OTHER_ERROR = -1
    #: add_waybill, check_biz, get_quota: the BizID is not a customer account.
    ACCOUNT_NOT_FOUND = 10001
    #: add_waybill, check_biz, get_quota: the BizPwd is wrong.
    WRONG_PASSWORD = 10002
    #: add_waybill: the WayBillID WeChat assigned is not valid.
    BAD_WAYBILL_ID = 20001
    SENDER_INCOMPLETE = 20002
    SENDER_UNREACHABLE = 20003
    RECEIVER_INCOMPLETE = 20004
    RECEIVER_UNREACHABLE = 20005
    BAD_CARGO = 20006
    INSUFFICIENT_BALANCE = 20007
    BAD_INSURANCE = 20008
    BAD_SERVICE = 20009
    #: cancel_waybill: no such BizID, OrderID or WayBillID.
    CANCEL_NOT_FOUND = 30001
    #: cancel_waybill: already picked up.
    CANCEL_PICKED_UP = 30002
    #: cancel_waybill: no longer valid (signed for long ago).
    CANCEL_INVALID = 30003
    #: cancel_waybill: we do not cancel waybills.
    CANCEL_UNSUPPORTED = 30004


@dataclass
class EventResult:
    """The answer to one push. Receivers and handlers set ``result_code`` and ``result_msg``.

    ``fields`` holds the event's further reply fields (``Quota``, ``WaybillData``, ``Path`` …).
    ``waybill`` is the waybill the push concerned, if any (linked from the stored delivery),
    and ``duplicate`` says the push repeated one already answered. ``plain_reply``, when set, is
    the whole reply, as plain text (the mini program's message pushes expect ``success``).
    """

    result_code: int = ResultCode.OK
    result_msg: str = ""
    fields: dict[str, Any] = field(default_factory=dict)
    waybill: Waybill | None = field(default=None, repr=False)
    duplicate: bool = False
    plain_reply: str | None = None

    def refuse(self, code: int, message: str = "") -> EventResult:
        self.result_code, self.result_msg = int(code), str(message)
        return self

    @property
    def ok(self) -> bool:
        return self.result_code == ResultCode.OK


#: The fields of the push each event's reply repeats as received.
ECHOED_FIELDS: dict[str, tuple[str, ...]] = {
    "add_waybill": ("Token", "OrderID", "BizID", "WayBillID"),
    "cancel_waybill": ("BizID", "OrderID", "WayBillID"),
    "check_biz": ("BizID",),
    "get_quota": ("BizID",),
}


def reply_fields(message: PushMessage, result: EventResult, now: float | None = None) -> dict[str, Any]:
    """The reply to ``message``: its envelope and echoes, ResultCode, ResultMsg and ``result.fields``."""
    reply: dict[str, Any] = {
        "ToUserName": message.from_user_name,
        "FromUserName": message.to_user_name,
        "CreateTime": int(time.time() if now is None else now),
        "MsgType": message.msg_type or "event",
        "Event": message.text("Event"),
    }
    for name in ECHOED_FIELDS.get(message.event, ()):
        reply[name] = message.text(name, "WaybillId") if name == "WayBillID" else message.text(name)
    reply["ResultCode"] = int(result.result_code)
    reply["ResultMsg"] = result.result_msg or ("success" if result.ok else "error")
    reply.update(result.fields)
    return reply

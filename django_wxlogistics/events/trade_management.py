"""WeChat's shipping-information pushes (``trade_manage_*``): what they say, and the signal each becomes.

WeChat pushes them to the mini program's message URL; it expects the text ``success`` back
(plain even in safe mode) and pushes again otherwise. They are stored like every push, then
sent on as ``wechat_order_settled``, ``wechat_shipping_reminder`` and
``wechat_api_access_reminder`` with a :class:`TradeNotice` and the :class:`~..models.Payment`
the notice names, when the shop recorded one.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Q
from django.dispatch import Signal
from django.utils import timezone

from ..enums import PushVerdict
from ..models import InboundEvent, Payment
from ..signals import wechat_api_access_reminder, wechat_order_settled, wechat_shipping_reminder
from .message import PushMessage
from .results import EventResult

#: What WeChat expects back from a mini program's message URL.
SUCCESS = "success"


def _time(message: PushMessage, name: str) -> datetime.datetime | None:
    """A time WeChat sends in seconds since the epoch, as an aware datetime; None when absent or 0."""
    seconds = message.integer(name)
    if not seconds or seconds < 0 or seconds > 32_503_680_000:  # before the year 3000
        return None
    return datetime.datetime.fromtimestamp(seconds, tz=datetime.timezone.utc)


@dataclass(frozen=True)
class TradeNotice:
    """One ``trade_manage_*`` push: its payment's keys and times (aware datetimes, None when absent).

    ``confirm_receive_method`` is WeChat's number as sent (1 automatic, 2 manual, per its page;
    developers report the reverse), None when absent.
    """

    event: str
    msg: str = ""
    transaction_id: str = ""
    merchant_id: str = ""
    sub_merchant_id: str = ""
    merchant_trade_no: str = ""
    pay_time: datetime.datetime | None = None
    shipped_time: datetime.datetime | None = None
    estimated_settlement_time: datetime.datetime | None = None
    confirm_receive_method: int | None = None
    confirm_receive_time: datetime.datetime | None = None
    settlement_time: datetime.datetime | None = None

    @classmethod
    def from_message(cls, message: PushMessage) -> TradeNotice:
        return cls(
            event=message.event,
            msg=message.text("msg"),
            transaction_id=message.text("transaction_id"),
            merchant_id=message.text("merchant_id"),
            sub_merchant_id=message.text("sub_merchant_id"),
            merchant_trade_no=message.text("merchant_trade_no"),
            pay_time=_time(message, "pay_time"),
            shipped_time=_time(message, "shipped_time"),
            estimated_settlement_time=_time(message, "estimated_settlement_time"),
            confirm_receive_method=message.integer("confirm_receive_method"),
            confirm_receive_time=_time(message, "confirm_receive_time"),
            settlement_time=_time(message, "settlement_time"),
        )

    @property
    def settled(self) -> bool:
        """True for the push of the funds' settlement; False for the one when shipping completed."""
        return self.settlement_time is not None

    def payment(self) -> Payment | None:
        """The shop's recorded payment this notice names: by transaction_id, else by merchant number
        and merchant_trade_no (WeChat's names for mchid and out_trade_no)."""
        keys = Q()
        if self.transaction_id:
            keys |= Q(transaction_id=self.transaction_id)
        for mchid in {self.sub_merchant_id, self.merchant_id} - {""}:
            if self.merchant_trade_no:
                keys |= Q(mchid=mchid, out_trade_no=self.merchant_trade_no)
        if not keys:
            return None
        return Payment.objects.filter(keys).order_by("id").first()


#: How far back a push is looked for when WeChat pushes it again (it retries within seconds).
REPEAT_WINDOW = datetime.timedelta(days=1)


def _fingerprint(message: PushMessage) -> tuple[str, ...]:
    """What makes a push the same push: WeChat dedupes events by FromUserName and CreateTime;
    the payment's keys and the settlement time keep two different notices apart."""
    return (
        message.event,
        message.from_user_name,
        message.text("CreateTime"),
        message.text("transaction_id"),
        message.text("merchant_id"),
        message.text("merchant_trade_no"),
        message.text("settlement_time"),
    )


def _repeated(message: PushMessage) -> bool:
    """True when WeChat pushed this notice before (its answer was lost) and it was sent on then."""
    created = message.text("CreateTime")
    if not created:
        return False
    same_time = Q(payload__CreateTime=created)
    if created.isdigit():
        same_time |= Q(payload__CreateTime=int(created))
    earlier = InboundEvent.objects.filter(
        same_time,
        event=message.event,
        verdict__in=[PushVerdict.OK, PushVerdict.DUPLICATE],
        received_at__gte=timezone.now() - REPEAT_WINDOW,
    ).values_list("payload", flat=True)
    wanted = _fingerprint(message)
    return any(
        isinstance(payload, dict) and _fingerprint(PushMessage(payload, message.format)) == wanted
        for payload in earlier[:50]
    )


def _send_on(signal: Signal, message: PushMessage) -> EventResult:
    if _repeated(message):
        # Answered success again (WeChat stops pushing it), and not sent on a second time.
        return EventResult(result_msg=SUCCESS, plain_reply=SUCCESS, duplicate=True)
    notice = TradeNotice.from_message(message)
    signal.send(sender=Payment, notice=notice, payment=notice.payment(), message=message)
    return EventResult(result_msg=SUCCESS, plain_reply=SUCCESS)


def order_settlement(message: PushMessage) -> EventResult:
    """``trade_manage_order_settlement``: shipping completed, or the funds settled."""
    return _send_on(wechat_order_settled, message)


def remind_shipping(message: PushMessage) -> EventResult:
    """``trade_manage_remind_shipping``: a payment not shipped 48 hours after it was made."""
    return _send_on(wechat_shipping_reminder, message)


def remind_access_api(message: PushMessage) -> EventResult:
    """``trade_manage_remind_access_api``: WeChat asks the account to record its shipping."""
    return _send_on(wechat_api_access_reminder, message)

"""Signals the app listens to and sends. Each line documents the arguments it carries."""

from django.dispatch import Signal

#: In: the shop's order changed status. Arguments: ``order``, ``old_status``, ``new_status``
#: (the same as django-oscar's ``order_status_changed``).
order_status_changed = Signal()

#: Out: a trace event reached WeChat. Arguments: ``event`` (TraceEvent), ``waybill``.
trace_event_pushed = Signal()

#: Out: a trace event will not be pushed again (permanent error or attempts exhausted).
#: Arguments: ``event`` (TraceEvent, with ``last_errcode``/``last_errmsg``), ``waybill``, ``error``.
trace_event_failed = Signal()

#: Out: a shipping-information call reached WeChat. Arguments: ``shipping_info`` (ShippingInfo;
#: its ``call`` says which: upload, re-upload, receipt confirmation or, with ``TRACK_WAYBILLS``,
#: a parcel's ``trace_waybill``), ``payment`` (Payment).
shipping_info_sent = Signal()

#: Out: a shipping-information call will not be made again (permanent error, such as 10060003 or
#: 10060031, or attempts exhausted). Arguments: ``shipping_info`` (ShippingInfo, with
#: ``last_errcode``/``last_errmsg``), ``payment``, ``error`` (the WeChatError; None when its
#: worker stopped mid-call on the last attempt).
shipping_info_failed = Signal()

#: Out: WeChat's tracking component took a parcel (``trace_waybill``; ``TRACK_WAYBILLS``).
#: Arguments: ``shipping_info`` (ShippingInfo, call ``trace_waybill``; its ``order_id`` is the
#: shop's order), ``payment``, ``waybill_id``, ``waybill_token`` (what the mini program's
#: logistics plugin opens the parcel with; ``services.waybill_tokens(order)`` reads them later).
waybill_tracked = Signal()

#: Out: a waybill was registered for an order. Arguments: ``waybill``, ``order``, ``created`` (bool).
waybill_registered = Signal()

#: Out: a user saw a waybill's unmasked contacts. Arguments: ``waybill``, ``user``, ``channel``
#: ("admin" or "api"), ``access`` (the ContactAccess audit row).
contact_viewed = Signal()

#: In, answered: WeChat placed an order (``add_waybill``) and its waybill is about to be
#: registered. Arguments: ``order`` (WaybillOrder), ``result`` (EventResult: set ``result_code``
#: to refuse the order), ``message`` (PushMessage). A receiver may return the shop's order (or its
#: id), which the waybill is linked to. A repeated push does not send it again.
waybill_order_received = Signal()

#: In, answered: WeChat asks to cancel a waybill (``cancel_waybill``). Arguments: ``waybill``,
#: ``result`` (EventResult holding the default answer: 0, or 30002/30003 after pick-up or
#: delivery; a receiver may change it), ``message``.
waybill_cancel_requested = Signal()

#: In, answered: WeChat asks whether a merchant account is ours (``check_biz``). Arguments:
#: ``account`` (BizAccount), ``result`` (EventResult, 10001 until a receiver sets 0 and, in
#: ``result.fields["Quota"]``, the balance), ``message``.
biz_check_requested = Signal()

#: In, answered: WeChat asks for a merchant's balance (``get_quota``). Arguments as
#: ``biz_check_requested``.
quota_requested = Signal()

#: In: WeChat pushed ``trade_manage_order_settlement``: a payment's shipping completed (with
#: ``notice.estimated_settlement_time``) or its funds were settled (``notice.settled``, with
#: ``confirm_receive_method``, ``confirm_receive_time``, ``settlement_time``). Arguments:
#: ``notice`` (TradeNotice), ``payment`` (the Payment it names, or None), ``message`` (PushMessage).
wechat_order_settled = Signal()

#: In: WeChat pushed ``trade_manage_remind_shipping``: a payment is not shipped 48 hours after
#: ``notice.pay_time``. Arguments as ``wechat_order_settled``.
wechat_shipping_reminder = Signal()

#: In: WeChat pushed ``trade_manage_remind_access_api``: the account should record its shipping
#: through the API (``notice.msg`` says why). Arguments as ``wechat_order_settled``; ``payment``
#: is None.
wechat_api_access_reminder = Signal()

#: Out: a push to the events endpoint was processed. Arguments: ``inbound`` (InboundEvent, with
#: its verdict), ``message`` (PushMessage), ``result`` (EventResult).
inbound_event_processed = Signal()

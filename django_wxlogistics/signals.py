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

#: Out: a waybill was registered for an order. Arguments: ``waybill``, ``order``, ``created`` (bool).
waybill_registered = Signal()

#: Out: a user saw a waybill's unmasked contacts. Arguments: ``waybill``, ``user``, ``channel``
#: ("admin" or "api"), ``access`` (the ContactAccess audit row).
contact_viewed = Signal()

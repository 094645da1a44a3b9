"""A shop's own order-status signal, named in WXLOGISTICS["LISTEN_TO"] by the tests."""

from django.dispatch import Signal

#: Sent like django-oscar's: ``order``, ``old_status``, ``new_status``.
order_status_changed = Signal()

#: Not a signal: LISTEN_TO naming it is a system check error.
not_a_signal = "order_status_changed"

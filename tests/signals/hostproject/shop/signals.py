from django.dispatch import Signal

#: The host shop's own signal, sent with order, old_status and new_status.
purchase_state_changed = Signal()

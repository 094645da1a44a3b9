"""A fake WeChat logistics API on a real port, for development, tests and benchmarks.

    from django_wxlogistics.sandbox import SandboxServer, SandboxControl
    server = SandboxServer(port=0).start()
    ctl = SandboxControl(server.url)
    ctl.register_waybill("SF1234567890", "TOKEN")
    ...
    server.stop()

It plays WeChat's side of the order events too: ``ctl.configure_push(url=…, token=…, aes_key=…,
appid=…)``, then ``ctl.place_order()`` pushes ``add_waybill`` to the shop's events URL and makes
the waybill the shop answers with known, with its Token; ``ctl.cancel_order(order_id)``.

It plays a merchant's WeChat as well: ``ctl.create_payment()``, then the shop's
``upload_shipping_info``, ``notify_confirm_receive``, ``trace_waybill``… are answered with WeChat's
rules, and ``ctl.payment(transaction_id)`` shows what WeChat recorded.

It needs no Django settings: ``python -m django_wxlogistics.sandbox --port 8900``.
"""

from .control import SandboxControl, SandboxControlError
from .faults import FAULT_KINDS
from .server import SandboxServer

__all__ = ["FAULT_KINDS", "SandboxControl", "SandboxControlError", "SandboxServer"]

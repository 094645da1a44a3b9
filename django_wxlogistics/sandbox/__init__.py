"""A fake WeChat logistics API on a real port, for development, tests and benchmarks.

    from django_wxlogistics.sandbox import SandboxServer, SandboxControl
    server = SandboxServer(port=0).start()
    ctl = SandboxControl(server.url)
    ctl.register_waybill("SF1234567890", "TOKEN")
    ...
    server.stop()

It needs no Django settings: ``python -m django_wxlogistics.sandbox --port 8900``.
"""

from .control import SandboxControl, SandboxControlError
from .faults import FAULT_KINDS
from .server import SandboxServer

__all__ = ["FAULT_KINDS", "SandboxControl", "SandboxControlError", "SandboxServer"]

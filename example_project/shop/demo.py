"""While ``make demo`` runs, every waybill the shop saves is registered in the demo's sandbox.

An order placed in the sandbox is known to it already: it pushed the order placement event
that made the waybill. A waybill added some other way (by hand in the admin, with a token)
is not, so each process of the demo (web, worker, beat) registers a waybill in the sandbox
once it is saved, with the token it was saved with; otherwise its pushes would get errcode
40199. Registering again keeps the sandbox's trace.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.db.models.signals import post_save

from django_wxlogistics.models import Waybill
from django_wxlogistics.sandbox import SandboxControl

logger = logging.getLogger("example_project.shop")

#: set by ``rundemo`` for the processes it starts: the sandbox to register waybills in
SANDBOX_ENV = "WXLOGISTICS_DEMO_SANDBOX_URL"

CONTACTS = {
    "sender": {
        "name": "微物流示例商店",
        "tel": "020-88888888",
        "mobile": "18666666666",
        "address": "广东省广州市海珠区新港中路 397 号",
    },
    "receiver": {
        "name": "王小萌",
        "tel": "029-77777777",
        "mobile": "18610000000",
        "address": "广东省广州市天河区天河路 385 号",
    },
}


def register_in_sandbox(sandbox_url: str, waybill: Waybill) -> None:
    """Tell the sandbox the waybill and its token (registering again keeps the trace)."""
    SandboxControl(sandbox_url, timeout=5).register_waybill(
        waybill.waybill_id, waybill.token, sender=CONTACTS["sender"], receiver=CONTACTS["receiver"]
    )


def connect(sandbox_url: str) -> None:
    """Register each waybill saved from now on, once its transaction commits."""

    def waybill_saved(sender: Any, instance: Waybill, update_fields: Any = None, **kwargs: Any) -> None:
        if update_fields is not None and not {"waybill_id", "token"} & set(update_fields):
            return
        if not instance.token:
            return  # the sandbox needs the token; the admin's "New token" field sets it later
        waybill_id, pk = instance.waybill_id, instance.pk

        def register() -> None:
            waybill = Waybill.objects.filter(pk=pk).first()
            if waybill is None or not waybill.token:
                return
            try:
                register_in_sandbox(sandbox_url, waybill)
            except Exception as exc:  # the shop's save has happened: never undo it for the demo
                logger.warning("Could not register waybill %s in the demo sandbox: %s", waybill_id, exc)

        transaction.on_commit(register)

    post_save.connect(waybill_saved, sender=Waybill, dispatch_uid="demo-register-in-sandbox", weak=False)

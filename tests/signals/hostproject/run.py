"""Run the host project through its ways in and print what was recorded, as JSON.

``DJANGO_SETTINGS_MODULE=tests.signals.hostproject.settings python -m tests.signals.hostproject.run``
"""

from __future__ import annotations

import json
import sys

import django


def main() -> int:
    django.setup()
    from django.core.checks import run_checks
    from django.db import connection

    from django_wxlogistics.models import TraceEvent
    from django_wxlogistics.services import register_waybill
    from tests.signals.hostproject.celery import app  # noqa: F401  (as the project's __init__ would)
    from tests.signals.hostproject.shop.models import Purchase
    from tests.signals.hostproject.shop.signals import purchase_state_changed

    result: dict = {"checks": [f"{m.id}: {m.msg}" for m in run_checks() if m.is_serious()]}
    database_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        purchase = Purchase.objects.create(reference="P-1", state="new")
        result["order_id"] = register_waybill(purchase, "HOST-WB-1", "host-waybill-token").order_id
        register_waybill(purchase, "HOST-WB-2", "host-waybill-token-2")
        purchase.state = "dispatched"
        purchase.save()  # watched through ORDER_MODEL
        purchase.courier_phone = "18666666666"
        purchase.state = "out"
        purchase.save(update_fields=["state", "courier_phone"])
        purchase_state_changed.send(
            sender=Purchase, order=purchase, old_status="out", new_status="handed_over"
        )
        Purchase.objects.filter(pk=purchase.pk).update(state="dispatched")  # no signal: nothing recorded
        result["events"] = [
            [e.waybill.waybill_id, e.action_type, e.action_msg, e.state]
            for e in TraceEvent.objects.select_related("waybill").order_by("waybill__waybill_id", "id")
        ]
    finally:
        connection.creation.destroy_test_db(database_name, verbosity=0)
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())

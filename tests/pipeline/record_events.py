"""The shop of the failure test and the benchmark: records trace events from several threads,
and, given payments, their shipping information.

    python -m tests.pipeline.record_events --waybills 200 --events 2000 --threads 8 --seconds 20
    python -m tests.pipeline.record_events ... --payments payments.json

Each waybill belongs to one thread, which records its events with rising action times, so
the order the sandbox must see is the order of ``action_time``. Each payment of the JSON file
(``[{"transaction_id", "openid"}, …]``) belongs to one thread too, which records its upload,
then, once it has recorded the next payment's upload, its receipt confirmation: the
confirmation is often recorded while its upload is still on its way. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import threading
import time
from datetime import timedelta
from pathlib import Path

import django


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--waybills", type=int, default=200)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=0.0, help="spread the recording over this long")
    parser.add_argument("--prefix", default="CHAOS")
    parser.add_argument("--payments", default="", help="a JSON file of payments to ship and confirm")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.pipeline.worker_settings")
    django.setup()
    from django.db import connection, transaction
    from django.utils import timezone

    from django_wxlogistics.enums import ActionType
    from django_wxlogistics.models import Waybill
    from django_wxlogistics.services import confirm_receipt, record_shipping_info, record_trace_event

    waybills = Waybill.objects.bulk_create(
        Waybill(waybill_id=f"{args.prefix}{i:06d}", token=f"tok-{i:06d}", order_id=f"SO{i:06d}")
        for i in range(args.waybills)
    )
    start = timezone.now() - timedelta(hours=1)
    per_thread = [waybills[i :: args.threads] for i in range(args.threads)]
    pause = args.seconds / max(1, args.events / args.threads)
    errors: list[BaseException] = []

    def record(own: list[Waybill], count: int, seed: int) -> None:
        rnd = random.Random(seed)
        sequence = dict.fromkeys((w.pk for w in own), 0)
        try:
            for _ in range(count):
                waybill = rnd.choice(own)
                sequence[waybill.pk] += 1
                n = sequence[waybill.pk]
                with transaction.atomic():
                    record_trace_event(
                        waybill,
                        rnd.choice(ActionType.values),
                        f"{waybill.waybill_id} step {n}",
                        start + timedelta(seconds=n),
                    )
                if pause:
                    time.sleep(rnd.uniform(0, 2 * pause))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    payments = json.loads(Path(args.payments).read_text()) if args.payments else []

    def ship(own: list[dict[str, str]], seed: int) -> None:
        rnd = random.Random(seed)
        # Each step: the next payment's upload, then the receipt of the one before it.
        steps = [(p, "upload") for p in own[:1]]
        for before, payment in itertools.pairwise([*own, None]):
            if payment is not None:
                steps.append((payment, "upload"))
            steps.append((before, "confirm"))
        try:
            for payment, what in steps:
                order = f"SO-{payment['transaction_id']}"
                with transaction.atomic():
                    if what == "upload":
                        record_shipping_info(order, **shipping_fields(payment))
                    else:
                        confirm_receipt(order)
                if pause:
                    time.sleep(rnd.uniform(0, 2 * pause))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    base, extra = divmod(args.events, args.threads)
    threads = [
        threading.Thread(target=record, args=(own, base + (i < extra), i)) for i, own in enumerate(per_thread)
    ]
    threads += [
        threading.Thread(target=ship, args=(payments[i :: args.threads], 1000 + i))
        for i in range(args.threads)
        if payments[i :: args.threads]
    ]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    print(
        json.dumps(
            {
                "recorded": args.events,
                "shipping_recorded": 2 * len(payments),
                "seconds": round(time.monotonic() - began, 2),
            }
        ),
        flush=True,
    )


def shipping_fields(payment: dict[str, str]) -> dict[str, object]:
    """One parcel by ZTO for the payment, by its transaction_id."""
    return {
        "order_key": {"order_number_type": 2, "transaction_id": payment["transaction_id"]},
        "logistics_type": 1,
        "delivery_mode": 1,
        "shipping_list": [
            {
                "tracking_no": f"ZT{payment['transaction_id'][-12:]}",
                "express_company": "ZTO",
                "item_desc": "茶叶*1",
            }
        ],
        "payer": {"openid": payment["openid"]},
    }


if __name__ == "__main__":
    main()

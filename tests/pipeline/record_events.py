"""The shop of the failure test and the benchmark: records trace events from several threads.

    python -m tests.pipeline.record_events --waybills 200 --events 2000 --threads 8 --seconds 20

Each waybill belongs to one thread, which records its events with rising action times, so
the order the sandbox must see is the order of ``action_time``. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import threading
import time
from datetime import timedelta

import django


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--waybills", type=int, default=200)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=0.0, help="spread the recording over this long")
    parser.add_argument("--prefix", default="CHAOS")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.pipeline.worker_settings")
    django.setup()
    from django.db import connection, transaction
    from django.utils import timezone

    from django_wxlogistics.enums import ActionType
    from django_wxlogistics.models import Waybill
    from django_wxlogistics.services import record_trace_event

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

    base, extra = divmod(args.events, args.threads)
    threads = [
        threading.Thread(target=record, args=(own, base + (i < extra), i)) for i, own in enumerate(per_thread)
    ]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    print(json.dumps({"recorded": args.events, "seconds": round(time.monotonic() - began, 2)}), flush=True)


if __name__ == "__main__":
    main()

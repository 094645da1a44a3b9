"""The push pipeline end to end, against a ceiling measured in the same run.

Real parts: PostgreSQL, its own redis-server as broker, the sandbox in its own process, one
Celery worker (``-P prefork -c 2`` with ``PUSH_CONCURRENCY`` 16: 32 calls in flight, as many
as the ceiling's threads; ``WXL_BENCH_POOL`` and ``WXL_BENCH_SLOTS`` change the pool) and
beat. Figures:

* throughput, record → accepted by the sandbox, against the ceiling: a bare
  ``requests.Session`` thread pool of the same concurrency posting the same bodies to the
  same sandbox; at sandbox latency 0 ms and 50 ms (goals: ≥ 0.5 and ≥ 0.8 of the ceiling);
* p50/p99 latency from the shop's commit to the sandbox receiving the event, at a moderate
  rate;
* the cost ``record_trace_event`` adds to the shop's transaction against a bare
  ``Order.save()``, and its query count.

    python benchmarks/bench_pipeline.py [--events 3000] [--plot docs/_static/bench_pipeline.png]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.ceiling import (  # noqa: E402
    CONCURRENCY,
    accepted_times,
    bare_endpoint,
    bench_env,
    best_microseconds,
    ceiling_throughput,
    create_database,
    drop_database,
    start_services,
    start_worker,
    wait_sent,
    worker_argv,
)
from tests.pipeline.processes import Process, free_port, running  # noqa: E402

# The worker: WORKER_SLOTS tasks at once (POOL processes or threads), each making
# PUSH_CONCURRENCY calls at once: CONCURRENCY calls in flight in all, as in the ceiling.
POOL = os.environ.get("WXL_BENCH_POOL", "prefork")
WORKER_SLOTS = int(os.environ.get("WXL_BENCH_SLOTS", "2"))
PUSH_CONCURRENCY = CONCURRENCY // WORKER_SLOTS
# WXL_BENCH_DRAIN=1: the workers run with WXLOGISTICS["PUSH_DRAIN"] on.
DRAIN = os.environ.get("WXL_BENCH_DRAIN") == "1"
DATABASE = "wxl_bench_pipeline"
SHOP_THREADS = 8
_counter = itertools.count()


def _record(count: int, waybills_per_event: float, rate: float | None = None) -> dict[int, float]:
    """Record ``count`` events from SHOP_THREADS threads; returns event id → commit time."""
    from django.db import connection, transaction
    from django.utils import timezone

    from django_wxlogistics.models import Waybill
    from django_wxlogistics.services import record_trace_event

    run = next(_counter)
    waybills = Waybill.objects.bulk_create(
        Waybill(waybill_id=f"B{run}W{i:06d}", token=f"t{i}", order_id=f"O{i}")
        for i in range(max(1, int(count * waybills_per_event)))
    )
    start = timezone.now() - timedelta(hours=1)
    committed: dict[int, float] = {}
    lock = threading.Lock()
    interval = SHOP_THREADS / rate if rate else 0.0

    def shop(index: int) -> None:
        own = waybills[index::SHOP_THREADS]
        steps = dict.fromkeys((w.pk for w in own), 0)
        next_at = time.monotonic()
        try:
            for n in range(index, count, SHOP_THREADS):
                waybill = own[n // SHOP_THREADS % len(own)]
                steps[waybill.pk] += 1
                if interval:
                    next_at += interval
                    time.sleep(max(0.0, next_at - time.monotonic()))
                with transaction.atomic():
                    event = record_trace_event(
                        waybill,
                        200001,
                        f"step {steps[waybill.pk]}",
                        start + timedelta(seconds=steps[waybill.pk]),
                    )
                    # The clock starts as the commit begins: the nudge it publishes counts.
                    committing = time.time()
                with lock:
                    committed[event.pk] = committing
        finally:
            connection.close()

    threads = [threading.Thread(target=shop, args=(i,)) for i in range(SHOP_THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return committed


def _record_batch(count: int) -> tuple[set[int], float]:
    """Record ``count`` events, two per waybill, in one transaction (a bulk status change).

    Returns their ids and the moment the commit began: the pipeline's clock starts there.
    """
    from django.db import transaction
    from django.utils import timezone

    from django_wxlogistics.models import Waybill
    from django_wxlogistics.services import record_trace_event

    run = next(_counter)
    start = timezone.now() - timedelta(hours=1)
    ids: set[int] = set()
    with transaction.atomic():
        waybills = Waybill.objects.bulk_create(
            Waybill(waybill_id=f"B{run}W{i:06d}", token=f"t{i}", order_id=f"O{i}")
            for i in range((count + 1) // 2)
        )
        for n in range(count):
            event = record_trace_event(
                waybills[n // 2], 200001, f"step {n % 2 + 1}", start + timedelta(seconds=n % 2)
            )
            ids.add(event.pk)
        committing = time.time()
    return ids, committing


def pipeline_throughput(control: Any, events: int, latency: float = 0) -> float:
    control.reset()
    # The reset forgot every access token. The ceiling fetches its own before its clock
    # starts; the workers fetch theirs here, in a small batch that reaches every slot.
    warm_ids, _ = _record_batch(4 * CONCURRENCY)
    wait_sent(warm_ids)
    control.set_faults(latency_ms=latency)
    ids, started = _record_batch(events)
    wait_sent(ids)
    times = accepted_times(control)
    assert len(times) >= events + len(warm_ids), (len(times), events)
    return events / (max(times) - started)


def commit_to_received(control: Any, events: int, rate: float) -> tuple[float, float]:
    from django_wxlogistics.models import TraceEvent

    control.reset()
    committed = _record(events, waybills_per_event=1.0, rate=rate)
    wait_sent(set(committed))
    keys = dict(TraceEvent.objects.filter(pk__in=committed).values_list("waybill__waybill_id", "pk"))
    received: dict[int, float] = {}
    for call in control.calls(api="logistics.updatePath"):
        pk = keys.get(call["body"]["waybill_id"])
        if pk is not None and call["status"] == 200:
            received.setdefault(pk, call["time"])
    latencies = sorted(max(0.0, received[pk] - committed[pk]) * 1000 for pk in committed)
    return statistics.median(latencies), latencies[int(0.99 * (len(latencies) - 1))]


def bare_round_trip(url: str, control: Any, calls: int) -> tuple[float, float]:
    """The latency baseline: one bare ``requests`` call to the sandbox, start to reply."""
    import requests

    control.reset()
    session = requests.Session()
    endpoint = bare_endpoint(url, session)
    now = int(time.time()) - 3600
    samples = []
    for i in range(calls):
        body = {"token": "t", "waybill_id": f"R{i}", "action_time": now, "action_type": 200001}
        body["action_msg"] = "x"
        started = time.perf_counter()
        session.post(endpoint, json=body, timeout=10)
        samples.append((time.perf_counter() - started) * 1000)
        time.sleep(0.01)
    samples.sort()
    return statistics.median(samples), samples[int(0.99 * (len(samples) - 1))]


def shop_cost(rounds: int) -> dict[str, float]:
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from django_wxlogistics.models import Waybill
    from django_wxlogistics.services import record_trace_event
    from example_project.shop.models import Order

    waybill = Waybill.objects.create(waybill_id=f"COST{next(_counter)}", token="t", order_id="O")

    def bare(i: int) -> None:
        with transaction.atomic():
            Order(number=f"N{next(_counter)}", status="paid", customer_name="张三").save()

    def recorded(i: int) -> None:
        with transaction.atomic():
            record_trace_event(waybill, 200001, "运输中")

    bare(0), recorded(0)  # warm up connections and the broker pool
    with CaptureQueriesContext(connection) as queries:
        record_trace_event(waybill, 200001, "运输中")
    result = {
        "order_save_us": best_microseconds(bare, rounds),
        "record_us": best_microseconds(recorded, rounds),
        "queries": len(queries),
    }
    # No worker runs yet: these events must not be pushed during the throughput runs.
    waybill.events.all().delete()
    return result


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--plot", type=Path, default=None, help="write a bar chart of the ratios here")
    args = parser.parse_args()

    redis_port, sandbox_port = free_port(), free_port()
    url = f"http://127.0.0.1:{sandbox_port}"
    env = bench_env(DATABASE, redis_port, url, PUSH_CONCURRENCY, DRAIN)
    os.environ.update(env)
    create_database(DATABASE, env)
    log_dir = Path(tempfile.mkdtemp(prefix="wxl-bench-"))
    started: list[Process] = []
    results: dict[str, Any] = {}
    try:
        with running(started):
            start_services(started, env, log_dir, redis_port, sandbox_port)
            import django

            django.setup()
            # The shop's cost first, while no worker competes for the CPU.
            cost = shop_cost(300)
            results["shop_cost"] = cost
            print(
                f"shop transaction: record_trace_event {cost['record_us']:.0f} µs vs Order.save() "
                f"{cost['order_save_us']:.0f} µs, ratio {cost['record_us'] / cost['order_save_us']:.2f}; "
                f"{cost['queries']} queries",
                flush=True,
            )
            # Beat runs the sweeper, as in production: a retried event waits for it.
            start_worker(started, worker_argv(POOL, WORKER_SLOTS), env, log_dir)
            from django_wxlogistics.sandbox import SandboxControl

            control = SandboxControl(url)
            pipeline_throughput(control, 200)  # warm up: tokens, connections, imports
            for latency in (0, 50):
                ceiling = ceiling_throughput(url, control, args.events, latency)
                pipeline = pipeline_throughput(control, args.events, latency)
                ratio = pipeline / ceiling
                goal = 0.5 if latency == 0 else 0.8
                results[f"latency_{latency}ms"] = {"pipeline": pipeline, "ceiling": ceiling, "ratio": ratio}
                print(
                    f"throughput at {latency:>2} ms: pipeline {pipeline:7.1f} events/s, ceiling "
                    f"{ceiling:7.1f} requests/s, ratio {ratio:.2f} (goal ≥ {goal})",
                    flush=True,
                )
            p50, p99 = commit_to_received(control, 600, rate=20)
            b50, b99 = bare_round_trip(url, control, 200)
            results["commit_to_received_ms"] = {"p50": p50, "p99": p99, "rate": 20}
            results["bare_round_trip_ms"] = {"p50": b50, "p99": b99}
            print(
                f"commit → received at 20 events/s: p50 {p50:.1f} ms, p99 {p99:.1f} ms; "
                f"a bare call's round trip: p50 {b50:.1f} ms, p99 {b99:.1f} ms",
                flush=True,
            )
    finally:
        from django.db import connections

        connections.close_all()
        drop_database(DATABASE)
    print(json.dumps(results, indent=1))
    if args.plot:
        _plot(results, args.plot)
    return 0


def _plot(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = ["0 ms", "50 ms"]
    pipeline = [results[f"latency_{x}ms"]["pipeline"] for x in (0, 50)]
    ceiling = [results[f"latency_{x}ms"]["ceiling"] for x in (0, 50)]
    fig, ax = plt.subplots(figsize=(6, 3.2), dpi=120)
    xs = range(len(labels))
    ax.bar([x - 0.2 for x in xs], ceiling, 0.4, label=f"ceiling: bare requests, {CONCURRENCY} threads")
    worker = f"worker -P {POOL} -c {WORKER_SLOTS}, PUSH_CONCURRENCY {PUSH_CONCURRENCY}"
    ax.bar([x + 0.2 for x in xs], pipeline, 0.4, label=f"pipeline: {worker}")
    for x, p, c in zip(xs, pipeline, ceiling, strict=True):
        ax.annotate(f"{p / c:.2f}×", (x + 0.2, p), ha="center", va="bottom", fontsize=9)
    ax.set_xticks(list(xs), [f"sandbox latency {label}" for label in labels])
    ax.set_ylim(0, 1.35 * max(pipeline + ceiling))  # room for the legend above the bars
    ax.set_ylabel("events per second")
    ax.set_title("Record → accepted by the sandbox")
    ax.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    print(f"plot written to {path}")


if __name__ == "__main__":
    sys.exit(main())

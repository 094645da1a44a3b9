"""Shipping information through the push pipeline, against the same raw-HTTP ceiling as trace events.

Real parts, as in ``bench_pipeline.py``: PostgreSQL, its own redis-server as broker, the
sandbox in its own process, one Celery worker (``-P prefork -c 2`` with ``PUSH_CONCURRENCY``
16: 32 calls in flight, as many as the ceiling's threads) and beat. The sandbox is told of
``--uploads`` payments through its control API; the shop records one ``upload_shipping_info``
for each with ``services.record_shipping_info``, all in one transaction (a bulk "shipped"), and
the clock runs from the moment that transaction begins to commit to the last upload the
sandbox accepts. The ceiling is a bare ``requests.Session`` thread pool of 32 threads posting
the same bodies (the ones the pipeline stores and sends) for as many fresh payments, since
WeChat takes a payment's upload once, to the same sandbox. Figures:

* throughput against the ceiling measured in the same run, at sandbox latency 0 ms and 50 ms
  (goals, as for trace events: ≥ 0.5 and ≥ 0.8), ``--rounds`` times each;
* the cost ``record_shipping_info`` adds to the shop's transaction against a bare
  ``Order.save()``, and its query count;
* with ``--compare``: trace events of the same shape (one per waybill, as many as the
  uploads) drained by the same worker against their own ceiling, in the same run.

Bounded: ``--uploads`` calls a measurement, every wait at most ``--deadline`` seconds from
the start, then the run stops with an error. Everything listens on 127.0.0.1.

    python benchmarks/bench_shipping.py [--uploads 3000] [--rounds 1] [--compare]
    WXL_BENCH_DRAIN=1 python benchmarks/bench_shipping.py   # the worker with PUSH_DRAIN on
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
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.ceiling import (  # noqa: E402
    CONCURRENCY,
    accepted_times,
    backend_cpu_seconds,
    bare_throughput,
    bench_env,
    best_microseconds,
    create_database,
    drop_database,
    group_cpu_seconds,
    start_services,
    start_worker,
    wait_sent,
    worker_argv,
)
from tests.pipeline.processes import Process, free_port, running  # noqa: E402
from tests.pipeline.record_events import shipping_fields  # noqa: E402

WORKER_SLOTS = 2
PUSH_CONCURRENCY = CONCURRENCY // WORKER_SLOTS
DRAIN = os.environ.get("WXL_BENCH_DRAIN") == "1"
DATABASE = os.environ.get("WXL_BENCH_DATABASE", "wxl_bench") + "_shipping"
UPLOAD = "upload_shipping_info"
#: Threads that tell the sandbox of payments (its control API, one payment a request).
CREATING_THREADS = 8
_counter = itertools.count()


class Deadline:
    """The run's bound: every wait takes what is left of it, and fails past it."""

    def __init__(self, seconds: float) -> None:
        self.ends = time.monotonic() + seconds

    def left(self) -> float:
        left = self.ends - time.monotonic()
        if left <= 0:
            raise TimeoutError("the benchmark ran past its --deadline")
        return left


def create_payments(url: str, count: int) -> list[dict[str, Any]]:
    """``count`` payments the sandbox knows, each with its transaction_id and payer's openid."""
    from django_wxlogistics.sandbox import SandboxControl

    local = threading.local()

    def create(_: int) -> dict[str, Any]:
        if not hasattr(local, "control"):
            local.control = SandboxControl(url)
        payment = local.control.create_payment()
        return {"transaction_id": payment["transaction_id"], "openid": payment["openid"]}

    with ThreadPoolExecutor(CREATING_THREADS) as pool:
        return list(pool.map(create, range(count)))


def upload_body(payment: dict[str, Any]) -> dict[str, Any]:
    """The body the pipeline sends for ``payment``'s upload (what ``record_shipping_info`` stores)."""
    from django_wxlogistics.shipping_fields import clean_upload_shipping_info

    return clean_upload_shipping_info(**shipping_fields(payment))


def record_uploads(payments: list[dict[str, Any]]) -> tuple[set[int], float]:
    """One upload a payment, in one transaction; their ids and the moment the commit began."""
    from django.db import transaction

    from django_wxlogistics.services import record_shipping_info

    ids: set[int] = set()
    with transaction.atomic():
        for payment in payments:
            info = record_shipping_info(f"SO-{payment['transaction_id']}", **shipping_fields(payment))
            ids.add(info.pk)
        committing = time.time()
    return ids, committing


def record_events(count: int) -> tuple[set[int], float]:
    """One trace event a waybill, ``count`` waybills, in one transaction: the uploads' shape."""
    from django.db import transaction
    from django.utils import timezone

    from django_wxlogistics.models import Waybill
    from django_wxlogistics.services import record_trace_event

    run = next(_counter)
    at = timezone.now() - timedelta(hours=1)
    ids: set[int] = set()
    with transaction.atomic():
        waybills = Waybill.objects.bulk_create(
            Waybill(waybill_id=f"S{run}W{i:06d}", token=f"t{i}", order_id=f"O{i}") for i in range(count)
        )
        for waybill in waybills:
            ids.add(record_trace_event(waybill, 200001, "step 1", at).pk)
        committing = time.time()
    return ids, committing


def drain(
    url: str, control: Any, count: int, latency: float, deadline: Deadline, kind: str, groups: dict[str, int]
) -> tuple[float, dict[str, float]]:
    """Items a second from the backlog's commit to the last the sandbox accepted; and the
    milliseconds of CPU each item cost each process group of ``groups`` (name: pgid) and the
    database's backends that served them."""
    from django_wxlogistics.models import ShippingInfo, TraceEvent

    model, api = (ShippingInfo, UPLOAD) if kind == "shipping" else (TraceEvent, "logistics.updatePath")

    def record(n: int) -> tuple[set[int], float]:
        return record_uploads(create_payments(url, n)) if kind == "shipping" else record_events(n)

    control.reset()
    # The reset forgot every access token: the workers fetch theirs in a small batch that
    # reaches every slot, before the clock starts (the ceiling fetches its own before its own).
    warm, _ = record(4 * CONCURRENCY)
    wait_sent(warm, model, timeout=deadline.left())
    payments = create_payments(url, count) if kind == "shipping" else []
    control.set_faults(latency_ms=latency)
    used = {name: group_cpu_seconds(pgid) for name, pgid in groups.items()}
    backends = backend_cpu_seconds()
    ids, started = record_uploads(payments) if kind == "shipping" else record_events(count)
    wait_sent(ids, model, timeout=deadline.left())
    cpu = {name: (group_cpu_seconds(pgid) - used[name]) * 1000 / count for name, pgid in groups.items()}
    # A backend that started meanwhile counts from nothing; one that ended is not counted.
    database = sum(seconds - backends.get(pid, 0.0) for pid, seconds in backend_cpu_seconds().items())
    cpu["database"] = database * 1000 / count
    times = accepted_times(control, api)
    assert len(times) >= len(ids) + len(warm), (len(times), len(ids))
    return len(ids) / (max(times) - started), cpu


def ceiling(
    url: str, control: Any, count: int, latency: float, kind: str, sandbox: int
) -> tuple[float, dict[str, float]]:
    """The bare pool's requests a second, posting ``count`` bodies of ``kind`` to the sandbox;
    and the milliseconds of CPU each call cost this process (the pool) and the sandbox."""
    control.reset()
    if kind == "shipping":
        bodies = [upload_body(p) for p in create_payments(url, count)]
        api = UPLOAD
    else:
        now = int(time.time()) - 3600
        bodies = [
            {"token": f"t{i}", "waybill_id": f"C{i:06d}", "action_time": now, "action_type": 200001}
            | {"action_msg": "step 1"}
            for i in range(count)
        ]
        api = "logistics.updatePath"
    control.set_faults(latency_ms=latency)
    client, server = time.process_time(), group_cpu_seconds(sandbox)
    rate = bare_throughput(url, bodies, api)
    client, server = time.process_time() - client, group_cpu_seconds(sandbox) - server
    return rate, {"client": client * 1000 / count, "sandbox": server * 1000 / count}


def shop_cost(rounds: int) -> dict[str, float]:
    """``record_shipping_info`` in the shop's transaction against a bare ``Order.save()`` (best
    of 3 × ``rounds``, each in a transaction of its own), and its queries and savepoints."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from django_wxlogistics.models import Payment
    from django_wxlogistics.services import record_shipping_info
    from example_project.shop.models import Order

    run = next(_counter)

    def payment(i: int) -> dict[str, str]:
        return {"transaction_id": f"4200{run:04d}{next(_counter):020d}", "openid": f"oCost{i}"}

    def bare(i: int) -> None:
        with transaction.atomic():
            Order(number=f"N{run}-{next(_counter)}", status="paid", customer_name="张三").save()

    def recorded(i: int) -> None:
        given = payment(i)
        with transaction.atomic():
            record_shipping_info(f"SO-{given['transaction_id']}", **shipping_fields(given))

    bare(0), recorded(0)  # warm up connections and the broker pool
    given = payment(0)
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        record_shipping_info(f"SO-{given['transaction_id']}", **shipping_fields(given))
    sql = [q["sql"].split(None, 1)[0].upper() for q in queries.captured_queries]
    result = {
        "order_save_us": best_microseconds(bare, rounds),
        "record_us": best_microseconds(recorded, rounds),
        "queries": sum(word not in ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE") for word in sql),
        "savepoints": sql.count("SAVEPOINT"),
    }
    # No worker runs yet: these uploads, for payments the sandbox never had, must not be sent.
    Payment.objects.filter(transaction_id__startswith=f"4200{run:04d}").delete()
    return result


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--uploads", type=int, default=3000, help="uploads a measurement (at most 20,000)")
    parser.add_argument("--rounds", type=int, default=1, help="measurements at each latency")
    parser.add_argument("--latencies", default="0,50", help="sandbox latencies in ms, comma-separated")
    parser.add_argument("--compare", action="store_true", help="trace events of the same shape too")
    parser.add_argument("--deadline", type=float, default=1200.0, help="seconds the whole run may take")
    args = parser.parse_args()
    if not 1 <= args.uploads <= 20_000:
        parser.error("--uploads must be between 1 and 20,000")
    deadline = Deadline(args.deadline)
    latencies = [float(x) for x in args.latencies.split(",")]
    kinds = ["shipping", "trace"] if args.compare else ["shipping"]

    redis_port, sandbox_port = free_port(), free_port()
    url = f"http://127.0.0.1:{sandbox_port}"
    env = bench_env(DATABASE, redis_port, url, PUSH_CONCURRENCY, DRAIN)
    os.environ.update(env)
    create_database(DATABASE, env)
    log_dir = Path(tempfile.mkdtemp(prefix="wxl-bench-"))
    started: list[Process] = []
    results: dict[str, Any] = {"uploads": args.uploads, "drain_mode": DRAIN}
    try:
        with running(started):
            start_services(started, env, log_dir, redis_port, sandbox_port)
            import django

            django.setup()
            # The shop's cost first, while no worker competes for the CPU.
            cost = shop_cost(min(300, args.uploads))
            results["shop_cost"] = cost
            print(
                f"shop transaction: record_shipping_info {cost['record_us']:.0f} µs vs Order.save() "
                f"{cost['order_save_us']:.0f} µs, ratio {cost['record_us'] / cost['order_save_us']:.2f}; "
                f"{cost['queries']} queries, {cost['savepoints']} savepoints",
                flush=True,
            )
            start_worker(started, worker_argv("prefork", WORKER_SLOTS), env, log_dir)
            from django_wxlogistics.sandbox import SandboxControl

            control = SandboxControl(url)
            # Whose CPU each call costs: the worker with its pool, the sandbox (process groups).
            groups = {p.name: p.pid for p in started if p.name in ("worker", "sandbox")}
            for kind in kinds:  # warm up: tokens, connections, imports
                drain(url, control, min(200, args.uploads), 0, deadline, kind, groups)
            for latency in latencies:
                for _ in range(args.rounds):
                    for kind in kinds:
                        measure(url, control, args.uploads, latency, deadline, kind, groups, results)
            summary(results, kinds, latencies)
    finally:
        from django.db import connections

        connections.close_all()
        drop_database(DATABASE)
    print(json.dumps(results, indent=1))
    return 0


def measure(
    url: str,
    control: Any,
    count: int,
    latency: float,
    deadline: Deadline,
    kind: str,
    groups: dict[str, int],
    results: dict[str, Any],
) -> None:
    top, bare_cpu = ceiling(url, control, count, latency, kind, groups["sandbox"])
    deadline.left()
    rate, cpu = drain(url, control, count, latency, deadline, kind, groups)
    ratio = rate / top
    goal = 0.5 if latency == 0 else 0.8
    runs = results.setdefault(f"{kind}_latency_{latency:g}ms", [])
    runs.append({"pipeline": rate, "ceiling": top, "ratio": ratio, "cpu_ms": cpu, "ceiling_cpu_ms": bare_cpu})
    noun = "uploads" if kind == "shipping" else "events"
    label = "shipping information" if kind == "shipping" else "trace events, one a waybill"
    print(
        f"{label}: throughput at {latency:>2g} ms: pipeline {rate:7.1f} {noun}/s, ceiling "
        f"{top:7.1f} requests/s, ratio {ratio:.2f} (goal ≥ {goal})",
        flush=True,
    )
    print(
        f"  CPU a call: pipeline's worker {cpu['worker']:.2f} ms, its database {cpu['database']:.2f} ms, "
        f"sandbox {cpu['sandbox']:.2f} ms; "
        f"ceiling's pool {bare_cpu['client']:.2f} ms, sandbox {bare_cpu['sandbox']:.2f} ms",
        flush=True,
    )


def summary(results: dict[str, Any], kinds: list[str], latencies: list[float]) -> None:
    """With several rounds: each kind's median ratio and its spread."""
    for latency in latencies:
        for kind in kinds:
            ratios = [run["ratio"] for run in results.get(f"{kind}_latency_{latency:g}ms", [])]
            if len(ratios) > 1:
                print(
                    f"{kind} at {latency:g} ms, {len(ratios)} rounds: median ratio "
                    f"{statistics.median(ratios):.2f} ({min(ratios):.2f}–{max(ratios):.2f})",
                    flush=True,
                )


if __name__ == "__main__":
    sys.exit(main())

"""What the drain benchmarks share: their database, the processes of a run (broker, sandbox,
worker, beat), the wait for a backlog to be sent, and the raw-HTTP ceiling they are set
against: a bare ``requests`` thread pool posting the same bodies to the same sandbox.

``bench_pipeline.py``, ``bench_production.py`` and ``bench_shipping.py`` measure the pipeline
with ``WORKER_SLOTS`` prefork processes of ``PUSH_CONCURRENCY`` calling threads each:
``CONCURRENCY`` calls in flight at most, as many as the ceiling's threads.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.pipeline.processes import Process, celery_argv, redis_server, wait_for_log, wait_for_port  # noqa: E402

#: Calls in flight at most: the ceiling's threads, the worker's slots times PUSH_CONCURRENCY.
CONCURRENCY = 32
SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
#: The paths the ceiling posts to, by the API name the sandbox logs.
PATHS = {
    "logistics.updatePath": "/cgi-bin/express/delivery/path/update",
    "upload_shipping_info": "/wxa/sec/order/upload_shipping_info",
}


# -- the database -------------------------------------------------------------------------------


def server_sql(sql: str) -> None:
    """Run ``sql`` on the PostgreSQL server, outside any database of the benchmark."""
    import psycopg

    with psycopg.connect(SERVER, autocommit=True) as conn:
        conn.execute(sql)


def drop_database(name: str) -> None:
    server_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def create_database(name: str, env: dict[str, str]) -> None:
    """A new, migrated database ``name`` (an old one of that name dropped first)."""
    drop_database(name)
    server_sql(f'CREATE DATABASE "{name}"')
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)


# -- the processes ------------------------------------------------------------------------------


def bench_env(database: str, redis_port: int, url: str, push_concurrency: int, drain: bool) -> dict[str, str]:
    """The environment of the benchmark's own process and of its worker and beat."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.pipeline.worker_settings",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database}",
        "WXL_BROKER_URL": f"redis://127.0.0.1:{redis_port}/0",
        "WXL_API_BASE_URL": url,
        "PYTHONPATH": str(ROOT),
        "WXL_PUSH_CONCURRENCY": str(push_concurrency),
        "WXL_SWEEP_INTERVAL": "1",
        "WXL_PUSH_DRAIN": "1" if drain else "0",
        "CI": "",
    }


def start_services(
    started: list[Process], env: dict[str, str], log_dir: Path, redis_port: int, sandbox_port: int
) -> None:
    """The broker (a redis-server of its own) and the sandbox in its own process, listening."""
    started.append(redis_server(redis_port, log_dir).start())
    sandbox_argv = [
        sys.executable, "-m", "django_wxlogistics.sandbox", "--port", str(sandbox_port),
        "--auto-register", "--quiet",
    ]  # fmt: skip
    started.append(Process("sandbox", sandbox_argv, env, log_dir).start())
    wait_for_port(redis_port)
    wait_for_port(sandbox_port)


def worker_argv(pool: str = "prefork", slots: int = 2) -> list[str]:
    return celery_argv(
        "worker", "-P", pool, "-c", str(slots), "-l", "INFO", "--purge",
        "--without-gossip", "--without-mingle", "--without-heartbeat",
    )  # fmt: skip


def start_worker(
    started: list[Process], argv: list[str], env: dict[str, str], log_dir: Path, suffix: str = ""
) -> None:
    """A worker, ready, and beat beside it: beat runs the sweeper, as in production."""
    worker = Process(f"worker{suffix}", argv, env, log_dir).start()
    started.append(worker)
    wait_for_log(worker, "ready.")
    beat_argv = celery_argv("beat", "-l", "WARNING", "-s", str(log_dir / f"beat-schedule{suffix}"))
    started.append(Process(f"beat{suffix}", beat_argv, env, log_dir).start())


# -- the drain ------------------------------------------------------------------------------------


def wait_sent(ids: Iterable[int], model: Any = None, timeout: float = 300) -> None:
    """Wait until every item of ``model`` (trace events unless said otherwise) in ``ids`` is sent."""
    from django_wxlogistics.enums import EventState

    if model is None:
        from django_wxlogistics.models import TraceEvent as model
    ids = set(ids)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not model.objects.filter(pk__in=ids).exclude(state=EventState.SENT).exists():
            return
        time.sleep(0.05)
    raise TimeoutError(f"the pipeline did not deliver every {model._meta.verbose_name} in time")


def accepted_times(control: Any, api: str = "logistics.updatePath") -> list[float]:
    """When the sandbox accepted each call of ``api`` (HTTP 200, errcode 0) since its reset."""
    calls = control.calls(api=api)
    return [c["time"] for c in calls if c["status"] == 200 and (c["reply"] or {}).get("errcode", 0) == 0]


def _cpu_times() -> dict[int, tuple[int, float]]:
    """Each live process's group and CPU seconds (user and system) so far; empty without ``/proc``."""
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:  # the process ended meanwhile
            continue
        # After the command's name: state, ppid, pgrp, … utime (12th), stime (13th).
        found[int(stat.parent.name)] = (int(fields[2]), (int(fields[11]) + int(fields[12])) / ticks)
    return found


def group_cpu_seconds(pgid: int) -> float:
    """CPU seconds the live processes of process group ``pgid`` have used: a worker and its
    pool, say (each Process leads a group of its own)."""
    return sum(seconds for group, seconds in _cpu_times().values() if group == pgid)


def backend_cpu_seconds() -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend of this process's database but its own
    connection (the worker's, when the worker is the only other client), by pid."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        pids = {row[0] for row in cursor.fetchall()}
    return {pid: seconds for pid, (_, seconds) in _cpu_times().items() if pid in pids}


# -- the ceiling ----------------------------------------------------------------------------------


def best_microseconds(fn: Any, rounds: int) -> float:
    """``fn(i)`` for i in range(rounds), three times: the best run's time a call, in µs."""
    samples = []
    for _ in range(3):
        started = time.perf_counter()
        for i in range(rounds):
            fn(i)
        samples.append((time.perf_counter() - started) / rounds)
    return min(samples) * 1e6


def bare_session(pool_size: int = CONCURRENCY) -> Any:
    import requests

    session = requests.Session()
    session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=pool_size))
    return session


def bare_endpoint(url: str, session: Any, api: str = "logistics.updatePath") -> str:
    """``api``'s URL with an access token the bare baselines fetch for themselves."""
    token = session.post(
        f"{url}/cgi-bin/stable_token",
        json={"grant_type": "client_credential", "appid": "wxbench", "secret": "bench"},
        timeout=10,
    ).json()["access_token"]
    return f"{url}{PATHS[api]}?access_token={token}"


def bare_throughput(url: str, bodies: list[dict[str, Any]], api: str = "logistics.updatePath") -> float:
    """Requests per second of CONCURRENCY threads posting ``bodies`` to ``api``, each accepted."""
    session = bare_session()
    endpoint = bare_endpoint(url, session, api)

    def post(body: dict[str, Any]) -> None:
        reply = session.post(endpoint, json=body, timeout=10)
        assert reply.status_code == 200 and reply.json().get("errcode", 0) == 0, reply.text

    started = time.time()
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        list(pool.map(post, bodies))
    return len(bodies) / (time.time() - started)


def ceiling_throughput(url: str, control: Any, events: int, latency: float = 0) -> float:
    """The ceiling of trace events: ``events`` updatePath bodies, two per waybill."""
    control.reset()
    control.set_faults(latency_ms=latency)
    now = int(time.time()) - 3600
    bodies = [
        {
            "token": f"t{i // 2}",
            "waybill_id": f"C{i // 2:06d}",
            "action_time": now + i % 2,
            "action_type": 200001,
            "action_msg": f"step {i % 2 + 1}",
        }
        for i in range(events)
    ]
    return bare_throughput(url, bodies)

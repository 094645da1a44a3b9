"""The token fleet: 8 processes x 500 calls share one access token through the database.

The sandbox runs in its own process; the fleet uses PostgreSQL (``DATABASE_URL``, default
``postgres://postgres@127.0.0.1:5432/wxl_bench_tokens``; a throw-away ``test_…`` database is made).

1. Cold: no token stored, all processes start at once; halfway through, the sandbox expires
   every token, so calls in flight are refused with 42001. Token fetches must be exactly
   1 for the start and 1 for the expiry (a per-process cache would make 8 each time).
2. Warm (the baseline): the same calls with the token already stored and nothing expiring.

The fleet's calls per second in (1) over (2) is what a cold start plus one expiry costs.

    python benchmarks/bench_tokens.py [--processes 8] [--calls 500]
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

APPID, APPSECRET = "wxbenchtokens0001", "bench-secret"


def start_sandbox() -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "django_wxlogistics.sandbox", "--port", "0", "--quiet", "--auto-register"],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    match = re.search(r"listening on (http://\S+)", line)
    if not match:
        process.kill()
        raise SystemExit(f"the sandbox did not start: {line!r}")
    return process, match.group(1)


def setup_django(url: str) -> str:
    import dj_database_url
    import django
    from django.conf import settings

    database = dj_database_url.parse(
        os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/wxl_bench_tokens"),
        conn_max_age=600,
    )
    if "postgresql" not in database["ENGINE"]:
        raise SystemExit("bench_tokens needs PostgreSQL (row locks): set DATABASE_URL=postgres://…")
    settings.configure(
        INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "django_wxlogistics"],
        DATABASES={"default": database},
        USE_TZ=True,
        WXLOGISTICS={"APPID": APPID, "APPSECRET": APPSECRET, "API_BASE_URL": url},
        LOGGING_CONFIG=None,
    )
    django.setup()
    # Refused calls are logged as warnings; 8 of them per expiry are expected here.
    logging.getLogger("django_wxlogistics").setLevel(logging.ERROR)
    from django.db import connection

    return connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)


def control(url: str, method: str, endpoint: str) -> Any:
    response = requests.request(method, f"{url}/__sandbox__/{endpoint}", timeout=10)
    response.raise_for_status()
    return response.json()


def fleet_member(index: int, calls: int, barrier: Any, results: Any) -> None:
    from django.db import connections

    from django_wxlogistics.client import get_client

    try:
        client = get_client()
        barrier.wait(timeout=60)
        for i in range(calls):
            client.update_path(f"T{index}", f"SF{index}-{i % 20}", 1700000000, 200001, "运输中")
        results.put(("ok", index))
    except BaseException as exc:
        results.put(("error", index, repr(exc)))
    finally:
        connections.close_all()


def run_fleet(url: str, processes: int, calls: int, expire_after: int | None) -> tuple[float, int | None]:
    """Calls per second of the fleet; and the token fetches seen before the expiry, if any."""
    from django.db import connections

    connections.close_all()  # children must not inherit an open connection
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(processes + 1)
    results = context.Queue()
    members = [
        context.Process(target=fleet_member, args=(i, calls, barrier, results)) for i in range(processes)
    ]
    for member in members:
        member.start()
    before_expiry = None
    barrier.wait(timeout=60)
    started = time.perf_counter()
    if expire_after is not None:
        while control(url, "GET", "stats")["calls_by_api"].get("logistics.updatePath", 0) < expire_after:
            time.sleep(0.05)
        before_expiry = control(url, "GET", "stats")["token_fetches"]
        control(url, "POST", "expire_tokens")
    outcomes = [results.get(timeout=300) for _ in members]
    elapsed = time.perf_counter() - started
    for member in members:
        member.join(timeout=30)
    failures = [o for o in outcomes if o[0] != "ok"]
    if failures:
        raise SystemExit(f"a fleet member failed: {failures[0]}")
    return processes * calls / elapsed, before_expiry


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--processes", type=int, default=8)
    parser.add_argument("--calls", type=int, default=500, help="calls per process")
    options = parser.parse_args()
    total = options.processes * options.calls

    sandbox, url = start_sandbox()
    test_db = None
    try:
        test_db = setup_django(url)
        cold_rate, at_start = run_fleet(url, options.processes, options.calls, expire_after=total // 2)
        stats = control(url, "GET", "stats")
        after_expiry = stats["token_fetches"] - (at_start or 0)
        refused = stats["calls_by_api"]["logistics.updatePath"] - total
        warm_rate, _ = run_fleet(url, options.processes, options.calls, expire_after=None)
        warm_fetches = control(url, "GET", "stats")["token_fetches"] - stats["token_fetches"]

        print(
            f"{options.processes} processes x {options.calls} calls, sandbox in its own process, PostgreSQL"
        )
        print(
            f"token fetches: {at_start} with no token at start | {after_expiry} after the expiry mid-run | "
            f"{warm_fetches} with a stored token (a per-process cache: {options.processes} per window)"
        )
        print(f"calls refused with the expired token and repeated once: {refused}")
        ok = at_start == 1 and after_expiry == 1 and warm_fetches == 0
        print(f"exactly one fetch per expiry window: {'yes' if ok else 'NO'}")
        print(
            f"fleet calls/s: cold start + expiry {cold_rate:7.0f} | warm (baseline) {warm_rate:7.0f} | "
            f"ratio {cold_rate / warm_rate:.2f}"
        )
        return 0 if ok else 1
    finally:
        if test_db is not None:
            from django.db import connection, connections

            connections.close_all()
            connection.creation.destroy_test_db(test_db, verbosity=0)
        sandbox.terminate()
        try:
            sandbox.wait(timeout=10)
        except subprocess.TimeoutExpired:
            sandbox.kill()


if __name__ == "__main__":
    os.environ.pop("DJANGO_SETTINGS_MODULE", None)
    sys.exit(main())

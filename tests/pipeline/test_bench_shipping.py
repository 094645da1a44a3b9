"""``benchmarks/bench_shipping.py`` runs, at a tiny size: its own database, broker, sandbox,
worker and beat; every upload accepted by the sandbox; its ratios printed; its database gone."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
from django.db import connection

from .processes import ROOT

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the benchmarks run on PostgreSQL"),
    pytest.mark.skipif(sys.platform == "win32", reason="process groups and SIGKILL"),
]


def _databases() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT datname FROM pg_database")
        return {row[0] for row in cursor.fetchall()}


@pytest.mark.timeout(360)
@pytest.mark.django_db
def test_the_shipping_benchmark_drains_uploads_and_sets_them_against_the_ceiling():
    if shutil.which("redis-server") is None:
        pytest.fail("the benchmark needs redis-server on PATH (apt-get install redis-server)")
    prefix = f"{connection.settings_dict['NAME']}_bench"
    env = {**os.environ, "WXL_BENCH_DATABASE": prefix}
    argv = [
        sys.executable, "benchmarks/bench_shipping.py", "--uploads", "40", "--latencies", "0",
        "--compare", "--deadline", "240",
    ]  # fmt: skip
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert any(line.startswith("shipping information: throughput at  0 ms: pipeline") for line in lines)
    assert any(line.startswith("trace events, one a waybill: throughput at  0 ms") for line in lines)
    results = json.loads(done.stdout[done.stdout.index("\n{") :])
    for kind in ("shipping", "trace"):
        (run,) = results[f"{kind}_latency_0ms"]
        assert run["pipeline"] > 0 and run["ceiling"] > 0
        assert run["ratio"] == pytest.approx(run["pipeline"] / run["ceiling"])
    assert results["shop_cost"]["queries"] > 0 and results["shop_cost"]["savepoints"] > 0
    for kind in ("shipping", "trace"):
        assert set(results[f"{kind}_latency_0ms"][0]["cpu_ms"]) == {"worker", "sandbox", "database"}
    assert f"{prefix}_shipping" not in _databases()

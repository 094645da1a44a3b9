"""The real Celery worker (and beat) the end-to-end tests push through, on its own redis-server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from tests.pipeline.processes import (
    ROOT,
    Process,
    celery_argv,
    free_port,
    redis_server,
    running,
    wait_for_log,
    wait_for_port,
)


def database_url() -> str:
    """The test database's URL, for the worker processes that share it."""
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


def use_broker(app: Any, url: str) -> None:
    """Make this process's Celery app publish to ``url``."""
    # Fresh connection and producer pools, built from the new URL on first use.
    app.conf.broker_url = url
    app._pool = None
    app.amqp._producer_pool = None


@contextmanager
def celery_worker(sandbox_url: str, log_dir: Path, *, beat: bool = False) -> Iterator[Process]:
    """redis-server and one Celery worker on it (given to the block, for its log), calling the
    sandbox at ``sandbox_url`` (with ``beat``, Celery beat too: the sweeper every second);
    inside, this process publishes to the same broker. Every process is stopped by its pid on
    the way out."""
    from django_wxlogistics.tasks import push_trace_event

    if connection.vendor != "postgresql":
        pytest.fail("this test needs PostgreSQL: the worker shares the test database")
    port = free_port()
    broker = f"redis://127.0.0.1:{port}/0"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.pipeline.worker_settings",
        "DATABASE_URL": database_url(),
        "WXL_BROKER_URL": broker,
        "WXL_API_BASE_URL": sandbox_url,
        "WXL_SWEEP_INTERVAL": "1",
        "PYTHONPATH": str(ROOT),
    }
    worker = celery_argv("worker", "-P", "solo", "-l", "INFO", "--without-gossip", "--without-mingle")
    app = push_trace_event.app
    old_broker = app.conf.broker_url
    started: list[Process] = []
    with running(started):
        started.append(redis_server(port, log_dir).start())
        wait_for_port(port)
        started.append(Process("worker", worker, env, log_dir).start())
        wait_for_log(started[-1], "ready.")
        worker_process = started[-1]
        if beat:
            argv = celery_argv("beat", "-l", "INFO", "-s", str(log_dir / "beat-schedule"))
            started.append(Process("beat", argv, env, log_dir).start())
        use_broker(app, broker)
        try:
            yield worker_process
        finally:
            app.pool.force_close_all()
            use_broker(app, old_broker)

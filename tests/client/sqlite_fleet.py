"""A shop on a SQLite file database, run by tests/client/test_tokens.py in a process of its own.

The test suite's database is PostgreSQL; this script configures Django with SQLite instead,
migrates, and plays one scenario against the WeChat at ``url``. It prints one JSON line.

    python -m tests.client.sqlite_fleet '{"url": ..., "database": ..., "appid": ..., "secret": ...,
                                          "scenario": "race" | "held", ...}'

``race``: ``processes`` forked processes with no stored token push at the same moment.
``held``: another connection holds SQLite's write lock while a push needs a token.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import sqlite3
import sys
import time
from datetime import datetime, timezone
from typing import Any

PUSH = ("SF1", 1533052800, 100001, "picked up")


def setup(options: dict[str, Any]) -> None:
    import django
    from django.conf import settings

    settings.configure(
        INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "django_wxlogistics"],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": options["database"]}},
        USE_TZ=True,
        WXLOGISTICS={
            "APPID": options["appid"],
            "APPSECRET": options["secret"],
            "API_BASE_URL": options["url"],
            "ACCESS_TOKEN": options.get("mode", "stable"),
            "TIMEOUT": options.get("timeout", (3.05, 5.0)),
        },
        LOGGING_CONFIG=None,
    )
    # Every record reaches stderr, where the test looks for secrets.
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(name)s %(levelname)s %(message)s")
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def outcome(call: Any) -> dict[str, Any]:
    started = time.monotonic()
    try:
        call()
    except Exception as exc:
        return {
            "ok": False,
            "error": type(exc).__name__,
            "retryable": getattr(exc, "retryable", None),
            "message": str(exc),
            "seconds": time.monotonic() - started,
        }
    return {"ok": True, "seconds": time.monotonic() - started}


def push(waybill_token: str) -> None:
    from django_wxlogistics.client import get_client

    get_client().update_path(waybill_token, *PUSH)


def member(barrier: Any, results: Any, waybill_token: str) -> None:
    from django.db import connections

    from django_wxlogistics.client import get_client, reset_client

    reset_client()
    get_client()
    barrier.wait(timeout=60)
    results.put(outcome(lambda: push(waybill_token)))
    connections.close_all()


def race(options: dict[str, Any]) -> dict[str, Any]:
    from django.db import connections

    connections.close_all()  # children must not inherit an open connection
    context = multiprocessing.get_context("fork")
    count = options["processes"]
    barrier, results = context.Barrier(count), context.Queue()
    arguments = (barrier, results, options["waybill_token"])
    members = [context.Process(target=member, args=arguments) for _ in range(count)]
    for process in members:
        process.start()
    outcomes = [results.get(timeout=120) for _ in members]
    for process in members:
        process.join(timeout=30)
    return {"outcomes": outcomes, "exitcodes": [p.exitcode for p in members]}


def held(options: dict[str, Any]) -> dict[str, Any]:
    from django.db import connections

    from django_wxlogistics.client import get_client

    def while_locked(call: Any) -> dict[str, Any]:
        other = sqlite3.connect(options["database"], isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # another process, in the middle of its fetch
        try:
            return outcome(call)
        finally:
            other.execute("ROLLBACK")
            other.close()

    report = {"no_row": while_locked(lambda: push(options["waybill_token"]))}
    report["after_release"] = outcome(lambda: push(options["waybill_token"]))
    from django_wxlogistics.models import AccessToken

    AccessToken.objects.update(expires_at=datetime(2000, 1, 1, tzinfo=timezone.utc))
    connections.close_all()
    from django_wxlogistics.client import reset_client

    reset_client()
    get_client()
    report["expired"] = while_locked(lambda: push(options["waybill_token"]))
    report["after_second_release"] = outcome(lambda: push(options["waybill_token"]))
    return report


def main() -> None:
    options = json.loads(sys.argv[1])
    setup(options)
    scenario = {"race": race, "held": held}[options["scenario"]]
    print(json.dumps(scenario(options)), flush=True)


if __name__ == "__main__":
    main()

"""The pipeline on a production-shaped table, against a fresh table, in the same run.

A shop's table after a few months: a million trace events already sent, ``VACUUM ANALYZE``
run while nothing was pending (so the statistics say "nothing pending"), then a burst of
new events, before autovacuum counts it (at a million rows it waits for 100,000 changes).
Stale statistics must not change any statement's plan. The benchmark builds both tables
itself, each in a PostgreSQL database of its own (the history with ``INSERT … SELECT
generate_series``), and prints, for each:

* the drain of a backlog of ``WXL_BENCH_BACKLOG`` events over ``WXL_BENCH_WAYBILLS``
  waybills by a real Celery worker (``-P prefork -c 2``, ``PUSH_CONCURRENCY`` 16) against
  the sandbox over real HTTP, at 0 ms and 50 ms latency, as a ratio of the bare-HTTP
  ceiling measured just before it (a ``requests`` pool of 32 threads, as in
  ``bench_pipeline.py``);
* each statement of the pipeline, on both paths (PostgreSQL's own statements and the
  portable ORM path): run by the package's own functions on the same backlog, captured,
  then timed again (best of ``WXL_BENCH_ROUNDS`` runs, each rolled back) and explained
  (``EXPLAIN (ANALYZE, BUFFERS)``): the claim, the settle after successes and after
  failures, the drain's claim, the sweep, the due heads of a task's lines; and every query
  of the admin's lists (``ADMIN_PAGES``, opened through Django's test client). Then, in a
  process of its own, the ORM path's queries and the admin's on SQLite at both sizes
  (``WXL_BENCH_SQLITE=0``: not).

The two tables take turns, ``WXL_BENCH_REPEAT`` times each (the machines are shared: a
statement's time is its best over the turns; the drain ratios are printed turn by turn,
then the median rates against the median ceiling of the run). Sizes come from the
environment: ``WXL_BENCH_HISTORY`` (sent events, 1,000,000), ``WXL_BENCH_BACKLOG`` (2,000),
``WXL_BENCH_WAYBILLS`` (200). ``WXL_BENCH_DATABASE`` prefixes the two databases' names
(created and dropped here), ``WXL_BENCH_PATH=orm`` runs the worker on the ORM path and
``WXL_BENCH_DRAIN=1`` with ``PUSH_DRAIN`` on.

    python benchmarks/bench_production.py [--plans docs/plans] [--statements-only]
    WXL_BENCH_HISTORY=20000 WXL_BENCH_REPEAT=1 python benchmarks/bench_production.py   # quick
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.ceiling import (  # noqa: E402
    CONCURRENCY,
    accepted_times,
    bench_env,
    ceiling_throughput,
    server_sql,
    start_services,
    start_worker,
    wait_sent,
    worker_argv,
)
from tests.pipeline.processes import Process, free_port, running  # noqa: E402

HISTORY = int(os.environ.get("WXL_BENCH_HISTORY", "1000000"))
BACKLOG = int(os.environ.get("WXL_BENCH_BACKLOG", "2000"))
WAYBILLS = int(os.environ.get("WXL_BENCH_WAYBILLS", "200"))
ROUNDS = int(os.environ.get("WXL_BENCH_ROUNDS", "9"))
REPEAT = int(os.environ.get("WXL_BENCH_REPEAT", "2"))
PREFIX = os.environ.get("WXL_BENCH_DATABASE", "wxl_bench_production")
DATABASES = {"fresh": f"{PREFIX}_fresh", "history": f"{PREFIX}_history"}
DRAIN = os.environ.get("WXL_BENCH_DRAIN") == "1"
#: The worker's path: PostgreSQL's own statements, or the portable ORM path ("orm").
WORKER_PATH = "orm" if os.environ.get("WXL_BENCH_PATH") == "orm" else "statements"
PATHS = ("statements", "orm")
SIZES = ("fresh", "history")
#: Sent events per waybill of history: a parcel's few steps.
HISTORY_PER_WAYBILL = 5
#: One event of history in this many failed for good.
FAILED_EVERY = 10_000
#: As in bench_pipeline: 2 worker processes × PUSH_CONCURRENCY 16 = the ceiling's 32 threads.
WORKER_SLOTS = 2
PUSH_CONCURRENCY = CONCURRENCY // WORKER_SLOTS
_runs = iter(range(1_000_000))


def _drop_databases() -> None:
    for name in DATABASES.values():
        server_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _use(size: str) -> None:
    """Point this process's connections at the ``size`` table's database."""
    from django.db import connections

    connections.close_all()
    connections.settings["default"]["NAME"] = DATABASES[size]


# -- the shapes ------------------------------------------------------------------------------


def _tables() -> tuple[str, str]:
    from django_wxlogistics.models import TraceEvent, Waybill

    return TraceEvent._meta.db_table, Waybill._meta.db_table


_EVENT_COLUMNS = """(waybill_id, action_type, action_msg, action_time, state, attempts, next_attempt_at,
                     lease_expires_at, last_errcode, last_errmsg, sent_at, created_at, updated_at)"""
_WAYBILL_COLUMNS = "(waybill_id, token, order_id, latest_action_type, created_at, updated_at{more})"


def _other_columns(model: Any, given: str) -> tuple[str, str, list[Any]]:
    """The model's columns not in ``given`` that take neither NULL nor a database default:
    as ``, a, b``, their placeholders as ``, %s, %s``, and the model's defaults for them."""
    from django.db.models import NOT_PROVIDED

    names = {name.strip(" ()\n") for name in given.replace("{more}", "").split(",")}
    fields = [
        f
        for f in model._meta.concrete_fields
        if not f.primary_key and not f.null and f.db_default is NOT_PROVIDED and f.column not in names
    ]
    columns = "".join(f", {f.column}" for f in fields)
    return columns, ", %s" * len(fields), [f.get_default() for f in fields]


def _series(count_sql: str) -> str:
    """A FROM item of the integers 0 … count - 1, as column ``n``."""
    from django.db import connection

    if connection.vendor == "postgresql":
        return f"generate_series(0, {count_sql} - 1) AS s(n)"
    step = f"SELECT n + 1 FROM s WHERE n + 1 < {count_sql}"  # noqa: S608
    return f"(WITH RECURSIVE s(n) AS (SELECT 0 UNION ALL {step}) SELECT n FROM s) AS s"  # noqa: S608


def _plus_seconds(seconds: str) -> str:
    """A timestamp parameter plus ``seconds`` (an SQL expression), as the database stores it."""
    from django.db import connection

    if connection.vendor == "postgresql":
        return f"(%s::timestamptz + ({seconds}) * interval '1 second')"
    return f"strftime('%%Y-%%m-%%d %%H:%%M:%%f', %s, '+' || ({seconds}) || ' seconds')"


def _stamp(moment: datetime) -> Any:
    """``moment`` as a parameter of the SQL above (SQLite: the text Django stores, in UTC)."""
    from django.db import connection

    if connection.vendor == "postgresql":
        return moment
    return str(moment.astimezone(UTC).replace(tzinfo=None))


def _waybill_defaults() -> tuple[str, str, list[Any]]:
    from django_wxlogistics.models import Waybill

    return _other_columns(Waybill, _WAYBILL_COLUMNS)


def add_history(count: int) -> float:
    """Add ``count`` sent events over ``count / HISTORY_PER_WAYBILL`` waybills, months old,
    then ``VACUUM ANALYZE`` while nothing is pending; returns the seconds it took."""
    from django.db import connection

    events, waybills = _tables()
    started = time.perf_counter()
    back = _stamp(datetime.now(UTC) - timedelta(days=90))
    more, placeholders, defaults = _waybill_defaults()
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO "{waybills}" {_WAYBILL_COLUMNS.format(more=more)}
            SELECT 'H' || n, 't' || n, 'HO' || n, 300003, %s, %s{placeholders} FROM {_series("%s")}""",  # noqa: S608
            [back, back, *defaults, max(1, count // HISTORY_PER_WAYBILL)],
        )
        # Each waybill's steps three hours apart, the waybills spread over three months.
        at = _plus_seconds("w.id * 30 + s.n * 10800")
        cursor.execute(
            f"""
            INSERT INTO "{events}" {_EVENT_COLUMNS}
            SELECT w.id, CASE s.n WHEN 0 THEN 100001 WHEN 3 THEN 300002 WHEN 4 THEN 300003 ELSE 200001 END,
                   'step ' || s.n, {at}, 'sent', 1, {at}, NULL, NULL, '', {at}, {at}, {at}
              FROM "{waybills}" AS w CROSS JOIN {_series("%s")}
             WHERE w.waybill_id LIKE 'H%%'
             LIMIT %s""",  # noqa: S608
            [back] * 5 + [HISTORY_PER_WAYBILL, count],
        )
        # One in FAILED_EVERY failed for good, as WeChat refuses a few (the admin's failed lists).
        cursor.execute(
            f"""
            UPDATE "{events}" SET state = 'failed', sent_at = NULL, last_errcode = 40199,
                   last_errmsg = 'waybill not found' WHERE id %% %s = 0""",  # noqa: S608
            [FAILED_EVERY],
        )
        if connection.vendor == "postgresql":
            cursor.execute(f'VACUUM ANALYZE "{waybills}"')
            cursor.execute(f'VACUUM ANALYZE "{events}"')
        else:
            cursor.execute("ANALYZE")
    return time.perf_counter() - started


def insert_backlog(count: int, waybill_count: int) -> list[int]:
    """The backlog as one INSERT (no nudge): pending, due, in line order; its waybills' pks."""
    from django.db import connection

    events, waybills = _tables()
    run = next(_runs)
    hour_ago = _stamp(datetime.now(UTC) - timedelta(hours=1))
    more, placeholders, defaults = _waybill_defaults()
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO "{waybills}" {_WAYBILL_COLUMNS.format(more=more)}
            SELECT 'S{run}W' || n, 't' || n, 'SO' || n, NULL, %s, %s{placeholders} FROM {_series("%s")}
            RETURNING id""",  # noqa: S608
            [hour_ago, hour_ago, *defaults, waybill_count],
        )
        pks = sorted(row[0] for row in cursor.fetchall())
        cursor.execute(
            f"""
            INSERT INTO "{events}" {_EVENT_COLUMNS}
            SELECT w.id, 200001, 'step ' || s.n, {_plus_seconds("s.n")}, 'pending', 0, %s, NULL, NULL, '',
                   NULL, %s, %s
              FROM {_series("%s")} CROSS JOIN "{waybills}" AS w
             WHERE w.waybill_id LIKE 'S{run}W%%'
             LIMIT %s""",  # noqa: S608
            [hour_ago, hour_ago, hour_ago, hour_ago, -(-count // waybill_count), count],
        )
    return pks


# -- the statements -----------------------------------------------------------------------------


class Captured:
    """The SQL a block of the package's own code ran, with its parameters."""

    def __init__(self) -> None:
        self.queries: list[tuple[str, Any]] = []

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if not sql.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            self.queries.append((sql, params))
        return execute(sql, params, many, context)


@contextmanager
def capture() -> Iterator[Captured]:
    from django.db import connection

    captured = Captured()
    with connection.execute_wrapper(captured):
        yield captured


@contextmanager
def savepoint() -> Iterator[None]:
    """Run a block and undo what it did."""
    from django.db import transaction

    sid = transaction.savepoint()
    try:
        yield
    finally:
        transaction.savepoint_rollback(sid)


def _time(sql: str, params: Any) -> float:
    """The best milliseconds of ``sql`` over ROUNDS runs, each rolled back."""
    from django.db import connection

    samples = []
    for _ in range(ROUNDS):
        with savepoint(), connection.cursor() as cursor:
            started = time.perf_counter()
            cursor.execute(sql, params)
            if cursor.description is not None:
                cursor.fetchall()
            samples.append((time.perf_counter() - started) * 1000)
    return min(samples)


def _plan(sql: str, params: Any) -> str:
    from django.db import connection

    with savepoint(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            return "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        return "\n".join(row[-1] for row in cursor.fetchall())


def _replay(queries: list[tuple[str, Any]]) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for sql, params in queries:
            cursor.execute(sql, params)


def _shape(sql: str) -> str:
    """``sql`` with its lists of placeholders folded: the same query for any list's length."""
    return re.sub(r"%s(?:, %s)+", "%s…", sql)


def _statements(steps: list[tuple[str | None, Callable[[], object]]], found: dict[str, Any]) -> None:
    """Run ``steps`` (a label, or None for a step that only sets the scene; the package's own
    code) in turn, capturing their SQL, then time and explain each distinct query of the
    labelled steps in the state the queries before it left."""
    captured: list[tuple[str | None, list[tuple[str, Any]]]] = []
    with savepoint():
        for label, step in steps:
            with capture() as queries:
                step()
            captured.append((label, queries.queries))
    before: list[tuple[str, Any]] = []
    for label, queries in captured:
        shapes = [_shape(sql) for sql, _ in queries]
        distinct = list(dict.fromkeys(shapes))
        for n, (sql, params) in enumerate(queries):
            # One UPDATE an event, say: the first of them stands for the others.
            if label is None or shapes.index(shapes[n]) != n:
                continue
            title = label if len(distinct) == 1 else f"{label} ({distinct.index(shapes[n]) + 1})"
            with savepoint():
                _replay(before + queries[:n])
                ms = _time(sql, params)
                plan = _plan(sql, params)
            found[title] = {"ms": ms, "sql": sql, "plan": plan}
        before += queries


def measure_statements(path: str) -> dict[str, Any]:
    """Each pipeline statement of ``path`` ("statements": PostgreSQL's own, or "orm": the
    portable path) on a backlog of BACKLOG events, in a transaction rolled back."""
    from django.db import connection, transaction
    from django.utils import timezone

    from django_wxlogistics import delivery
    from django_wxlogistics.delivery import TRACE_EVENTS, storage
    from django_wxlogistics.enums import EventState
    from django_wxlogistics.exceptions import WaybillNotFound
    from django_wxlogistics.models import TraceEvent

    storage.STATEMENTS = path == "statements"
    kind = TRACE_EVENTS
    found: dict[str, Any] = {}
    with transaction.atomic():
        waybill_pks = insert_backlog(BACKLOG, WAYBILLS)
        width = delivery.message_size()
        # One message's worth of waybills, by their first events.
        firsts: dict[int, int] = {}
        for line, pk in (
            TraceEvent.objects.filter(waybill_id__in=waybill_pks[:width], state=EventState.PENDING)
            .order_by("waybill_id", "action_time", "pk")
            .values_list("waybill_id", "pk")
        ):
            firsts.setdefault(line, pk)
        heads = list(firsts.values())
        leased: list[Any] = []

        def claim() -> None:
            leased[:] = delivery.claim_many(kind, heads)
            assert leased, "nothing claimed"

        def chain_ends(last: bool) -> list[Any]:
            """The first (or last) event of PUSH_CONCURRENCY chains: one round of calls."""
            ends: dict[int, Any] = {}
            for c in leased:
                if last or c.item.waybill_id not in ends:
                    ends[c.item.waybill_id] = c
            return list(ends.values())[:PUSH_CONCURRENCY]

        def chains_under_way() -> None:
            # Every event of the chains but their last came back and is recorded.
            lasts = chain_ends(last=True)
            delivery.settle(kind, [(c, None) for c in leased if c not in lasts])

        def successes() -> None:
            # The chains' last events come back: their lines' next events are leased.
            done = chain_ends(last=True)
            delivery.settle(kind, [(c, None) for c in done], room=len(done), drain=DRAIN)

        def failures() -> None:
            # WeChat refused the chains' first events for good (a retry's backoff would
            # make what follows depend on the clock); the rest of each chain comes back
            # untried, as the calling threads report it, and the lines move on.
            done = chain_ends(last=False)
            lines = {c.item.waybill_id for c in done}
            untried = [c for c in leased if c not in done and c.item.waybill_id in lines]
            error = WaybillNotFound(errcode=40199, errmsg="waybill not found")
            results = [(c, error) for c in done] + [(c, delivery.Outcome.RELEASED) for c in untried]
            delivery.settle(kind, results, room=len(done), drain=DRAIN)

        def expire() -> None:
            past = timezone.now() - timedelta(minutes=5)
            TraceEvent.objects.filter(pk__in=[c.item.pk for c in leased[:16]]).update(lease_expires_at=past)

        _statements([("claim", claim), (None, chains_under_way), ("settle, successes", successes)], found)
        _statements([(None, claim), ("settle, failures", failures)], found)
        _statements([("claim_due (drain)", lambda: delivery.claim_due(kind, width))], found)
        _statements(
            [
                (None, claim),
                (None, expire),
                ("sweep: expired leases", lambda: delivery.reclaim_expired_leases(kind)),
                ("sweep: due heads of line", lambda: delivery.due_head_ids(kind, quiet_for=1.0)),
            ],
            found,
        )
        # What a task leaves to nudge: the due heads of the lines it held.
        lines = waybill_pks[:width]
        _statements(
            [("due heads of given lines", lambda: delivery.due_head_ids(kind, line_pks=lines))], found
        )
        if path == "statements" or connection.vendor != "postgresql":  # the admin once a database
            admin_pages(found)
        transaction.set_rollback(True)
    storage.STATEMENTS = True
    return found


#: The admin's lists as staff open them (under ``/admin/django_wxlogistics/``); ``{year}``
#: and ``{month}``: a month of the history.
ADMIN_PAGES = {
    "waybill list": "waybill/",
    "waybills with failed events": "waybill/?has_failed=yes",
    "waybills without failed events": "waybill/?has_failed=no",
    "trace event list": "traceevent/",
    "pending trace events": "traceevent/?state__exact=pending",
    "failed trace events": "traceevent/?state__exact=failed",
    "trace events of a month": "traceevent/?action_time__year={year}&action_time__month={month}",
}


def _admin_query(sql: str) -> str:
    """What a query of an admin list is for, from its text."""
    text = sql.upper()
    if "MIN(" in text and "MAX(" in text:
        return "date range"
    if re.search(r"LIMIT 1\s*$", text):
        return "first or last date"
    if "DATE_TRUNC" in text or "DJANGO_DATETIME_TRUNC" in text:
        return "dates"
    if "COUNT(*)" in text:
        return "count"
    if "DISTINCT" in text:
        return "errcode choices"
    if "GROUP BY" in text:
        return "delivery health"
    return "rows"


def _health_shapes() -> set[str]:
    """The queries of the pipeline's health figures, which the waybill list shows above it."""
    try:
        from django_wxlogistics import health
    except ImportError:
        return set()
    with capture() as captured:
        health.collect()
    return {_shape(sql) for sql, _ in captured.queries}


def admin_pages(found: dict[str, Any]) -> None:
    """Every query the admin's lists run on the package's tables, each page as staff open it."""
    from django.contrib.auth.models import User
    from django.test import Client
    from django.utils import timezone

    user = User.objects.create_superuser(f"bench{next(_runs)}", password="-")
    client = Client()
    client.force_login(user)
    month = timezone.localtime() - timedelta(days=60)
    health = _health_shapes()
    for name, page in ADMIN_PAGES.items():
        url = "/admin/django_wxlogistics/" + page.format(year=month.year, month=month.month)
        with capture() as captured:
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
        ours = [(sql, params) for sql, params in captured.queries if "django_wxlogistics_" in sql]
        found[f"admin: {name}: queries"] = {"ms": 0.0, "sql": "", "plan": "", "count": len(ours)}
        seen: dict[str, int] = {}
        for sql, params in ours:
            what = "pipeline health" if _shape(sql) in health else _admin_query(sql)
            seen[what] = seen.get(what, 0) + 1
            title = f"admin: {name}: {what}" + (f" ({seen[what]})" if seen[what] > 1 else "")
            found[title] = {"ms": _time(sql, params), "sql": sql, "plan": _plan(sql, params)}


# -- the drain ------------------------------------------------------------------------------------


def record_backlog(count: int, waybill_count: int) -> tuple[set[int], float]:
    """Record ``count`` events over ``waybill_count`` waybills as the shop does, in one
    transaction; their ids and the moment the commit began."""
    from django.db import transaction
    from django.utils import timezone

    from django_wxlogistics.models import Waybill
    from django_wxlogistics.services import record_trace_event

    run = next(_runs)
    start = timezone.now() - timedelta(hours=1)
    ids: set[int] = set()
    with transaction.atomic():
        waybills = Waybill.objects.bulk_create(
            Waybill(waybill_id=f"D{run}W{i:05d}", token=f"t{i}", order_id=f"DO{i}")
            for i in range(waybill_count)
        )
        for n in range(count):
            step = n // waybill_count
            waybill = waybills[n % waybill_count]
            event = record_trace_event(waybill, 200001, f"step {step + 1}", start + timedelta(seconds=step))
            ids.add(event.pk)
        committing = time.time()
    return ids, committing


def drain(control: Any, latency: float) -> float:
    """Events per second from the backlog's commit to the last accepted by the sandbox."""
    control.reset()
    warm, _ = record_backlog(4 * CONCURRENCY, 2 * CONCURRENCY)  # tokens, after the reset
    wait_sent(warm)
    control.set_faults(latency_ms=latency)
    ids, started = record_backlog(BACKLOG, WAYBILLS)
    wait_sent(ids)
    times = accepted_times(control)
    assert len(times) >= len(ids) + len(warm), (len(times), len(ids))
    return len(ids) / (max(times) - started)


def measure_drains(url: str, control: Any) -> dict[str, Any]:
    found = {}
    for latency in (0, 50):
        ceiling = ceiling_throughput(url, control, BACKLOG, latency)
        pipeline = drain(control, latency)
        found[f"{latency}ms"] = {"pipeline": pipeline, "ceiling": ceiling, "ratio": pipeline / ceiling}
    return found


def _worker_argv() -> list[str]:
    argv = worker_argv("prefork", WORKER_SLOTS)
    if WORKER_PATH == "statements":
        return argv
    # The portable path on PostgreSQL: the storage switch is set before the pool forks.
    start = (
        "import sys, django; django.setup(); from django_wxlogistics.delivery import storage; "
        "storage.STATEMENTS = False; from celery.__main__ import main; sys.argv[0] = 'celery'; main()"
    )
    return [sys.executable, "-c", start, *argv[argv.index("-A") :]]


@contextmanager
def worker(size: str, env: dict[str, str], log_dir: Path) -> Iterator[None]:
    """A worker and beat on the ``size`` table's database, for the time of the block."""
    env = {**env, "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DATABASES[size]}"}
    started: list[Process] = []
    with running(started):
        start_worker(started, _worker_argv(), env, log_dir, suffix=f"-{size}-{next(_runs)}")
        yield


# -- the run -------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--plans", type=Path, default=None, help="write each statement's plan here")
    parser.add_argument("--statements-only", action="store_true", help="no worker, no drain")
    parser.add_argument("--sqlite", action="store_true", help="only the ORM path's queries, on SQLite")
    args = parser.parse_args()
    if args.sqlite:
        return sqlite_main(args.plans)

    redis_port, sandbox_port = free_port(), free_port()
    url = f"http://127.0.0.1:{sandbox_port}"
    env = bench_env(DATABASES["fresh"], redis_port, url, PUSH_CONCURRENCY, DRAIN)
    os.environ.update(env)
    _drop_databases()
    server_sql(f'CREATE DATABASE "{DATABASES["fresh"]}"')
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    server_sql(f'CREATE DATABASE "{DATABASES["history"]}" TEMPLATE "{DATABASES["fresh"]}"')
    log_dir = Path(tempfile.mkdtemp(prefix="wxl-bench-"))
    started: list[Process] = []
    results: dict[str, Any] = {
        "sizes": {"history": HISTORY, "backlog": BACKLOG, "waybills": WAYBILLS},
        "worker": {"path": WORKER_PATH, "drain": DRAIN},
        "drain": {"fresh": [], "history": []},
        "statements": {"fresh": {}, "history": {}},
    }
    try:
        with running(started):
            start_services(started, env, log_dir, redis_port, sandbox_port)
            _setup()
            from django_wxlogistics.sandbox import SandboxControl

            control = SandboxControl(url)
            _use("history")
            seconds = add_history(HISTORY)
            print(f"history: {HISTORY:,} sent events added and analyzed in {seconds:.1f} s", flush=True)
            for turn in range(REPEAT):
                for size in SIZES:
                    _use(size)
                    for path in PATHS:
                        _keep_best(results["statements"][size].setdefault(path, {}), measure_statements(path))
                    if args.statements_only:
                        continue
                    with worker(size, env, log_dir):
                        figures = measure_drains(url, control)
                    results["drain"][size].append(figures)
                    print(f"turn {turn + 1}, {size} table: {_ratios(figures)}", flush=True)
            report(results)
            if args.plans:
                write_plans(results, args.plans)
    finally:
        from django.db import connections

        connections.close_all()
        _drop_databases()
    _print_json(results)
    if os.environ.get("WXL_BENCH_SQLITE") != "0":
        # The portable path on another database, in a process of its own.
        argv = [sys.executable, __file__, "--sqlite", *(["--plans", str(args.plans)] if args.plans else [])]
        return subprocess.call(argv, cwd=ROOT)
    return 0


def sqlite_main(plans: Path | None) -> int:
    """The ORM path's queries on SQLite, a fresh table against the production shape (the
    history analyzed while nothing was pending): what the other databases run."""
    import shutil

    folder = Path(tempfile.mkdtemp(prefix="wxl-bench-sqlite-"))
    DATABASES.update({size: str(folder / f"{size}.sqlite3") for size in DATABASES})
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.pipeline.worker_settings",
        "DATABASE_URL": f"sqlite:///{DATABASES['fresh']}",
        "WXL_BROKER_URL": "memory://",
        "WXL_API_BASE_URL": "http://127.0.0.1:9",
        "WXL_PUSH_CONCURRENCY": str(PUSH_CONCURRENCY),
        "CI": "",
    }
    os.environ.update(env)
    results: dict[str, Any] = {"statements": {"fresh": {}, "history": {}}}
    try:
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
        shutil.copy(DATABASES["fresh"], DATABASES["history"])
        _setup()
        _use("history")
        seconds = add_history(HISTORY)
        print(f"SQLite: {HISTORY:,} sent events added and analyzed in {seconds:.1f} s", flush=True)
        for _ in range(REPEAT):
            for size in SIZES:
                _use(size)
                _keep_best(results["statements"][size].setdefault("orm", {}), measure_statements("orm"))
        _report_statements(results, "orm", "orm on SQLite:")
        if plans:
            write_plans(results, plans, suffix="-sqlite")
    finally:
        from django.db import connections

        connections.close_all()
        shutil.rmtree(folder, ignore_errors=True)
    _print_json(results)
    return 0


def _print_json(results: dict[str, Any]) -> None:
    for by_path in results["statements"].values():
        for path, found in by_path.items():
            by_path[path] = {
                name: figures.get("count", round(figures["ms"], 2)) for name, figures in found.items()
            }
    print(json.dumps(results, indent=1))


def _setup() -> None:
    import logging

    import django

    django.setup()
    # The failures and reclaims the statements' scenes record on purpose are not news.
    logging.getLogger("django_wxlogistics").setLevel(logging.CRITICAL)
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections
    from django.test.utils import setup_test_environment

    setup_test_environment()  # the admin's test client: "testserver" is an allowed host
    # The admin's pages run inside the measuring transaction: keep its connection.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)


def _keep_best(best: dict[str, Any], found: dict[str, Any]) -> None:
    for name, figures in found.items():
        if name not in best or figures["ms"] < best[name]["ms"]:
            best[name] = figures


def _ratios(figures: dict[str, Any]) -> str:
    return ", ".join(
        f"{latency}: {f['ratio']:.2f} of the ceiling ({f['pipeline']:.0f} of {f['ceiling']:.0f} events/s)"
        for latency, f in figures.items()
    )


def report(results: dict[str, Any]) -> None:
    if results["drain"]["history"]:
        for latency in ("0ms", "50ms"):
            turns = {size: [turn[latency] for turn in results["drain"][size]] for size in SIZES}
            ratios = {size: [f["ratio"] for f in figures] for size, figures in turns.items()}
            print(
                f"drain of {BACKLOG:,} events over {WAYBILLS} waybills ({WORKER_PATH}) at {latency}, "
                f"each against the ceiling measured before it: fresh table {_span(ratios['fresh'])}, "
                f"with {HISTORY:,} of history {_span(ratios['history'])}",
                flush=True,
            )
            # The ceiling (one Python process, 32 threads) moves most with the machine's load:
            # both tables' rates against the median of every ceiling of the run.
            ceiling = statistics.median(f["ceiling"] for figures in turns.values() for f in figures)
            rate = {size: statistics.median(f["pipeline"] for f in turns[size]) for size in SIZES}
            fresh, prod = rate["fresh"] / ceiling, rate["history"] / ceiling
            print(
                f"  medians against the run's median ceiling ({ceiling:.0f} events/s): fresh {fresh:.2f}, "
                f"history {prod:.2f}, difference {prod - fresh:+.2f} (goal ≥ -0.05)",
                flush=True,
            )
    for path in PATHS:
        _report_statements(results, path, f"{path} on PostgreSQL:")


def _report_statements(results: dict[str, Any], path: str, title: str) -> None:
    fresh, prod = results["statements"]["fresh"][path], results["statements"]["history"][path]
    width = max(len(name) for name in [*fresh, title])
    print(f"\n{title:<{width}}  {'fresh':>9}  {'history':>9}  ratio (goal ≤ 1.5)")
    for name in fresh:
        if "count" in fresh[name]:  # an admin page's number of queries
            a, b = fresh[name]["count"], prod.get(name, {}).get("count", "?")
            print(f"{name:<{width}}  {a:>9}  {b:>9}", flush=True)
            continue
        a, b = fresh[name]["ms"], prod.get(name, {}).get("ms", float("nan"))
        # The admin's goal is a few milliseconds at any size, not a ratio to a few hundred rows.
        ratio = "" if name.startswith("admin:") else f"  {b / a:5.2f}"
        print(f"{name:<{width}}  {a:6.2f} ms  {b:6.2f} ms{ratio}", flush=True)


def _span(values: list[float]) -> str:
    low, high = min(values), max(values)
    return f"{low:.2f}" if f"{low:.2f}" == f"{high:.2f}" else f"{low:.2f}–{high:.2f}"


def write_plans(results: dict[str, Any], folder: Path, suffix: str = "") -> None:
    """One file a path and table: each statement's SQL, its best time and its plan."""
    folder.mkdir(parents=True, exist_ok=True)
    shape = {
        "fresh": f"a fresh table, never analyzed; {BACKLOG:,} pending events over {WAYBILLS} waybills",
        "history": f"{HISTORY:,} sent events, VACUUM ANALYZE while none was pending; "
        f"then {BACKLOG:,} pending events over {WAYBILLS} waybills",
    }
    for size, by_path in results["statements"].items():
        for path, found in by_path.items():
            groups = {path: {k: v for k, v in found.items() if not k.startswith("admin")}}
            groups["admin"] = {k: v for k, v in found.items() if k.startswith("admin")}
            for group, entries in groups.items():
                if not entries:
                    continue
                head = f"# {group}{suffix}: {shape[size]}"
                lines = [head, f"# time: the best of {ROUNDS} runs, each rolled back", ""]
                for name, figures in entries.items():
                    if "count" in figures:
                        lines += [f"## {name}: {figures['count']}", ""]
                        continue
                    lines += [f"## {name}: {figures['ms']:.2f} ms", "", figures["sql"].strip(), ""]
                    lines += [figures["plan"], ""]
                (folder / f"{group}{suffix}-{size}.txt").write_text("\n".join(lines))
    print(f"plans written to {folder}")


if __name__ == "__main__":
    sys.exit(main())

"""How a nudge reaches the broker: after the commit, one try, at most NUDGE_TIMEOUT of the caller's time.

A nudge is sent after the shop's commit (:func:`nudge_on_commit`, one for each transaction),
inside its request: whatever the broker does (refuses, accepts and stays silent, drops
connection attempts, answers slowly), the caller is back within :data:`NUDGE_TIMEOUT` and the
event stays pending for the sweeper.

Two bounds make it so. The nudge's own broker connection has socket, connect and read timeouts
of at most :data:`NUDGE_TIMEOUT` (the shop's Celery settings and the worker's connections are
left as they are), and no publish retries. And the publish runs on one thread per process that
the caller waits for at most :data:`NUDGE_TIMEOUT`: a backstop for a transport that ignores its
timeouts, and the bound of the whole publish, which takes several calls to the broker.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import queue
import threading
import time
import weakref
from collections.abc import Hashable, Iterable, Mapping
from typing import Any

from celery import current_app
from django.db import transaction

from .conf import wx_settings
from .redaction import get_logger

logger = get_logger(__name__)

#: The Celery tasks a nudge publishes, by name: ``tasks.py`` registers them under these names.
PUSH_TASK = "django_wxlogistics.tasks.push_trace_event"
PUSH_MANY_TASK = "django_wxlogistics.tasks.push_trace_events"
PUSH_SHIPPING_TASK = "django_wxlogistics.tasks.push_shipping_info"

#: The kinds of items a nudge names (``OutboxKind.name``).
TRACE_EVENT = "trace_event"
SHIPPING_INFO = "shipping_info"
#: For each kind: the task for one item (its id), the task for several (a list of ids), and
#: what log lines call an item.
PUSH_TASKS: dict[str, tuple[str | None, str, str]] = {
    TRACE_EVENT: (PUSH_TASK, PUSH_MANY_TASK, "trace event"),
    SHIPPING_INFO: (None, PUSH_SHIPPING_TASK, "shipping information item"),
}

#: Seconds the caller of a nudge waits for the broker, all told; also the nudge connection's
#: socket, connect and read timeouts.
NUDGE_TIMEOUT = 1.0

#: A publish still running after this many seconds ignores its timeouts: a new thread and
#: connection take over, and the stuck ones are left to end by themselves.
STUCK_AFTER = 30.0

#: At most this many stuck publishing threads are left running; beyond it nudges are skipped.
MAX_STUCK = 4

#: The transport options that bound each blocking call, by kombu transport driver.
TIMEOUT_OPTIONS: dict[str, tuple[str, ...]] = {
    "redis": ("socket_timeout", "socket_connect_timeout"),
    "py-amqp": ("connect_timeout", "read_timeout", "write_timeout"),
}


#: Items to nudge, by kind.
Batches = dict[str, list[int]]


def nudge(event_ids: Iterable[int], kind: str = TRACE_EVENT) -> int:
    """Tell workers to look at these items of ``kind`` (trace events unless said otherwise) now;
    returns how many items the sent messages name.

    One message names up to four times ``PUSH_CONCURRENCY`` events: a task pushes a quarter of
    them at once and keeps the others leased behind them. Never raises, and never keeps the
    caller more than :data:`NUDGE_TIMEOUT`: a broker that is down, silent or slow leaves the
    events to the sweeper, which finds them when the broker is back.
    """
    return nudge_kinds({kind: event_ids})


def nudge_kinds(items: Mapping[str, Iterable[int]]) -> int:
    """:func:`nudge` for items of several kinds at once, within one :data:`NUDGE_TIMEOUT`."""
    batches: Batches = {}
    for kind, ids in items.items():
        if kind not in PUSH_TASKS:
            raise ValueError(f"no push task for items of kind {kind!r}")
        unique = list(dict.fromkeys(ids))
        if unique:
            batches[kind] = unique
    if not batches:
        return 0
    app = current_app._get_current_object()
    if app.conf.task_always_eager:  # the tasks run here and now; no broker involved
        try:
            return _publish(app, batches, producer=None)
        except Exception as exc:
            _warn(batches, type(exc).__name__)
            return 0
    publisher = _publisher(app)
    if publisher is None:
        _warn(batches, f"{MAX_STUCK} earlier publishes are still stuck")
        return 0
    return publisher.publish(batches)


def message_size() -> int:
    """The most lines one broker message names: four times ``PUSH_CONCURRENCY``, as many
    chains as one task keeps in hand (one per calling thread, three queued behind it).

    The more a task has in hand, the less of it is the tail in which its last chains run
    and its other threads wait for the next message: at 50 ms of latency, twice gave 0.80–0.81
    of the ceiling, four times 0.85–0.87 (``docs/benchmarks.md``)."""
    return 4 * wx_settings.PUSH_CONCURRENCY


def nudge_connection(app: Any) -> Any:
    """A new connection for nudges: the shop's broker settings with every timeout at most NUDGE_TIMEOUT.

    Only this connection: the worker's and Celery's own producer pool keep the shop's settings.
    """
    plain = app.connection_for_write()
    try:
        driver = plain.transport.driver_name
        options = dict(plain.transport_options or {})
    finally:
        plain.release()
    for key in TIMEOUT_OPTIONS.get(driver, ()):
        options[key] = _at_most(options.get(key), NUDGE_TIMEOUT)
    if driver == "redis":
        options["retry_on_timeout"] = False  # a retry would double the wait on a silent broker
    connect_timeout = _at_most(app.conf.broker_connection_timeout, NUDGE_TIMEOUT)
    return app.connection_for_write(connect_timeout=connect_timeout, transport_options=options)


def _at_most(value: Any, bound: float) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value < bound:
        return float(value)
    return bound


def _publish(app: Any, batches: Batches, producer: Any, progress: _Job | None = None) -> int:
    """Send the messages naming the ids of ``batches``, kind after kind; returns how many ids
    they named (so far in ``progress``)."""
    size = message_size()
    sent = 0
    for kind, ids in batches.items():
        one, many, _noun = PUSH_TASKS[kind]
        for start in range(0, len(ids), size):
            chunk = ids[start : start + size]
            if len(chunk) == 1 and one is not None:
                _send(app, one, (chunk[0],), producer)
            else:
                _send(app, many, (chunk,), producer)
            sent += len(chunk)
            if progress is not None:
                progress.sent = sent
    return sent


def _send(app: Any, name: str, args: tuple[Any, ...], producer: Any) -> None:
    task = app.tasks.get(name)
    if task is not None:  # registered here (apps.py imports tasks.py): eager mode runs it
        task.apply_async(args, producer=producer, retry=False)
    elif app.conf.task_always_eager:
        raise LookupError(f"the Celery task {name} is not registered in this process")
    else:  # the worker knows it by name
        app.send_task(name, args, producer=producer, retry=False, ignore_result=True)


def _warn(batches: Batches, why: str, sent: int = 0) -> None:
    """Log the items of ``batches`` after the first ``sent`` as left to the sweeper."""
    left = []
    for kind, ids in batches.items():
        count = max(0, len(ids) - sent)
        sent = max(0, sent - len(ids))
        if count:
            left.append(f"{count} {PUSH_TASKS[kind][2]}(s)")
    if left:
        logger.warning(
            "Could not nudge a worker for %s (%s); the sweeper will push them.", ", ".join(left), why
        )


class _Job:
    def __init__(self, batches: Batches) -> None:
        self.batches = batches
        self.context = contextvars.copy_context()  # e.g. a tracing span for the publish signals
        self.finished = threading.Event()
        self.given_up = False
        self.sent = 0
        self.error: Exception | None = None


class _Publisher:
    """One thread, one broker connection: publishes the nudges of one process, one at a time."""

    def __init__(self, app: Any, key: tuple[Any, ...]) -> None:
        self.app, self.key = app, key
        self.jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self.connection: Any = None
        self.producer: Any = None
        self.busy_since: float | None = None
        self.thread = threading.Thread(target=self._run, name="wxlogistics-nudge", daemon=True)
        self.thread.start()

    def busy_for(self) -> float:
        started = self.busy_since
        return 0.0 if started is None else time.monotonic() - started

    def publish(self, batches: Batches) -> int:
        busy = self.busy_for()
        if busy >= NUDGE_TIMEOUT:
            # The broker has not finished the last nudge: no use queueing behind it.
            _warn(batches, f"the broker has not answered the last nudge for {busy:.0f} s")
            return 0
        job = _Job(batches)
        self.jobs.put(job)
        if not job.finished.wait(NUDGE_TIMEOUT):
            job.given_up = True  # a job not yet begun is dropped; one under way may still arrive
            _warn(batches, f"no answer from the broker within {NUDGE_TIMEOUT:g} s", job.sent)
            return job.sent
        if job.error is not None:
            _warn(batches, type(job.error).__name__, job.sent)  # the class only: messages name URLs
        return job.sent

    def retire(self) -> None:
        self.jobs.put(None)

    def _run(self) -> None:
        while True:
            job = self.jobs.get()
            if job is None:
                break
            if job.given_up:
                continue
            self.busy_since = time.monotonic()
            try:
                job.context.run(self._send, job)
            except Exception as exc:
                job.error = exc
                self._close()
            finally:
                self.busy_since = None
                job.finished.set()
        self._close()

    def _send(self, job: _Job) -> None:
        self._connect()
        _publish(self.app, job.batches, self.producer, progress=job)

    def _connect(self) -> None:
        if self.connection is not None:
            return
        connection = nudge_connection(self.app)
        try:
            connection.ensure_connection(max_retries=0)  # one attempt, no sleeps between tries
            self.producer = self.app.amqp.Producer(connection)
        except Exception:
            connection.release()
            raise
        self.connection = connection

    def _close(self) -> None:
        connection, self.connection, self.producer = self.connection, None, None
        if connection is not None:
            # Closing a broken connection may fail too; it is gone either way.
            with contextlib.suppress(Exception):
                connection.release()


_lock = threading.Lock()
_current: _Publisher | None = None
_stuck: list[_Publisher] = []
#: A forked child keeps its parent's publishers here, never closing what the parent still uses.
_inherited: list[_Publisher] = []


def _publisher(app: Any) -> _Publisher | None:
    """The process's publisher for the app's broker settings; None while too many are stuck."""
    global _current
    conf = app.conf
    key = (id(app), conf.broker_write_url or conf.broker_url, repr(conf.broker_transport_options))
    with _lock:
        _stuck[:] = [p for p in _stuck if p.thread.is_alive()]
        current = _current
        if current is not None and not current.thread.is_alive():
            current = None
        elif current is not None and (current.key != key or current.busy_for() > STUCK_AFTER):
            current.retire()  # the broker settings changed (e.g. in tests), or it is stuck
            if current.busy_for():
                _stuck.append(current)
            current = None
        if current is None:
            if len(_stuck) >= MAX_STUCK:
                _current = None
                return None
            current = _Publisher(app, key)
        _current = current
        return current


def _forget_after_fork() -> None:
    """A forked child starts with no publisher: the parent's thread did not come along."""
    global _current, _lock
    _inherited.extend(p for p in (_current, *_stuck) if p is not None)
    _lock = threading.Lock()
    _current = None
    _stuck.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)


# --- one nudge for each transaction -------------------------------------------------------


class _CommitNudge:
    """The items one transaction recorded: once it commits, a nudge for the first of each line.

    The others follow in the same worker, which pushes a line's next item as soon as the one
    before it is done; nudging them too would only send messages that find them waiting.
    """

    def __init__(self) -> None:
        # (kind, line) -> the line's first item here, as (order, pk).
        self.first: dict[tuple[str, Hashable], tuple[Any, int]] = {}
        self.fired = False

    def add(self, pk: int, line: Hashable, order: Any, kind: str = TRACE_EVENT) -> None:
        key = (order, pk)
        if (kind, line) not in self.first or key < self.first[kind, line]:
            self.first[kind, line] = key

    def __call__(self) -> None:
        self.fired = True
        by_kind: Batches = {}
        for (kind, _line), (_order, pk) in self.first.items():
            by_kind.setdefault(kind, []).append(pk)
        nudge_kinds(by_kind)


_local = threading.local()


def nudge_on_commit(pk: int, *, line: Hashable, order: Any, using: str, kind: str = TRACE_EVENT) -> None:
    """Nudge a worker for item ``pk`` of ``kind`` once the transaction on database ``using``
    commits (at once outside a transaction); the items of one transaction share their nudges.

    ``line`` and ``order`` say which items go one after the other (a trace event's waybill
    and action time, a shipping information's payment and id): each line's first item is
    nudged. One :class:`_CommitNudge` per transaction collects them, registered with
    ``transaction.on_commit``. Only Django holds it; this thread finds it again through a weak
    reference, which dies when Django discards the callback because the transaction, or the
    savepoint it was registered in, rolled back.
    """
    collectors: dict[str, weakref.ref[_CommitNudge]] = _local.__dict__.setdefault("collectors", {})
    found = collectors.get(using)
    pending = found() if found is not None else None
    if pending is not None and not pending.fired and not transaction.get_autocommit(using):
        pending.add(pk, line, order, kind)
        return
    pending = _CommitNudge()
    pending.add(pk, line, order, kind)  # before on_commit: outside a transaction, it runs at once
    collectors[using] = weakref.ref(pending)
    transaction.on_commit(pending, using=using, robust=True)

"""Access tokens: the shared store, one fetch per expiry window for the fleet, the modes."""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connections, transaction
from django.utils import timezone

from django_wxlogistics.client import WeChatLogisticsClient, get_client, reset_client
from django_wxlogistics.exceptions import (
    AccessTokenError,
    ConfigurationError,
    TokenStoreError,
    TransientError,
)
from django_wxlogistics.models import AccessToken
from django_wxlogistics.tokens import (
    LAST_SECONDS,
    ClassicTokenProvider,
    CloudTokenProvider,
    StableTokenProvider,
    build_provider,
)

from .conftest import APPID, APPSECRET, WAYBILL_TOKEN, MovedClock

PUSH = (WAYBILL_TOKEN, "SF1", 1533052800, 100001, "picked up")


def stored() -> AccessToken:
    return AccessToken.objects.get(appid=APPID)


# -- the shared store ---------------------------------------------------------------------------


@pytest.mark.usefixtures("no_stored_token")
def test_a_token_is_fetched_once_and_shared_through_the_store(sandbox: Any) -> None:
    get_client().update_path(*PUSH)
    row = stored()
    assert row.token and row.expires_at > timezone.now() + timedelta(seconds=7000)
    for _ in range(3):
        reset_client()  # a new process: nothing cached in memory
        get_client().update_path(*PUSH)
    assert sandbox.stats()["token_fetches"] == 1
    assert {c["access_token"] for c in sandbox.calls(api="logistics.updatePath")} == {row.token}


def _call_in_thread(
    barrier: threading.Barrier, errors: list[BaseException], client: WeChatLogisticsClient | None = None
) -> None:
    try:
        # By default its own provider: only the database is shared.
        client = client or WeChatLogisticsClient()
        barrier.wait(timeout=30)
        client.update_path(*PUSH)
    except BaseException as exc:
        errors.append(exc)
    finally:
        connections.close_all()


@pytest.mark.usefixtures("no_stored_token")
def test_threads_with_their_own_connections_make_one_fetch(sandbox: Any) -> None:
    def race() -> None:
        barrier, errors = threading.Barrier(8), []
        threads = [threading.Thread(target=_call_in_thread, args=(barrier, errors)) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert errors == []

    race()
    assert sandbox.stats()["token_fetches"] == 1
    sandbox.expire_tokens()  # mid-run expiry: every thread's cached token is refused
    race()
    assert sandbox.stats()["token_fetches"] == 2
    replies = [c["reply"].get("errcode") for c in sandbox.calls(api="logistics.updatePath")]
    assert replies.count(0) == 16
    assert 1 <= replies.count(42001) <= 8  # each refused call was repeated once, with the new token


def _process_main(barrier: Any, rounds: int, results: Any) -> None:
    connections.close_all()
    reset_client()
    client = get_client()
    ok = 0
    for _ in range(rounds):
        barrier.wait(timeout=60)
        client.update_path(*PUSH)
        ok += 1
        barrier.wait(timeout=60)  # the parent expires tokens between rounds
    results.put(ok)


# Forking a threaded process is what this test is about (Celery's prefork pool does it).
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded, use of fork:DeprecationWarning")
@pytest.mark.usefixtures("no_stored_token")
def test_processes_hitting_a_missing_then_expired_token_make_one_fetch_each_time(sandbox: Any) -> None:
    processes, rounds = 4, 2
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(processes + 1)
    results = context.Queue()
    connections.close_all()  # children must not inherit an open connection
    children = [
        context.Process(target=_process_main, args=(barrier, rounds, results)) for _ in range(processes)
    ]
    for child in children:
        child.start()
    try:
        fetches = []
        for _ in range(rounds):
            barrier.wait(timeout=60)  # go
            barrier.wait(timeout=60)  # all called
            fetches.append(sandbox.stats()["token_fetches"])
            sandbox.expire_tokens()
        assert sorted(results.get(timeout=30) for _ in children) == [rounds] * processes
    finally:
        for child in children:
            child.join(timeout=30)
            if child.is_alive():
                child.kill()
    assert fetches == [1, 2]  # one fetch with no token, one after the expiry
    assert all(child.exitcode == 0 for child in children)


def run_sqlite_shop(tmp_path: Path, **options: Any) -> tuple[dict[str, Any], str]:
    """Run tests/client/sqlite_fleet.py on a fresh SQLite file; its report and its log lines."""
    options = {
        "database": str(tmp_path / "shop.sqlite3"),
        "appid": APPID,
        "secret": APPSECRET,
        "waybill_token": WAYBILL_TOKEN,
        **options,
    }
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run(
        [sys.executable, "-m", "tests.client.sqlite_fleet", json.dumps(options)],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1]), result.stderr


@pytest.mark.parametrize("mode", ["stable", "classic"])
def test_processes_on_a_sqlite_database_make_one_fetch(sandbox: Any, tmp_path: Path, mode: str) -> None:
    report, logs = run_sqlite_shop(tmp_path, url=sandbox.url, scenario="race", processes=6, mode=mode)
    assert report["outcomes"] == [{"ok": True, "seconds": o["seconds"]} for o in report["outcomes"]]
    assert len(report["outcomes"]) == 6 and report["exitcodes"] == [0] * 6
    assert sandbox.stats()["token_fetches"] == 1  # not one per process
    calls = sandbox.calls(api="logistics.updatePath")
    used = {c["access_token"] for c in calls}
    assert len(used) == 1 and [c["reply"]["errcode"] for c in calls] == [0] * 6
    assert "database is locked" not in logs
    for secret in (*used, APPSECRET, WAYBILL_TOKEN):
        assert secret not in logs


def test_on_sqlite_waiting_for_the_write_lock_is_bounded_and_transient(sandbox: Any, tmp_path: Path) -> None:
    # TIMEOUT 0.2 + 0.3 s: a waiter gives up after one fetch's time and a second, 1.5 s.
    report, logs = run_sqlite_shop(tmp_path, url=sandbox.url, scenario="held", timeout=[0.2, 0.3])
    for case in ("no_row", "expired"):  # the row not yet made; the stored token expired
        failed = report[case]
        assert not failed["ok"], case
        assert failed["error"] == TokenStoreError.__name__ and failed["retryable"] is True
        assert "another process has been fetching the access token" in failed["message"]
        assert 1.4 < failed["seconds"] < 10
    assert report["after_release"]["ok"] and report["after_second_release"]["ok"]
    assert sandbox.stats()["token_fetches"] == 2  # once per released lock, none while it was held
    used = {c["access_token"] for c in sandbox.calls(api="logistics.updatePath")}
    for secret in (*used, APPSECRET, WAYBILL_TOKEN):
        assert secret not in logs and all(secret not in report[c]["message"] for c in ("no_row", "expired"))


@pytest.mark.usefixtures("no_stored_token")
def test_invalidate_only_removes_the_refused_token(sandbox: Any) -> None:
    provider = get_client().tokens
    assert isinstance(provider, StableTokenProvider)
    current = provider.get_token()
    provider.invalidate("an-older-token-that-was-refused")
    assert stored().expires_at > timezone.now()  # the newer token stays
    assert provider.get_token() == current
    provider.invalidate(current)
    assert stored().expires_at < timezone.now()
    assert sandbox.stats()["token_fetches"] == 1


@pytest.mark.usefixtures("no_stored_token")
def test_a_copy_read_before_the_refusal_is_never_handed_out_again(sandbox: Any) -> None:
    """A thread that read the row just before another marked the token refused, and caches
    it just after, must not make the next caller repeat its call with the refused token."""
    provider = get_client().tokens
    assert isinstance(provider, StableTokenProvider)
    refused = provider.get_token()
    early_copy = provider._read()  # what the slow thread read
    assert early_copy is not None and early_copy.token == refused
    provider.invalidate(refused)
    provider._remember(early_copy, time.time())  # ... and caches after the refusal
    sandbox.expire_tokens()
    fresh = provider.get_token()
    assert fresh != refused
    get_client().update_path(*PUSH)
    assert [c["reply"].get("errcode", 0) for c in sandbox.calls(api="logistics.updatePath")] == [0]


@pytest.mark.usefixtures("no_stored_token")
def test_threads_sharing_one_client_all_get_through_each_time_the_token_is_refused(sandbox: Any) -> None:
    client = get_client()
    for round_ in range(3):
        barrier, errors = threading.Barrier(8), []
        threads = [threading.Thread(target=_call_in_thread, args=(barrier, errors, client)) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert errors == [], round_
        sandbox.expire_tokens()
    assert sandbox.stats()["token_fetches"] == 3


@pytest.mark.usefixtures("no_stored_token")
def test_a_fetch_inside_the_callers_transaction_survives_its_rollback(sandbox: Any) -> None:
    class Rollback(Exception):
        pass

    with pytest.raises(Rollback), transaction.atomic():
        get_client().update_path(*PUSH)
        raise Rollback
    assert stored().token  # committed on its own, not lost with the caller's transaction
    reset_client()
    get_client().update_path(*PUSH)
    assert sandbox.stats()["token_fetches"] == 1


# -- refreshing ahead and the last seconds ----------------------------------------------------------


def _age_stored_token(remaining: float) -> str:
    now = timezone.now()
    AccessToken.objects.filter(appid=APPID).update(
        expires_at=now + timedelta(seconds=remaining), fetched_at=now - timedelta(hours=2)
    )
    reset_client()
    return stored().token


@pytest.mark.usefixtures("no_stored_token")
def test_a_token_is_refreshed_ahead_of_expiry(sandbox: Any, wx_settings_for: Any) -> None:
    wx_settings_for(sandbox.url, ACCESS_TOKEN="classic")
    get_client().update_path(*PUSH)
    old = _age_stored_token(remaining=200)  # inside the 300 s margin
    get_client().update_path(*PUSH)
    assert stored().token != old
    assert sandbox.stats()["token_fetches"] == 2


@pytest.mark.usefixtures("no_stored_token")
def test_while_another_process_refreshes_the_old_token_is_used_without_waiting(
    sandbox: Any, wx_settings_for: Any
) -> None:
    wx_settings_for(sandbox.url, ACCESS_TOKEN="classic")
    get_client().update_path(*PUSH)
    old = _age_stored_token(remaining=200)
    locked, release = threading.Event(), threading.Event()

    def hold_the_lock() -> None:  # another process in the middle of its refresh
        try:
            with transaction.atomic():
                AccessToken.objects.select_for_update().get(appid=APPID)
                locked.set()
                release.wait(timeout=30)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_the_lock)
    holder.start()
    try:
        assert locked.wait(timeout=10)
        assert get_client().tokens.get_token() == old
    finally:
        release.set()
        holder.join()
    assert sandbox.stats()["token_fetches"] == 1


@pytest.mark.usefixtures("no_stored_token")
def test_a_token_in_its_last_seconds_is_never_used(sandbox: Any, wx_settings_for: Any) -> None:
    wx_settings_for(sandbox.url, ACCESS_TOKEN="classic")
    get_client().update_path(*PUSH)
    old = _age_stored_token(remaining=LAST_SECONDS - 5)
    get_client().update_path(*PUSH)
    used = sandbox.calls(api="logistics.updatePath")[-1]["access_token"]
    assert used != old and used == stored().token


@pytest.mark.usefixtures("no_stored_token")
def test_a_token_fetched_moments_ago_is_not_used_in_its_last_seconds(
    sandbox: Any, wx_settings_for: Any, clock: MovedClock
) -> None:
    # Tokens live 33 s: fresh when fetched, in their last 30 s after 3 s.
    wx_settings_for(sandbox.url, ACCESS_TOKEN="classic")
    sandbox.configure(token_ttl=LAST_SECONDS + 3)

    def used_tokens() -> list[str]:
        return [c["access_token"] for c in sandbox.calls(api="logistics.updatePath")]

    get_client().update_path(*PUSH)
    clock.advance(2.9)
    reset_client()  # another process: it finds a token fetched 2.9 s ago, with 30.1 s left
    get_client().update_path(*PUSH)
    assert used_tokens()[1] == used_tokens()[0]
    clock.advance(0.6)
    reset_client()  # 3.5 s after the fetch, with 29.5 s left: in its last seconds
    get_client().update_path(*PUSH)
    first, _, second = used_tokens()
    assert second != first and second == stored().token
    clock.advance(2.9)
    get_client().update_path(*PUSH)  # the same process, 2.9 s later: its cached token still
    assert used_tokens()[3] == second
    clock.advance(0.6)
    get_client().update_path(*PUSH)  # ... and 3.5 s later: its cache must not reach the last seconds
    assert used_tokens()[4] not in (first, second) and used_tokens()[4] == stored().token
    assert sandbox.stats()["token_fetches"] == 3


@pytest.mark.usefixtures("no_stored_token")
def test_a_token_is_refreshed_once_its_margin_is_reached_and_used_to_its_end_meanwhile(
    sandbox: Any, wx_settings_for: Any, clock: MovedClock
) -> None:
    # 7200 s tokens, refreshed in their last ACCESS_TOKEN_REFRESH_MARGIN (300 s).
    wx_settings_for(sandbox.url, ACCESS_TOKEN="classic")
    get_client().update_path(*PUSH)
    first = stored().token
    clock.advance(7200 - 301)
    reset_client()
    get_client().update_path(*PUSH)
    assert stored().token == first and sandbox.stats()["token_fetches"] == 1
    clock.advance(2)  # 299 s left: inside the margin
    get_client().update_path(*PUSH)  # the same process: its cache ends where the margin begins
    assert stored().token != first and sandbox.stats()["token_fetches"] == 2
    used = [c["access_token"] for c in sandbox.calls(api="logistics.updatePath")]
    assert used == [first, first, stored().token]
    assert [c["reply"]["errcode"] for c in sandbox.calls(api="logistics.updatePath")] == [0, 0, 0]


# Forking a threaded process is what this test is about (Celery's prefork pool does it).
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded, use of fork:DeprecationWarning")
@pytest.mark.usefixtures("no_stored_token")
def test_a_process_forked_while_a_thread_fetches_gets_its_own_token(sandbox: Any) -> None:
    # Celery's prefork pool forks whenever it likes; a lock held by a thread of the parent
    # must not hang the child.
    provider = get_client().tokens
    sandbox.set_faults(error_rate=1.0, kinds=("hang",), hang_seconds=3, apis=["stable_token"])
    fetching = threading.Thread(target=lambda: _swallow(provider.get_token))
    fetching.start()
    deadline = time.monotonic() + 10
    while not sandbox.calls(api="stable_token") and time.monotonic() < deadline:
        time.sleep(0.05)  # the thread is now inside the fetch, holding the provider's lock
    assert sandbox.calls(api="stable_token")
    sandbox.clear_faults()
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    connections.close_all()
    child = context.Process(target=_token_in_child, args=(provider, results))
    child.start()
    try:
        kind, value = results.get(timeout=30)
    finally:
        child.join(timeout=30)
        fetching.join(timeout=30)
    assert (kind, child.exitcode) == ("ok", 0), value
    assert value == stored().token


def _swallow(call: Any) -> None:
    try:
        with contextlib.suppress(Exception):  # the hung fetch times out; only the child matters
            call()
    finally:
        connections.close_all()


def _token_in_child(provider: Any, results: Any) -> None:
    try:
        results.put(("ok", provider.get_token()))
    except BaseException as exc:
        results.put(("error", repr(exc)))
    finally:
        connections.close_all()


@pytest.mark.usefixtures("no_stored_token")
def test_waiting_for_another_process_fetch_is_bounded(sandbox: Any, wx_settings_for: Any) -> None:
    wx_settings_for(sandbox.url, TIMEOUT=(0.2, 0.3))  # one fetch may take 0.5 s: wait 1.5 s at most
    get_client().update_path(*PUSH)
    _age_stored_token(remaining=LAST_SECONDS - 5)
    locked, release = threading.Event(), threading.Event()

    def hold_the_lock() -> None:  # another process whose fetch hangs
        try:
            with transaction.atomic():
                AccessToken.objects.select_for_update().get(appid=APPID)
                locked.set()
                release.wait(timeout=30)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_the_lock)
    holder.start()
    try:
        assert locked.wait(timeout=10)
        started = time.monotonic()
        with pytest.raises(TransientError, match="another process has been fetching"):
            get_client().tokens.get_token()
        assert 1.0 < time.monotonic() - started < 10
    finally:
        release.set()
        holder.join()
    assert sandbox.stats()["token_fetches"] == 1
    get_client().update_path(*PUSH)  # once the lock is free, the fetch goes ahead
    assert sandbox.stats()["token_fetches"] == 2


# -- the modes ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_modes_build_their_provider(sandbox: Any, wx_settings_for: Any) -> None:
    client = get_client()
    assert type(build_provider(client.transport, "stable")) is StableTokenProvider
    assert type(build_provider(client.transport, "classic")) is ClassicTokenProvider
    assert type(build_provider(client.transport, "cloud")) is CloudTokenProvider
    with pytest.raises(ConfigurationError, match="cannot be imported"):
        build_provider(client.transport, "no.such.Provider")
    with pytest.raises(ConfigurationError, match="lacks get_token"):
        build_provider(client.transport, "tests.client.test_tokens.NotAProvider")
    wx_settings_for(sandbox.url, APPID="")
    with pytest.raises(ConfigurationError, match=r"WXLOGISTICS\['APPID'\] is not set"):
        get_client()


@pytest.mark.django_db
def test_classic_mode_uses_get_token(sandbox: Any, wx_settings_for: Any) -> None:
    wx_settings_for(sandbox.url, ACCESS_TOKEN="classic")
    get_client().update_path(*PUSH)
    [fetch] = sandbox.calls(api="token")
    assert fetch["method"] == "GET" and fetch["query"]["secret"] == "***"


@pytest.mark.django_db
def test_cloud_mode_sends_no_access_token(scripted: Any, wx_settings_for: Any) -> None:
    wx_settings_for(scripted.url, ACCESS_TOKEN="cloud")
    get_client().update_path(*PUSH)
    [request] = scripted.requests
    assert "access_token" not in request["query"]
    assert scripted.token_fetches == 0


class CentralTokens:
    """A shop's own provider: hands out tokens of its central token service."""

    handed_out: list[str] = []
    invalidated: list[str] = []

    def get_token(self) -> str:
        token = f"central-token-{len(self.handed_out) + 1:03d}"
        self.handed_out.append(token)
        return token

    def invalidate(self, token: str) -> None:
        self.invalidated.append(token)


class NotAProvider:
    def token(self) -> str:
        return "x"


@pytest.mark.django_db
def test_a_custom_provider_by_dotted_path(scripted: Any, wx_settings_for: Any) -> None:
    CentralTokens.handed_out, CentralTokens.invalidated = [], []
    wx_settings_for(scripted.url, ACCESS_TOKEN="tests.client.test_tokens.CentralTokens")
    scripted.reply((200, {"errcode": 42001, "errmsg": "access_token expired"}))
    get_client().update_path(*PUSH)
    assert [r["query"]["access_token"] for r in scripted.requests] == [
        "central-token-001",
        "central-token-002",
    ]
    assert CentralTokens.invalidated == ["central-token-001"]
    assert scripted.token_fetches == 0


class SameTokenAlways:
    def get_token(self) -> str:
        return "the-only-token-there-is"

    def invalidate(self, token: str) -> None:
        pass


@pytest.mark.django_db
def test_no_repeat_when_the_provider_has_nothing_newer(scripted: Any) -> None:
    scripted.reply((200, {"errcode": 40001, "errmsg": "invalid credential"}))
    with pytest.raises(AccessTokenError):
        WeChatLogisticsClient(access_token=SameTokenAlways()).update_path(*PUSH)
    assert len(scripted.requests) == 1

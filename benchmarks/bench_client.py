"""What the client costs on top of a bare ``requests.Session``: calls per second, as a ratio.

The sandbox runs in its own process. ``get_client().update_path(...)``, looked up on every
call as the delivery pipeline does (validation, access token from the in-process cache,
JSON encoding, answer classification, logging), is timed against a bare
``requests.Session`` loop posting the same bodies with the same headers to the same URL.
The bare session reads no proxy settings from the environment on each call
(``trust_env=False``), as the client's does not: like for like. Rounds alternate between
the two so that a noisy neighbour hurts both alike; the best round of each is compared.
Goal: ratio >= 0.9. The CPU time this process spends per call is printed too: it is far
less sensitive to other load on the machine.

    python benchmarks/bench_client.py [--calls 1000] [--rounds 5] [--threads 8]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

APPID, APPSECRET = "wxbenchclient0001", "bench-secret"
ACTION_MSG = "快递员 邓丽君 [18666666666] 正在派送您的包裹"
ACTION_TIME = 1700000000


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


def setup_django(url: str, state_dir: str) -> None:
    import django
    from django.conf import settings

    settings.configure(
        INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "django_wxlogistics"],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": f"{state_dir}/bench.sqlite3"}},
        USE_TZ=True,
        WXLOGISTICS={"APPID": APPID, "APPSECRET": APPSECRET, "API_BASE_URL": url},
        LOGGING_CONFIG=None,
    )
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def run(threads: int, calls: int, one_call: Callable[[int], None]) -> tuple[float, float]:
    """Calls per second of ``threads`` threads making ``calls`` calls in all, and the CPU time
    this process spent per call in microseconds (the sandbox's CPU is not counted)."""
    per_thread = calls // threads
    errors: list[BaseException] = []

    def worker(index: int) -> None:
        try:
            for i in range(per_thread):
                one_call(index * per_thread + i)
        except BaseException as exc:
            errors.append(exc)

    workers = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    started, cpu = time.perf_counter(), time.process_time()
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    if errors:
        raise SystemExit(f"a call failed: {errors[0]!r}")
    done = per_thread * threads
    return done / elapsed, cpu / done * 1e6


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=1000, help="calls per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=8)
    options = parser.parse_args()

    sandbox, url = start_sandbox()
    try:
        with tempfile.TemporaryDirectory() as state_dir:
            setup_django(url, state_dir)
            from django_wxlogistics.client import get_client
            from django_wxlogistics.transport import USER_AGENT

            client = get_client()
            client.update_path("T-warm", "SF-warm", ACTION_TIME, 100001, ACTION_MSG)  # fetches the token
            token = client.tokens.get_token()
            assert token
            target = url + "/cgi-bin/express/delivery/path/update"
            # The headers the client's session sends.
            headers = {
                "User-Agent": USER_AGENT,
                "Accept": "application/json",
                "Content-Type": "application/json; charset=utf-8",
            }
            local = threading.local()

            def bare(i: int) -> None:
                session = getattr(local, "session", None)
                if session is None:
                    session = local.session = requests.Session()
                    session.trust_env = False  # the client reads the environment once, not per call
                    session.headers.update(headers)
                body = {
                    "token": f"T{i % 50}",
                    "waybill_id": f"SF{i % 50}",
                    "action_time": ACTION_TIME,
                    "action_type": 200001,
                    "action_msg": ACTION_MSG,
                }
                response = session.post(
                    target,
                    params={"access_token": token},
                    data=json.dumps(body, ensure_ascii=False).encode(),
                    timeout=(3.05, 5.0),
                )
                if response.json().get("errcode") != 0:
                    raise RuntimeError(response.text)

            def ours(i: int) -> None:
                get_client().update_path(f"T{i % 50}", f"SF{i % 50}", ACTION_TIME, 200001, ACTION_MSG)

            print(
                f"sandbox in its own process at {url}; "
                f"{options.calls} calls a round, best of {options.rounds}"
            )
            for threads in (1, options.threads):
                best_bare = best_ours = 0.0
                cpu_bare = cpu_ours = float("inf")
                for _ in range(options.rounds):
                    rate, cpu = run(threads, options.calls, bare)
                    best_bare, cpu_bare = max(best_bare, rate), min(cpu_bare, cpu)
                    rate, cpu = run(threads, options.calls, ours)
                    best_ours, cpu_ours = max(best_ours, rate), min(cpu_ours, cpu)
                ratio = best_ours / best_bare
                print(
                    f"update_path, {threads:>2} thread(s): client {best_ours:7.0f} calls/s | "
                    f"bare requests.Session (baseline) {best_bare:7.0f} calls/s | ratio {ratio:.2f} "
                    f"(goal >= 0.9){'' if ratio >= 0.9 else '  BELOW GOAL'}",
                    flush=True,
                )
                print(
                    f"update_path, {threads:>2} thread(s): CPU per call in this process: client "
                    f"{cpu_ours:6.0f} us | bare {cpu_bare:6.0f} us | "
                    f"ratio bare/client {cpu_bare / cpu_ours:.2f}",
                    flush=True,
                )
    finally:
        sandbox.terminate()
        try:
            sandbox.wait(timeout=10)
        except subprocess.TimeoutExpired:
            sandbox.kill()
    return 0


if __name__ == "__main__":
    os.environ.pop("DJANGO_SETTINGS_MODULE", None)
    sys.exit(main())

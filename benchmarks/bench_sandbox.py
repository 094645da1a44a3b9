"""How many requests per second the sandbox serves, so later benchmarks know their ceiling.

A raw ``requests.Session`` loop posts ``logistics.updatePath`` to the sandbox (in its own
process, as in the demo) with 1 and N client threads. The same loop against a trivial
stdlib HTTP/1.1 server that answers a fixed reply is the baseline: it measures the client's
own overhead, and the ratio shows what the sandbox's work (token check, validation, call
log) costs on top. A last phase adds 50 ms of latency with 32 clients: if slow replies
blocked one another, throughput would fall far below the ideal 32 / 0.05 s.

    python benchmarks/bench_sandbox.py [--seconds 2] [--threads 8]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
BODY = {
    "token": "T",
    "waybill_id": "SF1",
    "action_time": 1700000000,
    "action_type": 200001,
    "action_msg": "m",
}


class _FixedReply(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    reply = b'{"errcode": 0, "errmsg": "ok"}'

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.reply)))
        self.end_headers()
        self.wfile.write(self.reply)

    def log_message(self, format: str, *args: object) -> None:
        pass


def serve_baseline() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FixedReply)
    server.daemon_threads = True
    print(f"listening on http://127.0.0.1:{server.server_port}", flush=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sys.stdin.read()  # stops when the benchmark closes our stdin (or dies)


def start(args: list[str]) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(args, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    line = process.stdout.readline()
    match = re.search(r"listening on (http://\S+)", line)
    if not match:
        process.kill()
        raise SystemExit(f"server did not start: {line!r}")
    return process, match.group(1)


def stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


def load(url: str, threads: int, seconds: float) -> float:
    """Requests per second that ``threads`` client threads complete in ``seconds``."""
    counts = [0] * threads
    errors: list[str] = []
    deadline = time.monotonic() + seconds
    payload = json.dumps(BODY)
    headers = {"Content-Type": "application/json"}

    def client(index: int) -> None:
        with requests.Session() as session:
            while time.monotonic() < deadline:
                response = session.post(url, data=payload, headers=headers, timeout=10)
                if response.status_code != 200 or response.json().get("errcode") != 0:
                    errors.append(response.text[:200])
                    return
                counts[index] += 1

    workers = [threading.Thread(target=client, args=(i,)) for i in range(threads)]
    started = time.monotonic()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.monotonic() - started
    if errors:
        raise SystemExit(f"unexpected reply: {errors[0]}")
    return sum(counts) / elapsed


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--serve-baseline", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.serve_baseline:
        serve_baseline()
        return 0

    sandbox, sandbox_url = start(
        [sys.executable, "-m", "django_wxlogistics.sandbox", "--port", "0", "--quiet", "--auto-register"]
    )
    baseline, baseline_url = start([sys.executable, __file__, "--serve-baseline"])
    try:
        token = requests.post(
            f"{sandbox_url}/cgi-bin/stable_token",
            json={"grant_type": "client_credential", "appid": "wxbench", "secret": "bench"},
            timeout=10,
        ).json()["access_token"]
        target = f"{sandbox_url}/cgi-bin/express/delivery/path/update?access_token={token}"
        print(f"each phase runs {options.seconds:.1f} s; client: requests.Session, server in its own process")
        for threads in (1, options.threads):
            base = load(baseline_url, threads, options.seconds)
            ours = load(target, threads, options.seconds)
            print(
                f"updatePath, {threads:>2} client thread(s): sandbox {ours:7.0f} req/s | "
                f"stdlib fixed-reply server (baseline) {base:7.0f} req/s | ratio {ours / base:.2f}"
            )
        requests.post(f"{sandbox_url}/__sandbox__/faults", json={"latency_ms": 50}, timeout=10)
        clients = 32
        ideal = clients / 0.050
        slow = load(target, clients, max(options.seconds, 2.0))
        print(
            f"updatePath with 50 ms latency, {clients} clients: {slow:7.0f} req/s | "
            f"ideal if replies never block each other {ideal:7.0f} req/s | ratio {slow / ideal:.2f}"
        )
    finally:
        stop(sandbox)
        stop(baseline)
    return 0


if __name__ == "__main__":
    sys.exit(main())

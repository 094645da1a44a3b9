"""The events endpoint: latency of a valid safe-mode add_waybill over real HTTP, against a bare view.

A client signs and encrypts WeChat's order placement event (a new order each time, JSON,
safe mode), posts it to ``events/`` on a threaded WSGI server of this project, and checks the
encrypted reply. The baseline is a bare Django view that answers a constant, on the same
server, posted the same body by the same client. Each push is stored, verified, decrypted,
registers a waybill and is answered signed and encrypted; WeChat allows 5 seconds.

Runs on a throw-away test database (``DATABASE_URL`` chooses the server, as in tests).
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django

django.setup()

import requests  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.handlers.wsgi import WSGIHandler  # noqa: E402
from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler  # noqa: E402
from django.db import connection, connections  # noqa: E402
from django.http import HttpRequest, HttpResponse  # noqa: E402
from django.test import override_settings  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.urls import include, path  # noqa: E402
from django.views.decorators.csrf import csrf_exempt  # noqa: E402

from django_wxlogistics.events import wire  # noqa: E402
from django_wxlogistics.events.crypto import PushCrypto  # noqa: E402
from django_wxlogistics.models import InboundEvent, Waybill  # noqa: E402
from django_wxlogistics.sandbox import SandboxControl, SandboxServer  # noqa: E402
from tests.events.pushes import ADD_WAYBILL, APPID, KEY, TOKEN, event  # noqa: E402

WARM_UP, PUSHES = 30, int(os.environ.get("WXL_BENCH_PUSHES", "600"))
ORDERS = int(os.environ.get("WXL_BENCH_ORDERS", "200"))


@csrf_exempt
def constant(request: HttpRequest) -> HttpResponse:
    """The floor: Django's request handling and nothing else."""
    return HttpResponse(b"success", content_type="text/plain")


urlpatterns = [
    path("wxlogistics/", include("django_wxlogistics.urls")),
    path("constant/", constant),
]


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


class Server(ThreadedWSGIServer):
    """Django's threaded development server, without Nagle's delay on its small replies."""

    def get_request(self) -> tuple[socket.socket, object]:
        sock, address = super().get_request()
        # Headers and body go out in two writes: with Nagle's algorithm and the client's
        # delayed ACK, every reply would wait some 40 ms, the floor's as well as ours.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock, address


def signed_push(wechat: PushCrypto, n: int) -> tuple[bytes, dict[str, str]]:
    message = wire.dump_body(event(ADD_WAYBILL, OrderID=f"BENCH{n:010d}", Token=f"TOKEN{n:010d}"), "json")
    sealed = wechat.encrypt(message)
    return json.dumps({"ToUserName": "gh_abcdefg", "Encrypt": sealed.encrypt}).encode(), sealed.push_query()


def measure(
    session: requests.Session, base: str, endpoint: str, wechat: PushCrypto, first: int
) -> list[float]:
    """Milliseconds per push over PUSHES pushes (after WARM_UP), each a new order."""
    samples = []
    for n in range(first, first + WARM_UP + PUSHES):
        body, query = signed_push(wechat, n)
        started = time.perf_counter()
        response = session.post(f"{base}{endpoint}?{urlencode(query)}", data=body, timeout=10)
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, (endpoint, response.status_code, response.content[:200])
        if endpoint.startswith("/wxlogistics/"):
            reply = json.loads(wechat.open_reply(response.json()))
            assert reply["ResultCode"] == 0, reply
        if n >= first + WARM_UP:
            samples.append(elapsed)
    return samples


def through_the_sandbox(events_url: str) -> tuple[list[float], list[float]]:
    """Milliseconds per order placed in the sandbox (which pushes it to us and checks the reply),
    and per control call that pushes nothing (registering a waybill), the sandbox's floor."""
    sandbox = SandboxServer(host="127.0.0.1", port=0).start()
    control = SandboxControl(sandbox.url)
    try:
        control.configure_push(
            url=events_url, token=TOKEN, aes_key=KEY, appid=APPID, format="json", mode="safe"
        )
        placed, floor = [], []
        for n in range(WARM_UP + ORDERS):
            started = time.perf_counter()
            order = control.place_order(f"SANDBOX{n:08d}")
            middle = time.perf_counter()
            control.register_waybill(f"FLOOR{n:08d}", "TOKEN")
            ended = time.perf_counter()
            assert order["waybill_id"], order
            if n >= WARM_UP:
                placed.append((middle - started) * 1000)
                floor.append((ended - middle) * 1000)
        return placed, floor
    finally:
        control.close()
        sandbox.stop()


def percentile(samples: list[float], q: float) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[int(q) - 1]


def main() -> int:
    setup_test_environment()
    # The server's thread keeps its database connection between requests, as the example
    # project does (conn_max_age=60): a new connection per push would measure PostgreSQL's.
    connections.settings["default"]["CONN_MAX_AGE"] = 60
    connection.settings_dict.setdefault("TEST", {})["NAME"] = "test_wxl_bench_events"
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    wx = {**settings.WXLOGISTICS, "PUSH_TOKEN": TOKEN, "ENCODING_AES_KEY": KEY, "APPID": APPID}
    try:
        with override_settings(ROOT_URLCONF=sys.modules[__name__], DEBUG=False, WXLOGISTICS=wx):
            server = Server(("127.0.0.1", 0), QuietHandler, allow_reuse_address=False)
            server.set_app(WSGIHandler())
            thread = threading.Thread(target=server.serve_forever, daemon=True)
            thread.start()
            base = f"http://127.0.0.1:{server.server_address[1]}"
            wechat = PushCrypto(TOKEN, KEY, APPID)
            try:
                with requests.Session() as session:
                    floor = measure(session, base, "/constant/", wechat, 0)
                    ours = measure(session, base, "/wxlogistics/events/", wechat, 10**6)
                placed, sandbox_floor = through_the_sandbox(f"{base}/wxlogistics/events/")
            finally:
                server.shutdown()
                server.server_close()
            assert Waybill.objects.count() == 2 * WARM_UP + PUSHES + ORDERS
            assert InboundEvent.objects.filter(verdict="ok").count() == 2 * WARM_UP + PUSHES + ORDERS
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    for name, q in (("p50", 50), ("p99", 99)):
        ours_ms, floor_ms = percentile(ours, q), percentile(floor, q)
        print(
            f"safe-mode add_waybill, {name}: {ours_ms:.1f} ms"
            f" | bare Django view, same body: {floor_ms:.1f} ms | ratio {ours_ms / floor_ms:.1f}x"
            f" | WeChat's limit 5000 ms: {ours_ms / 5000:.4f} of it"
        )
    print(f"({PUSHES} pushes each, {connection.vendor}, one client over real HTTP)")
    for name, q in (("p50", 50), ("p99", 99)):
        ours_ms, floor_ms = percentile(placed, q), percentile(sandbox_floor, q)
        print(
            f"an order placed in the sandbox, pushed and answered, {name}: {ours_ms:.1f} ms"
            f" | a sandbox control call that pushes nothing: {floor_ms:.1f} ms"
            f" | ratio {ours_ms / floor_ms:.1f}x"
        )
    print(f"({ORDERS} orders)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

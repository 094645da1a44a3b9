"""The HTTP server: WeChat's endpoints, the control API and the trace pages, on a real port."""

from __future__ import annotations

import contextlib
import logging
import re
import socket
import socketserver
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .control_api import handle_control
from .faults import FaultDecision, FaultInjector, FaultPlan
from .pusher import PushConfig
from .replies import Reply, wechat_error
from .state import SandboxState
from .wechat_api import ROUTES, body_for_log, handle, parse_json

logger = logging.getLogger("django_wxlogistics.sandbox")

CONTROL_PREFIX = "/__sandbox__"
MAX_BODY_BYTES = 1024 * 1024

_SECRET_IN_URL = re.compile(r"((?:access_token|secret)=)[^&\s\"']*", re.IGNORECASE)

HTTP_FAULT_PAGES = {
    "http500": (500, b"<html><body><h1>500 Internal Server Error</h1></body></html>"),
    "http502": (502, b"<html><body><h1>502 Bad Gateway</h1></body></html>"),
}


def redact_url(text: str) -> str:
    """``text`` with the values of ``access_token=`` and ``secret=`` replaced by ``***``."""
    return _SECRET_IN_URL.sub(r"\1***", text)


class SandboxHTTPServer(ThreadingHTTPServer):
    """A threaded HTTP/1.1 server; slow replies (latency, hangs) never block other clients."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 512

    def __init__(self, address: tuple[str, int], state: SandboxState, faults: FaultInjector) -> None:
        self.state = state
        self.faults = faults
        self.stopping = threading.Event()
        # Set (and replaced) by reset(), so requests held by "hang" from a previous test end.
        self.wakeup = threading.Event()
        #: calls whose reply is being held back (latency or a hang) now, and the most at once
        self.held = 0
        self.most_held = 0
        self._held_lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, SandboxRequestHandler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks up the host's FQDN, which can stall without DNS.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def track(self, conn: socket.socket) -> None:
        with self._connections_lock:
            self._connections.add(conn)

    def untrack(self, conn: socket.socket) -> None:
        with self._connections_lock:
            self._connections.discard(conn)

    def close_all_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def reset(self) -> None:
        self.state.reset()
        self.faults.set_plan(FaultPlan())
        self.release()
        with self._held_lock:
            self.most_held = self.held

    def release(self) -> int:
        """Answer every call held back by latency or a hang now; returns how many there were."""
        with self._held_lock:
            held = self.held
        old, self.wakeup = self.wakeup, threading.Event()
        old.set()
        return held

    def wait(self, seconds: float, event: threading.Event | None = None) -> None:
        """Sleep ``seconds`` unless the server stops (or ``event`` is set) first."""
        if seconds <= 0:
            return
        deadline = time.monotonic() + seconds
        event = event or self.wakeup
        with self._held_lock:
            self.held += 1
            self.most_held = max(self.most_held, self.held)
        try:
            while not self.stopping.is_set() and not event.is_set():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return
                event.wait(min(remaining, 0.25))
        finally:
            with self._held_lock:
                self.held -= 1


class SandboxRequestHandler(BaseHTTPRequestHandler):
    server: SandboxHTTPServer
    protocol_version = "HTTP/1.1"
    server_version = "wxlogistics-sandbox"
    sys_version = ""
    # Keep-alive replies are small: Nagle's algorithm would delay each one by ~40 ms.
    disable_nagle_algorithm = True
    timeout = 300

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass
        finally:
            self.server.untrack(self.connection)

    # -- logging: never print a token or secret -------------------------------------------

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # each call is logged once, in _log_call, with the URL redacted

    def log_message(self, format: str, *args: Any) -> None:
        logger.warning("%s %s", self.address_string(), redact_url(format % args))

    def _log_call(self, method: str, path: str, status: int, api: str, fault: str | None) -> None:
        if logger.isEnabledFor(logging.INFO):
            suffix = f" [fault: {fault}]" if fault else ""
            logger.info("%s %s %s -> %s%s", api, method, redact_url(path), status, suffix)

    # -- dispatch ------------------------------------------------------------------------

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def _read_body(self) -> bytes | None:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            self._send(Reply(411, {"error": "send a Content-Length; chunked bodies are not supported"}))
            self.close_connection = True
            return None
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY_BYTES:
            self._send(Reply(413, {"error": f"Content-Length must be 0 to {MAX_BODY_BYTES} bytes"}))
            self.close_connection = True
            return None
        return self.rfile.read(length) if length else b""

    def _dispatch(self, method: str) -> None:
        body = self._read_body()
        if body is None:
            return
        url = urlsplit(self.path)
        path = url.path
        query = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        if path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/"):
            reply = self._control(method, path[len(CONTROL_PREFIX) :] or "/", query, body)
            self._send(reply)
            return
        route = ROUTES.get(path)
        if route is None:
            reply = wechat_error(40066, "invalid url")
            reply.status = 404
            self._send(reply)
            self._log_call(method, self.path, 404, "unknown", None)
            return
        self._wechat_call(route[0], method, path, query, body)

    def _send(self, reply: Reply) -> None:
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(reply.body)

    def _reset_connection(self) -> None:
        """Close the socket abruptly: SO_LINGER 0 makes the kernel send RST, not FIN."""
        self.close_connection = True
        try:
            self.rfile.close()  # the socket only really closes once its file objects are gone
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass

    # -- WeChat's API ------------------------------------------------------------------------

    def _wechat_call(self, api: str, method: str, path: str, query: dict[str, str], raw: bytes) -> None:
        started = time.time()
        wakeup = self.server.wakeup
        decision: FaultDecision = self.server.faults.decide(api)
        body = parse_json(raw)
        if decision.latency:
            self.server.wait(decision.latency, wakeup)
        call: dict[str, Any] = {
            "api": api,
            "method": method,
            "path": path,
            "query": {k: ("***" if k == "secret" else v) for k, v in query.items() if k != "access_token"},
            "access_token": query.get("access_token"),
            "body": body_for_log(api, body),
            "status": None,
            "reply": None,
            "fault": decision.kind,
            "time": started,
        }
        if decision.kind == "reset":
            self.server.state.record_call(call)
            self._log_call(method, self.path, 0, api, "reset")
            self._reset_connection()
            return
        if decision.kind in HTTP_FAULT_PAGES:
            status, page = HTTP_FAULT_PAGES[decision.kind]
            reply = Reply(status, page, content_type="text/html")
        elif decision.kind == "errcode":
            reply = wechat_error(decision.errcode, decision.errmsg)
        elif decision.kind == "rate_limit":
            reply = wechat_error(45009, "reach max api daily quota limit")
        else:
            reply = handle(self.server.state, api, method, query, body)
        call["status"] = reply.status
        call["reply"] = reply.payload if not isinstance(reply.payload, bytes) else reply.payload.decode()
        self.server.state.record_call(call)
        self._log_call(method, self.path, reply.status, api, decision.kind)
        if decision.kind == "hang":
            # The call was handled; only the answer is late, as when WeChat's reply is lost.
            self.server.wait(decision.hang_seconds, wakeup)
        try:
            self._send(reply)
        except OSError:
            self.close_connection = True

    # -- the control API and trace pages ---------------------------------------------------

    def _control(self, method: str, path: str, query: dict[str, str], raw: bytes) -> Reply:
        headers = {name.title(): value for name, value in self.headers.items()}
        return handle_control(self.server, method, path, query, raw, headers)


class SandboxServer:
    """A fake WeChat logistics API on a real port, served from background threads.

    >>> server = SandboxServer(port=0).start()
    >>> server.url   # e.g. "http://127.0.0.1:41234"
    >>> server.stop()
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        appid: str | None = None,
        secret: str | None = None,
        seed: int | None = None,
        token_ttl: int = 7200,
        *,
        token_grace: float = 300.0,
        auto_register: bool = False,
        faults: dict[str, Any] | None = None,
        max_calls: int = 100_000,
        push: dict[str, Any] | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.state = SandboxState(
            appid=appid,
            secret=secret,
            token_ttl=token_ttl,
            token_grace=token_grace,
            auto_register=auto_register,
            max_calls=max_calls,
            push=PushConfig().updated(push or {}),
        )
        self.faults = FaultInjector(default_seed=seed, clock=self.state.clock.now)
        if faults:
            self.faults.set_plan(FaultPlan.from_dict(faults))
        self._httpd: SandboxHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> SandboxServer:
        """Bind the port and serve in a background thread; returns ``self``."""
        if self._httpd is not None:
            raise RuntimeError("this SandboxServer is already started")
        self._httpd = SandboxHTTPServer((self.host, self.port), self.state, self.faults)
        self.port = self._httpd.server_port
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="wxlogistics-sandbox",
            daemon=True,
        )
        self._thread.start()
        return self

    @property
    def url(self) -> str:
        if not self.port:
            raise RuntimeError("start() the SandboxServer first: it has no port yet")
        host = self.host if ":" not in self.host else f"[{self.host}]"
        return f"http://{host}:{self.port}"

    def reset(self) -> None:
        """Forget waybills, orders, calls, tokens and faults (the ``reset`` of the control API)."""
        if self._httpd is not None:
            self._httpd.reset()
        else:
            self.state.reset()
            self.faults.set_plan(FaultPlan())

    def stop(self) -> None:
        """Stop serving and close every open connection; safe to call twice."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.stopping.set()
        httpd.shutdown()
        httpd.server_close()
        httpd.close_all_connections()
        self.state.trade_pushes.stop()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> SandboxServer:
        return self.start() if self._httpd is None else self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


__all__ = ["SandboxServer", "redact_url"]

"""Fixtures of the client tests: the sandbox with known credentials, and a scripted WeChat.

The scripted server is real HTTP too: it answers each business call with the next reply
of a script, for the errcodes and shapes the sandbox never produces.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from django_wxlogistics import tokens
from django_wxlogistics.client import WeChatLogisticsClient, get_client, reset_client
from django_wxlogistics.sandbox import SandboxControl

APPID = "wxclienttest00001"
APPSECRET = "app-secret-ABCDEF-0123456789"  # the test looks for this string in every output
WAYBILL_TOKEN = "waybill-token-XYZ-987654321"


@pytest.fixture
def wx_settings_for(settings: Any) -> Any:
    """Point WXLOGISTICS at a URL with the test credentials; returns a function."""

    def apply(url: str, **extra: Any) -> None:
        settings.WXLOGISTICS = {
            **settings.WXLOGISTICS,
            "APPID": APPID,
            "APPSECRET": APPSECRET,
            "API_BASE_URL": url,
            **extra,
        }

    return apply


@pytest.fixture
def sandbox(wechat_sandbox: Any, wx_settings_for: Any) -> Any:
    """The sandbox, with the test credentials configured and a waybill SF1 registered."""
    wx_settings_for(wechat_sandbox.url)
    wechat_sandbox.register_waybill("SF1", WAYBILL_TOKEN)
    return wechat_sandbox


class MovedClock:
    """The access-token code's clock, stopped, and moved by hand together with the sandbox's:
    a token ages by exactly what the test says, however busy the machine is."""

    def __init__(self, sandbox: SandboxControl) -> None:
        self.now = time.time()
        self.sandbox = sandbox
        sandbox.stop_clock()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
        self.sandbox.advance_clock(seconds)


@pytest.fixture
def clock(sandbox: SandboxControl, monkeypatch: pytest.MonkeyPatch) -> MovedClock:
    """Time for the token code and the sandbox, standing still until ``clock.advance(s)``."""
    moved = MovedClock(sandbox)
    monkeypatch.setattr(tokens, "clock", moved)
    return moved


@pytest.fixture
def client(sandbox: Any) -> Iterator[WeChatLogisticsClient]:
    yield get_client()
    reset_client()


@dataclass
class Scripted:
    """A tiny WeChat that replies from a script. ``replies``: (status, body) pairs, in order.

    ``token_replies`` are the answers of the token APIs, in order; once they run out, each
    fetch gets a new token.
    """

    url: str = ""
    replies: list[tuple[int, Any]] = field(default_factory=list)
    token_replies: list[tuple[int, Any]] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    token_fetches: int = 0
    tag: str = field(default_factory=lambda: secrets.token_hex(4))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reply(self, *replies: tuple[int, Any]) -> None:
        self.replies.extend(replies)

    def business_requests(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if "express" in r["path"]]


def _handler(script: Scripted) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _answer(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            with script.lock:
                script.requests.append(
                    {
                        "method": self.command,
                        "path": parts.path,
                        "query": dict(parse_qsl(parts.query)),
                        "headers": dict(self.headers),
                        "body": raw,
                    }
                )
                if parts.path in ("/cgi-bin/stable_token", "/cgi-bin/token"):
                    script.token_fetches += 1
                    token = f"scripted-token-{script.token_fetches:04d}-{script.tag}"
                    status, body = (
                        script.token_replies.pop(0)
                        if script.token_replies
                        else (200, {"access_token": token, "expires_in": 7200})
                    )
                else:
                    status, body = (
                        script.replies.pop(0) if script.replies else (200, {"errcode": 0, "errmsg": "ok"})
                    )
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header(
                "Content-Type", "application/json" if not isinstance(body, bytes) else "text/html"
            )
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = _answer
        do_POST = _answer

    return Handler


@pytest.fixture
def scripted(wx_settings_for: Any) -> Iterator[Scripted]:
    script = Scripted()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(script))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    script.url = f"http://127.0.0.1:{server.server_address[1]}"
    wx_settings_for(script.url)
    try:
        yield script
    finally:
        reset_client()
        server.shutdown()
        server.server_close()
        forget_stored_tokens()


def forget_stored_tokens() -> None:
    """Delete stored access tokens from a thread of its own (the test's transaction may be open)."""
    from django.db import connections

    from django_wxlogistics.models import AccessToken

    def forget() -> None:
        try:
            AccessToken.objects.all().delete()
        finally:
            connections.close_all()

    thread = threading.Thread(target=forget)
    thread.start()
    thread.join()


@pytest.fixture
def no_stored_token(transactional_db: Any) -> None:
    """Start without any stored access token (committed: other threads and processes see it)."""
    from django_wxlogistics.models import AccessToken

    AccessToken.objects.all().delete()
    reset_client()

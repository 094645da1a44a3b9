"""A proxy's error page that quotes the request leaks no part of a secret, wherever the cut falls.

A real HTTP proxy on 127.0.0.1 stands between the app and the sandbox. It forwards every
call, except those carrying the secret under test: those get a 502 HTML page quoting the
request, padded so that the secret straddles the client's 200-character excerpt. No six
characters of any secret may then show in the exception, the API's answer, the admin's
contact panel, the stored ``last_errmsg`` or any log record.
"""

from __future__ import annotations

import html
import http.client
import json
import logging
import secrets
import string
import threading
import traceback
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import Permission, User
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from django_wxlogistics.client import get_client, reset_client
from django_wxlogistics.enums import ActionType
from django_wxlogistics.exceptions import WeChatError
from django_wxlogistics.models import TraceEvent
from django_wxlogistics.sandbox import SandboxControl, SandboxControlError
from django_wxlogistics.services import record_trace_event
from django_wxlogistics.transport import _BODY_EXCERPT
from tests.factories import WaybillFactory
from tests.pipeline import helpers as pipeline

pytestmark = pytest.mark.django_db

FRAGMENT = 6  # the shortest piece of a secret that counts as a leak
#: How many of the secret's characters fall before the cut (the probe saw 8 and 20).
BEFORE_CUT = 14


def _random() -> str:
    """A secret no page could hold by chance (no word in it: "APPSECRET" is in some advice)."""
    return "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(32))


class EchoingProxy:
    """Forwards to the sandbox; a call carrying ``straddle`` gets a 502 page quoting it.

    ``straddle`` names where the secret travels: ``"secret"`` (the token fetch's body),
    ``"access_token"`` (every call's query string) or ``"token"`` (the waybill token, in
    a business call's body). ``escape`` quotes the request HTML-escaped, as a careful page would.
    """

    def __init__(self, upstream: str, straddle: str, escape: bool) -> None:
        self.upstream = urlsplit(upstream)
        self.straddle = straddle
        self.escape = escape
        self.seen_tokens: set[str] = set()
        self.echoed = 0
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> EchoingProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def page(self, quoted: str, secret: str) -> bytes:
        head, tail = "<html><body><h1>502 Bad Gateway</h1><pre>", "</pre></body></html>"
        if self.escape:
            quoted = html.escape(quoted)
        start = len(head) + quoted.index(secret)
        padding = _BODY_EXCERPT - BEFORE_CUT - start
        assert padding >= 0, "the page's head is too long to put the secret across the cut"
        text = head.replace("<pre>", "." * padding + "<pre>") + quoted + tail
        assert text.index(secret) == _BODY_EXCERPT - BEFORE_CUT  # the cut falls inside the secret
        return text.encode()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _answer(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                query = parse_qs(urlsplit(self.path).query)
                try:
                    fields = json.loads(body) if body else {}
                except ValueError:
                    fields = {}
                with proxy.lock:
                    proxy.seen_tokens.update(query.get("access_token", []))
                if proxy.straddle == "access_token" and "access_token" in query:
                    page = proxy.page(f"{self.command} {self.path} HTTP/1.1", query["access_token"][0])
                    return self._send(502, "text/html", page)
                if isinstance(fields, dict) and isinstance(fields.get(proxy.straddle), str):
                    page = proxy.page(body.decode(), fields[proxy.straddle])
                    return self._send(502, "text/html", page)
                status, kind, data = proxy.forward(self.command, self.path, body)
                self._send(status, kind, data)

            def _send(self, status: int, kind: str, data: bytes) -> None:
                with proxy.lock:
                    proxy.echoed += status == 502
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = _answer
            do_POST = _answer

        return Handler

    def forward(self, method: str, path: str, body: bytes) -> tuple[int, str, bytes]:
        connection = http.client.HTTPConnection(self.upstream.hostname, self.upstream.port, timeout=10)
        try:
            headers = {"Content-Type": "application/json"} if body else {}
            connection.request(method, path, body=body or None, headers=headers)
            response = connection.getresponse()
            data = response.read()
        finally:
            connection.close()
        try:
            token = json.loads(data).get("access_token")
        except (ValueError, AttributeError):
            token = None
        if isinstance(token, str):
            with self.lock:
                self.seen_tokens.add(token)
        return response.status, response.getheader("Content-Type") or "application/json", data


def exception_texts(error: BaseException) -> Iterator[str]:
    yield str(error)
    yield repr(error)
    yield repr(error.args)
    yield repr(vars(error))
    yield "".join(traceback.format_exception(error))


def assert_no_fragment(where: str, text: str, *secret_values: str) -> None:
    for secret in secret_values:
        for start in range(len(secret) - FRAGMENT + 1):
            piece = secret[start : start + FRAGMENT]
            assert piece not in text, f"{where}: {piece!r} of a secret shows in {text[:600]!r}"


def user(*codenames: str) -> User:
    person = User.objects.create_user(f"u{User.objects.count()}", password="pw", is_staff=True)
    person.user_permissions.set(
        Permission.objects.filter(content_type__app_label="django_wxlogistics", codename__in=codenames)
    )
    return person


@pytest.mark.parametrize("escape", [False, True], ids=["raw", "html-escaped"])
@pytest.mark.parametrize("straddle", ["secret", "access_token", "token"])
def test_no_part_of_a_secret_crossing_the_cut_shows_anywhere(
    wechat_sandbox: SandboxControl,
    settings: Any,
    caplog: pytest.LogCaptureFixture,
    straddle: str,
    escape: bool,
) -> None:
    app_secret, waybill_token = _random(), _random()
    waybill = WaybillFactory(token=waybill_token)
    wechat_sandbox.register_waybill(waybill.waybill_id, waybill_token)
    caplog.set_level(logging.DEBUG)
    for name in ("django_wxlogistics", "urllib3"):
        caplog.set_level(logging.DEBUG, logger=name)
    cache.clear()
    with EchoingProxy(wechat_sandbox.url, straddle, escape) as proxy:
        settings.WXLOGISTICS = {
            **settings.WXLOGISTICS,
            "APPSECRET": app_secret,
            "API_BASE_URL": proxy.url,
            "RETRY_BACKOFF_BASE": 0.001,
            "RETRY_BACKOFF_CAP": 0.001,
        }
        reset_client()
        texts: list[tuple[str, str]] = []

        with pytest.raises(WeChatError) as raised:
            get_client().get_contact(waybill_token, waybill.waybill_id)
        texts += [("exception", text) for text in exception_texts(raised.value)]

        api = APIClient()
        api.force_login(user("view_waybill", "view_contact"))
        answer = api.get(reverse("wxlogistics:waybill-contact", args=[waybill.waybill_id]))
        assert answer.status_code == 502 and answer.json()["errmsg"]
        texts.append(("API", answer.content.decode()))

        staff = Client()
        staff.force_login(user("view_waybill", "view_contact"))
        panel = staff.post(reverse("admin:django_wxlogistics_waybill_contact", args=[waybill.pk]))
        assert panel.status_code == 200
        texts.append(("admin", panel.content.decode()))

        event = record_trace_event(waybill, ActionType.PICKED_UP, "已揽收")
        pipeline.deliver(event.pk)
        stored = TraceEvent.objects.get(pk=event.pk)
        assert stored.last_errmsg and stored.attempts == 1
        texts.append(("last_errmsg", stored.last_errmsg))
        reset_client()

    assert proxy.echoed >= 4  # each way in met the page quoting its secret
    # The sandbox's own log is WeChat's side; the app's and urllib3's must be clean.
    records = [r for r in caplog.records if not r.name.startswith("django_wxlogistics.sandbox")]
    assert records
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    texts += [("log", formatter.format(r)) for r in records]
    texts += [("log record", repr(vars(r))) for r in records]
    for where, text in texts:
        assert_no_fragment(where, text, app_secret, waybill_token, *proxy.seen_tokens)


def test_the_sandbox_control_client_redacts_a_quoting_page_before_cutting_it() -> None:
    token = _random()

    class Quoting(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            start = 200 - BEFORE_CUT - body.index(token) - len("<pre>")
            page = ("." * start + "<pre>" + body + "</pre>").encode()
            self.send_response(502)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Quoting)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        control = SandboxControl(f"http://127.0.0.1:{server.server_address[1]}")
        with pytest.raises(SandboxControlError) as raised:
            control.register_waybill("SF1", token)
    finally:
        server.shutdown()
        server.server_close()
    assert "502" in str(raised.value)
    assert_no_fragment("SandboxControlError", str(raised.value), token)

"""No secret reaches a log record or an exception: access tokens, the app secret, waybill tokens."""

from __future__ import annotations

import ast
import html
import importlib
import json
import logging
import socket
import threading
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pytest

from django_wxlogistics.client import WeChatLogisticsClient, get_client
from django_wxlogistics.exceptions import NetworkError, WeChatError
from django_wxlogistics.redaction import (
    PLACEHOLDER,
    URL_LOGGERS,
    RedactingFilter,
    redact,
    remember_secret,
)

from .conftest import APPSECRET, WAYBILL_TOKEN

pytestmark = pytest.mark.django_db

ACCESS_TOKEN = "ACCESS-token-0123456789-abcdefghij"  # what the custom provider below hands out


class FixedTokens:
    def get_token(self) -> str:
        return ACCESS_TOKEN

    def invalidate(self, token: str) -> None:
        pass


def exception_texts(error: BaseException) -> Iterator[str]:
    """Every text an error shows: str, repr, args, its traceback, and its whole chain."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield str(current)
        yield repr(current)
        yield repr(current.args)
        yield repr(vars(current))
        yield "".join(traceback.format_exception(current))
        current = current.__cause__ or current.__context__


def record_texts(caplog: pytest.LogCaptureFixture) -> Iterator[str]:
    formatter = logging.Formatter("%(name)s %(message)s")
    for record in caplog.records:
        yield formatter.format(record)
        yield repr(getattr(record, "__dict__", {}))


def assert_nothing_secret(texts: Iterator[str], *secrets: str) -> None:
    for text in texts:
        for secret in secrets:
            assert secret not in text, f"{secret!r} leaked in {text[:300]!r}"


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    for name in ("urllib3", "urllib3.connectionpool", "django_wxlogistics", "requests"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def test_redact_by_shape_and_by_value() -> None:
    remember_secret("remembered-token-value-42")
    text = (
        "GET /cgi-bin/token?grant_type=client_credential&appid=wx1&secret=s3cr3t-value HTTP/1.1; "
        "POST /x?access_token=AbC-123_xyz&foo=1; "
        '{"access_token": "json-token-value", "token": "wb\\"tok", "expires_in": 7200}; '
        f"remembered-token-value-42 {APPSECRET} explicit-secret-value"
    )
    result = redact(text, "explicit-secret-value")
    for secret in (
        "s3cr3t-value",
        "AbC-123_xyz",
        "json-token-value",
        'wb\\"tok',
        "remembered-token-value-42",
    ):
        assert secret not in result
    assert "explicit-secret-value" not in result
    assert "appid=wx1" in result and "foo=1" in result and '"expires_in": 7200' in result
    assert f"access_token={PLACEHOLDER}&foo=1" in result


def test_a_secret_is_redacted_as_a_page_quoting_a_request_writes_it() -> None:
    secret = 'Tok+en/with "odd" <chars> & 99=='
    quoted = (
        f"url: /x?t={quote(secret, safe='')} form: t={quote_plus(secret)} "
        f"json: {json.dumps({'t': secret})} html: <pre>{html.escape(secret)}</pre>"
    )
    result = redact(quoted, secret)
    assert result.count(PLACEHOLDER) == 4, result
    assert "odd" not in result and "chars" not in result


def test_text_is_redacted_whole_before_it_is_cut() -> None:
    secret = "CUT-ACROSS-0123456789"
    text = "." * 180 + '{"token": "' + secret + '"}'
    assert secret[:5] not in redact(text, secret)[:200]
    assert "CUT-" in redact(text[:200], secret)  # the other order lets the first part through


def test_the_filter_rewrites_message_args_and_traceback() -> None:
    try:
        raise RuntimeError("failed at /p?access_token=TRACEBACK-TOKEN-1")
    except RuntimeError:
        import sys

        exc_info = sys.exc_info()
    record = logging.LogRecord(
        "x", logging.ERROR, __file__, 1, "calling %s", ("/p?access_token=ARGS-TOKEN-1",), exc_info
    )
    assert RedactingFilter().filter(record)
    text = logging.Formatter().format(record)
    assert "ARGS-TOKEN-1" not in text and "TRACEBACK-TOKEN-1" not in text
    assert f"access_token={PLACEHOLDER}" in text


def test_a_network_error_carries_no_url_secret_nor_chain(debug_logs: Any, wx_settings_for: Any) -> None:
    wx_settings_for("http://127.0.0.1:9")
    client = WeChatLogisticsClient(access_token=FixedTokens())
    with pytest.raises(NetworkError) as info:
        client.update_path(WAYBILL_TOKEN, "SF1", 1533052800, 100001, "picked up")
    error = info.value
    assert error.__cause__ is None and error.__context__ is None
    assert "Connection" in str(error)  # the redacted summary of what requests said is kept
    assert_nothing_secret(exception_texts(error), ACCESS_TOKEN, WAYBILL_TOKEN, APPSECRET)
    assert_nothing_secret(record_texts(debug_logs), ACCESS_TOKEN, WAYBILL_TOKEN, APPSECRET)
    assert any(
        r.name == "django_wxlogistics.transport" and "failed" in r.getMessage() for r in debug_logs.records
    )


def test_an_answer_that_echoes_secrets_is_redacted(scripted: Any, debug_logs: Any) -> None:
    echo = f"token={WAYBILL_TOKEN} secret={APPSECRET}"
    scripted.reply((200, {"errcode": 40199, "errmsg": echo}), (500, echo.encode()))
    client = get_client()
    errors = []
    for _ in range(2):
        with pytest.raises(WeChatError) as info:
            client.update_path(WAYBILL_TOKEN, "SF1", 1533052800, 100001, "picked up")
        errors.append(info.value)
    issued = [r["query"]["access_token"] for r in scripted.business_requests()]
    for error in errors:
        assert_nothing_secret(exception_texts(error), *issued, WAYBILL_TOKEN, APPSECRET)
    assert_nothing_secret(record_texts(debug_logs), *issued, WAYBILL_TOKEN, APPSECRET)


def test_no_secret_in_any_record_of_a_full_session(sandbox: Any, debug_logs: Any) -> None:
    client = get_client()
    client.update_path(WAYBILL_TOKEN, "SF1", 1533052800, 100001, "picked up")
    client.get_contact(WAYBILL_TOKEN, "SF1")
    sandbox.expire_tokens()  # a refusal, a fetch and a repeat
    client.update_path(WAYBILL_TOKEN, "SF1", 1533052800, 200001, "in transit")
    errors: list[BaseException] = []
    for waybill_id, token in (("NOPE", WAYBILL_TOKEN), ("SF1", "wrong-waybill-token-123")):
        with pytest.raises(WeChatError) as info:
            client.get_contact(token, waybill_id)
        errors.append(info.value)
    sandbox.set_faults(error_rate=1.0, kinds=("http502",))
    with pytest.raises(WeChatError) as info:
        client.update_path(WAYBILL_TOKEN, "SF1", 1533052800, 100001, "picked up")
    errors.append(info.value)

    issued = {c["access_token"] for c in sandbox.calls() if c.get("access_token")}
    assert len(issued) == 2
    secrets = (*issued, WAYBILL_TOKEN, "wrong-waybill-token-123", APPSECRET)
    # The fake server's own log is WeChat's side, not ours; the client's and urllib3's must be clean.
    ours = [r for r in debug_logs.records if not r.name.startswith("django_wxlogistics.sandbox")]
    assert any(r.name == "urllib3.connectionpool" and "access_token=" in r.getMessage() for r in ours)
    debug_logs.records[:] = ours
    assert_nothing_secret(record_texts(debug_logs), *secrets)
    for error in errors:
        assert_nothing_secret(exception_texts(error), *secrets)


def test_a_failed_classic_fetch_hides_the_secret_in_its_url(debug_logs: Any, wx_settings_for: Any) -> None:
    wx_settings_for("http://127.0.0.1:9", ACCESS_TOKEN="classic")
    with pytest.raises(NetworkError) as info:
        get_client().update_path(WAYBILL_TOKEN, "SF1", 1533052800, 100001, "picked up")
    assert info.value.api == "auth.getAccessToken"
    assert "/cgi-bin/token" in str(info.value)  # the redacted URL still says where it failed
    assert_nothing_secret(exception_texts(info.value), APPSECRET)
    assert_nothing_secret(record_texts(debug_logs), APPSECRET)


def _serve_a_malformed_header(body: bytes) -> tuple[str, socket.socket]:
    """A WeChat behind a proxy that adds a header line without a colon; answers each request."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            with connection:
                connection.recv(65536)
                connection.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b"Content-Length: %d\r\nConnection: close\r\na header line without a colon\r\n\r\n%s"
                    % (len(body), body)
                )

    threading.Thread(target=serve, daemon=True).start()
    return f"http://127.0.0.1:{listener.getsockname()[1]}", listener


def test_urllib3_warning_about_a_malformed_header_hides_the_url_secrets(
    caplog: pytest.LogCaptureFixture, wx_settings_for: Any
) -> None:
    url, listener = _serve_a_malformed_header(b'{"errcode": 0, "errmsg": "ok"}')
    try:
        wx_settings_for(url)
        caplog.set_level(logging.WARNING)
        WeChatLogisticsClient(access_token=FixedTokens()).update_path(
            WAYBILL_TOKEN, "SF1", 1533052800, 100001, "picked up"
        )
    finally:
        listener.close()
    [warning] = [r for r in caplog.records if r.name == "urllib3.connection"]
    assert "Failed to parse headers" in warning.getMessage()
    assert f"access_token={PLACEHOLDER}" in warning.getMessage()  # the URL is still there, redacted
    assert_nothing_secret(record_texts(caplog), ACCESS_TOKEN, WAYBILL_TOKEN, APPSECRET)


PACKAGE = Path(__file__).resolve().parents[2] / "django_wxlogistics"


def _logger_calls_in_the_package() -> tuple[set[str], list[str]]:
    """The modules that take their logger from get_logger(__name__), and every other logger
    call (logging.getLogger) with where it is."""
    modules, others = set(), []
    for path in PACKAGE.rglob("*.py"):
        module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            if getattr(node.func, "id", None) == "get_logger":
                assert [getattr(a, "id", None) for a in node.args] == ["__name__"], module
                modules.add(module)
            elif getattr(node.func, "attr", None) == "getLogger":
                others.append(f"{module}:{node.lineno}")
    return modules, others


def test_every_logger_of_the_package_redacts(caplog: pytest.LogCaptureFixture) -> None:
    modules, others = _logger_calls_in_the_package()
    # Only the filter's own module asks logging directly (for urllib3's loggers); the fake WeChat
    # server speaks for WeChat, not for the app, and masks its own log lines.
    assert {
        o
        for o in others
        if not o.startswith(("django_wxlogistics.redaction:", "django_wxlogistics.sandbox."))
    } == set()
    assert {
        "django_wxlogistics.client",
        "django_wxlogistics.delivery.records",
        "django_wxlogistics.receivers",
        "django_wxlogistics.trace_messages",
    } <= modules
    for name in modules:
        assert importlib.import_module(name).logger.name == name
    caplog.set_level(logging.DEBUG)
    remember_secret(ACCESS_TOKEN)
    for name in sorted({*modules, *URL_LOGGERS}):
        logger = logging.getLogger(name)
        assert any(isinstance(f, RedactingFilter) for f in logger.filters), name
        logger.warning(
            "retrying POST /cgi-bin/x?access_token=%s for %s with %s",
            "shape-token-0123456789",
            WAYBILL_TOKEN,
            ACCESS_TOKEN,
        )
    assert {r.name for r in caplog.records} >= {"django_wxlogistics.delivery.records", "urllib3.response"}
    assert_nothing_secret(record_texts(caplog), "shape-token-0123456789", ACCESS_TOKEN, APPSECRET)


def test_the_filters_are_installed_when_django_starts() -> None:
    import os
    import subprocess
    import sys

    ours = (
        "django_wxlogistics.client",
        "django_wxlogistics.delivery.records",
        "django_wxlogistics.receivers",
    )
    names = (*URL_LOGGERS, *ours)
    script = (
        "import logging, django; django.setup(); "
        "from django_wxlogistics.redaction import RedactingFilter; "
        f"names = {names!r}; "
        "print(all(any(isinstance(f, RedactingFilter) for f in logging.getLogger(n).filters) for n in names))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.stdout.strip() == "True", result.stderr[-2000:]

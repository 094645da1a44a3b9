"""A tiny shop's events URL on 127.0.0.1 for the sandbox's own tests: it checks each push's
signature, decrypts it with the push cryptography, assigns waybill ids and answers as asked."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from django_wxlogistics.events.crypto import PushCrypto, PushCryptoError
from django_wxlogistics.events.wire import MalformedBody, dump_body, parse_body

TOKEN = "shop-push-token"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
APPID = "wxshopprovider0001"


@dataclass
class Received:
    """One push as the shop saw it."""

    query: dict[str, str]
    content_type: str
    format: str
    envelope: dict[str, Any]  # the body as sent: the event itself, or ToUserName and Encrypt
    fields: dict[str, Any] | None  # the event, once verified (and decrypted)
    verdict: str  # "ok", or why the shop refused it


@dataclass
class ShopReceiver:
    """The shop's side of message push over real HTTP; ``url`` is its events URL."""

    token: str = TOKEN
    aes_key: str = AES_KEY
    appid: str = APPID
    #: the ResultCode the shop answers (0: accepted)
    result_code: int = 0
    #: called with the event before the shop answers it (a trace pushed meanwhile, say)
    before_reply: Callable[[dict[str, Any]], None] | None = None
    #: replaces the reply body (bytes) the shop would send, to test how the sandbox reads it
    reply_body: Callable[[dict[str, Any], bytes], bytes] | None = None
    #: a different WayBillID for every push of an order (a shop that breaks the promise)
    new_id_each_time: bool = False
    received: list[Received] = field(default_factory=list)
    waybill_ids: dict[tuple[str, str], str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, reply = receiver.handle(self.path, self.headers.get("Content-Type", ""), body)
                self.send_response(status)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/wxlogistics/events/"

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def handle(self, path: str, content_type: str, body: bytes) -> tuple[int, bytes]:
        query = {k: v[0] for k, v in parse_qs(urlsplit(path).query).items()}
        try:
            fmt, envelope = parse_body(body)
        except MalformedBody:
            return 400, b"malformed"
        crypto = PushCrypto(self.token, self.aes_key, self.appid)
        safe = query.get("encrypt_type") == "aes"
        try:
            if safe:
                # msg_signature over Encrypt, never the URL's signature alone
                message = crypto.decrypt(
                    query.get("msg_signature"), query["timestamp"], query["nonce"], envelope["Encrypt"]
                )
                fields = parse_body(message)[1]
            else:
                crypto.verify(query.get("signature"), query["timestamp"], query["nonce"])
                fields = envelope
        except (PushCryptoError, KeyError) as exc:
            self._record(Received(query, content_type, fmt, envelope, None, type(exc).__name__))
            return 403, b"forbidden"
        self._record(Received(query, content_type, fmt, envelope, fields, "ok"))
        if self.before_reply is not None:
            self.before_reply(fields)
        reply = dump_body(self.answer(fields), fmt)
        if safe:
            reply = dump_body(crypto.encrypt(reply).reply_fields(), fmt)
        if self.reply_body is not None:
            reply = self.reply_body(fields, reply)
        return 200, reply

    def _record(self, received: Received) -> None:
        with self._lock:
            self.received.append(received)

    def answer(self, fields: dict[str, Any]) -> dict[str, Any]:
        """The shop's answer: a waybill id per BizID and OrderID, the same for a duplicate push."""
        key = (fields["BizID"], fields["OrderID"])
        with self._lock:
            if fields["Event"] == "add_waybill" and (key not in self.waybill_ids or self.new_id_each_time):
                given = fields["WayBillID"]
                number = len(self.waybill_ids) + len(self.received)
                self.waybill_ids[key] = given if given != "0" else f"SB{number:010d}"
            waybill_id = self.waybill_ids.get(key, fields.get("WayBillID", ""))
        answer = {
            "ToUserName": fields["FromUserName"],
            "FromUserName": fields["ToUserName"],
            "CreateTime": fields["CreateTime"],
            "MsgType": "event",
            "Event": fields["Event"],
            "OrderID": fields["OrderID"],
            "BizID": fields["BizID"],
            "WayBillID": waybill_id,
            "ResultCode": self.result_code,
            "ResultMsg": "成功" if self.result_code == 0 else "订单问题",
        }
        if "Token" in fields:
            answer["Token"] = fields["Token"]
        return answer

    def events(self, event: str | None = None) -> list[dict[str, Any]]:
        """The verified events received, oldest first."""
        with self._lock:
            return [r.fields for r in self.received if r.fields and (not event or r.fields["Event"] == event)]

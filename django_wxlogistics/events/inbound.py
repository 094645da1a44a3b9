"""One delivery to the events endpoint, from the bytes received to the reply: stored first, then checked.

:func:`store` writes the delivery (sealed body, push parameters, headers) before anything is
judged; :func:`process` then checks it and answers it, and records the verdict. "Process
again" calls :func:`process` on the stored body, without the replay window.

The checks, in order: our Token is set; plain mode verifies ``signature``; safe mode
(``encrypt_type=aes``) verifies ``msg_signature`` over the body's ``Encrypt`` and only then
decrypts and checks the AppID; the timestamp lies within ``PUSH_MAX_AGE`` of now. A refused
push is answered 403 (its signature, AppID or timestamp) or 400 (its body), and nothing is
processed; a handler that fails is answered ResultCode -1.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..conf import wx_settings
from ..enums import PushVerdict
from ..exceptions import ConfigurationError
from ..models import InboundEvent
from ..redaction import get_logger, redact
from ..signals import inbound_event_processed
from . import crypto, wire
from .dispatch import answer
from .message import PushMessage
from .privacy import redacted_view, storable
from .results import EventResult, ResultCode, reply_fields
from .sealing import SealError, seal, unseal

logger = get_logger(__name__)

#: The clock the replay window and replies read: seconds since the epoch. Tests replace it.
clock: Callable[[], float] = time.time

#: The query parameters of a push that are kept (none is a secret).
PUSH_PARAMETERS = ("signature", "timestamp", "nonce", "openid", "encrypt_type", "msg_signature", "echostr")
#: The request headers that are kept, by the name they are stored under.
KEPT_HEADERS = {
    "content_type": "CONTENT_TYPE",
    "content_length": "CONTENT_LENGTH",
    "user_agent": "HTTP_USER_AGENT",
    "remote_addr": "REMOTE_ADDR",
    "forwarded_for": "HTTP_X_FORWARDED_FOR",
}
CONTENT_TYPES = {wire.XML: "text/xml; charset=utf-8", wire.JSON: "application/json"}
TEXT = "text/plain; charset=utf-8"
NOT_CONFIGURED = "The events endpoint is not configured for this push."


@dataclass(frozen=True)
class Answer:
    """What the endpoint sends back."""

    status: int
    body: bytes
    content_type: str = TEXT


class Refused(Exception):
    """A delivery refused before any handler ran: its verdict, HTTP status and reason."""

    def __init__(self, verdict: PushVerdict, status: int, reason: str) -> None:
        super().__init__(reason)
        self.verdict, self.status, self.reason = verdict, status, reason


def store(
    method: str, query: Mapping[str, str], meta: Mapping[str, Any], body: bytes, *, size: int | None = None
) -> InboundEvent:
    """Write the delivery as received, before judging it. ``size`` alone: a body too large to keep."""
    return InboundEvent.objects.create(
        method=storable(method, 8),
        safe_mode=query.get("encrypt_type") == "aes",
        sealed_body=seal(body) if size is None else "",
        body_size=len(body) if size is None else size,
        query={name: storable(query[name], 128) for name in PUSH_PARAMETERS if name in query},
        headers={name: storable(meta[key], 256) for name, key in KEPT_HEADERS.items() if meta.get(key)},
        received_at=timezone.now(),
    )


def refuse_too_large(inbound: InboundEvent) -> Answer:
    limit = wx_settings.PUSH_MAX_BYTES
    refusal = Refused(PushVerdict.TOO_LARGE, 400, f"The body has more than {limit} bytes.")
    return _refuse(inbound, refusal)


def process(inbound: InboundEvent, body: bytes, *, check_age: bool = True) -> Answer:
    """Check the stored delivery ``inbound`` (whose body is ``body``), answer it, record the verdict."""
    now = clock()
    try:
        push = _open(inbound, body, now if check_age else None)
    except Refused as refusal:
        return _refuse(inbound, refusal)
    except ConfigurationError as exc:
        return _refuse(inbound, Refused(PushVerdict.NOT_CONFIGURED, 403, str(exc)))
    if push is None:  # URL verification: the echostr, as received
        _record(inbound, verdict=PushVerdict.OK, status_code=200)
        return Answer(200, str(inbound.query.get("echostr", "")).encode("utf-8"))
    message, push_crypto = push
    try:
        # The handler's work and the verdict commit together: one commit fewer per push.
        with transaction.atomic():
            result = answer(message)
            if result is None:
                text = f"Unknown event type {storable(message.event, 64)!r}: nothing was done."
                result, verdict = EventResult(ResultCode.OTHER_ERROR, text), PushVerdict.UNKNOWN_EVENT
            else:
                verdict = PushVerdict.DUPLICATE if result.duplicate else PushVerdict.OK
            inbound.error = ""
            reply = _answer(inbound, message, push_crypto, result, verdict, now)
    except Exception as exc:
        secrets = (message.text("Token"), message.text("BizPwd"))
        details = redact(traceback.format_exc(), *secrets)
        logger.error("The %s handler failed on inbound event %s:\n%s", message.event, inbound.pk, details)
        inbound.error = storable(redact(f"{type(exc).__name__}: {exc}", *secrets), 2000)
        result = EventResult(ResultCode.OTHER_ERROR, "The push could not be processed.")
        reply = _answer(inbound, message, push_crypto, result, PushVerdict.HANDLER_ERROR, now)
    inbound_event_processed.send_robust(sender=InboundEvent, inbound=inbound, message=message, result=result)
    return reply


def _answer(
    inbound: InboundEvent,
    message: PushMessage,
    push_crypto: crypto.PushCrypto,
    result: EventResult,
    verdict: PushVerdict,
    now: float,
) -> Answer:
    """The reply to ``message`` (encrypted and signed in safe mode), recorded with the verdict."""
    if result.plain_reply is not None:
        # WeChat takes a message push's "success" as sent, unencrypted also in safe mode.
        reply: dict[str, Any] = {"text": result.plain_reply}
        reply_body = result.plain_reply.encode("utf-8")
    else:
        reply = reply_fields(message, result, now)
        reply_body = wire.dump_body(reply, message.format)
        if message.safe_mode:
            sealed = push_crypto.encrypt(reply_body, timestamp=int(now))
            reply_body = wire.dump_body(sealed.reply_fields(), message.format)
    _record(
        inbound,
        verdict=verdict,
        status_code=200,
        body_format=message.format,
        event=storable(message.event, 64),
        biz_id=storable(message.text("BizID"), 64),
        order_id=storable(message.text("OrderID"), 128),
        waybill_number=storable(str(reply.get("WayBillID") or message.text("WayBillID", "WaybillId")), 64),
        waybill=result.waybill,
        payload=redacted_view(message.fields),
        reply=redacted_view(reply),
        result_code=int(result.result_code),
        result_msg=storable(reply.get("ResultMsg", result.result_msg), 256),
    )
    content_type = TEXT if result.plain_reply is not None else CONTENT_TYPES[message.format]
    return Answer(200, reply_body, content_type)


class CannotProcessAgain(Exception):
    """A stored delivery that "process again" cannot open; the message says why, for staff."""


def process_again(inbound: InboundEvent) -> Answer:
    """Check and answer a stored push once more, as when it arrived, but without the replay window.

    Processing is idempotent: an order placed already gets its waybill again, a cancelled
    waybill stays cancelled once.
    """
    if inbound.method != "POST":
        raise CannotProcessAgain(_("A URL verification has nothing to process again."))
    if not inbound.sealed_body:
        raise CannotProcessAgain(_("The body was not kept (it was too large)."))
    try:
        body = unseal(inbound.sealed_body)
    except SealError:
        raise CannotProcessAgain(
            _("The body cannot be opened: SECRET_KEY changed since it arrived.")
        ) from None
    return process(inbound, body, check_age=False)


def _open(
    inbound: InboundEvent, body: bytes, now: float | None
) -> tuple[PushMessage, crypto.PushCrypto] | None:
    """The verified message and our crypto; None for a verified URL verification. Refused otherwise."""
    token = wx_settings.PUSH_TOKEN
    if not token or not isinstance(token, str):
        raise Refused(PushVerdict.NOT_CONFIGURED, 403, "WXLOGISTICS['PUSH_TOKEN'] is not set.")
    query = inbound.query
    timestamp, nonce = query.get("timestamp", ""), query.get("nonce", "")
    if not timestamp or not nonce:
        raise Refused(PushVerdict.BAD_SIGNATURE, 403, "The push has no timestamp or nonce.")
    mode = query.get("encrypt_type", "")
    if inbound.method == "GET" or mode in ("", "raw"):
        push_crypto = crypto.PushCrypto(token)
        _verify(lambda: push_crypto.verify(query.get("signature"), timestamp, nonce))
        _check_age(timestamp, now)
        if inbound.method == "GET":
            if "echostr" not in query:
                raise Refused(PushVerdict.MALFORMED, 400, "A URL verification needs an echostr.")
            return None
        fmt, fields = _parse(body)
        return PushMessage(fields, fmt, safe_mode=False), push_crypto
    if mode != "aes":
        raise Refused(PushVerdict.MALFORMED, 400, f"Unknown encrypt_type {storable(mode, 16)!r}.")
    push_crypto = _safe_mode_crypto(token)
    fmt, envelope = _parse(body)
    encrypt = envelope.get("Encrypt")
    if not isinstance(encrypt, str) or not encrypt:
        raise Refused(PushVerdict.MALFORMED, 400, "A safe-mode push needs an Encrypt field.")
    # msg_signature covers Encrypt; the URL's signature does not, so it is never enough here.
    _verify(lambda: push_crypto.verify_encrypted(query.get("msg_signature"), timestamp, nonce, encrypt))
    _check_age(timestamp, now)
    assert push_crypto.cipher is not None
    try:
        plaintext = push_crypto.cipher.decrypt(encrypt)
    except crypto.AppIdMismatch as exc:
        raise Refused(PushVerdict.BAD_APPID, 403, str(exc)) from None
    except crypto.UndecryptableMessage as exc:
        raise Refused(PushVerdict.UNDECRYPTABLE, 400, str(exc)) from None
    inner_format, fields = _parse(plaintext)
    return PushMessage(fields, inner_format, safe_mode=True), push_crypto


def _safe_mode_crypto(token: str) -> crypto.PushCrypto:
    key, appid = wx_settings.ENCODING_AES_KEY, wx_settings.APPID
    if not key or not appid:
        raise Refused(
            PushVerdict.NOT_CONFIGURED, 403, "Safe mode needs WXLOGISTICS['ENCODING_AES_KEY'] and ['APPID']."
        )
    try:
        return crypto.PushCrypto(token, key, appid)
    except crypto.InvalidAESKey as exc:
        raise Refused(PushVerdict.NOT_CONFIGURED, 403, str(exc)) from None


def _verify(check: Callable[[], None]) -> None:
    try:
        check()
    except crypto.SignatureMismatch as exc:
        raise Refused(PushVerdict.BAD_SIGNATURE, 403, str(exc)) from None


def _check_age(timestamp: str, now: float | None) -> None:
    max_age = wx_settings.PUSH_MAX_AGE
    if now is None or max_age is None:
        return
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        raise Refused(PushVerdict.STALE_TIMESTAMP, 403, "The timestamp is not a Unix time.")
    if abs(now - int(timestamp)) > max_age:
        raise Refused(
            PushVerdict.STALE_TIMESTAMP, 403, f"The timestamp is more than {max_age} seconds from now."
        )


def _parse(body: bytes) -> tuple[wire.Format, dict[str, Any]]:
    try:
        return wire.parse_body(body)
    except wire.MalformedBody as exc:
        raise Refused(PushVerdict.MALFORMED, 400, storable(exc, 300)) from None


def _refuse(inbound: InboundEvent, refusal: Refused) -> Answer:
    logger.warning("Inbound event %s refused (%s): %s", inbound.pk, refusal.verdict, refusal.reason)
    _record(inbound, verdict=refusal.verdict, status_code=refusal.status, error=storable(refusal.reason))
    # Our settings are no business of whoever calls: the stored error names them.
    reason = NOT_CONFIGURED if refusal.verdict == PushVerdict.NOT_CONFIGURED else refusal.reason
    return Answer(refusal.status, reason.encode("utf-8"))


def _record(inbound: InboundEvent, **fields: Any) -> None:
    for name, value in fields.items():
        setattr(inbound, name, value)
    inbound.processed_count += 1
    inbound.processed_at = timezone.now()
    inbound.save()

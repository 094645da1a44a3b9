"""Pushing an event to the shop's events URL as WeChat does: signed, in safe mode encrypted,
as JSON or XML; then reading the reply, verified and decrypted in safe mode."""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, replace
from typing import Any, cast
from urllib.parse import urlsplit

import requests

from ..events.crypto import PushCrypto, PushCryptoError, decode_aes_key, new_nonce, signature
from ..events.wire import Format, MalformedBody, dump_body, parse_json, parse_xml

logger = logging.getLogger("django_wxlogistics.sandbox")

FORMATS = ("json", "xml")
CONTENT_TYPES = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
MODES = ("safe", "plain")
#: what a push can be made to get wrong, for the shop's checks to catch
PUSH_FAULTS = ("bad_signature", "wrong_appid", "stale_timestamp")
#: how old a "stale_timestamp" push claims to be
STALE_SECONDS = 3600
#: an appid no shop has: a "wrong_appid" push is encrypted for it
WRONG_APPID = "wx00000000000000ff"
#: the fields of a push that the push log shows as "***"
HIDDEN_FIELDS = ("Token", "BizPwd")


@dataclass(frozen=True)
class PushConfig:
    """Where and how pushes go: the shop's events URL, its Token, EncodingAESKey and AppID."""

    url: str | None = None
    token: str | None = None
    aes_key: str | None = None
    appid: str | None = None
    format: str = "json"
    mode: str = "safe"
    timeout: float = 5.0

    def updated(self, data: dict[str, Any]) -> PushConfig:
        """This configuration with the options in ``data`` changed; ValueError saying what to fix."""
        unknown = set(data) - set(self.__dataclass_fields__)
        if unknown:
            raise ValueError(
                f"unknown push option(s) {', '.join(sorted(unknown))}; "
                f"use {', '.join(self.__dataclass_fields__)}"
            )
        for name in ("url", "token", "aes_key", "appid"):
            if name in data and data[name] is not None and not isinstance(data[name], str):
                raise ValueError(f"push {name} must be a string or null")
        config = replace(self, **data)
        if config.url is not None and urlsplit(config.url).scheme not in ("http", "https"):
            raise ValueError(f"push url must be an http:// or https:// address, not {config.url!r}")
        if config.format not in FORMATS:
            raise ValueError(f"push format must be one of {', '.join(FORMATS)}, not {config.format!r}")
        if config.mode not in MODES:
            raise ValueError(f"push mode must be one of {', '.join(MODES)}, not {config.mode!r}")
        if config.aes_key is not None:
            decode_aes_key(config.aes_key)  # InvalidAESKey (a ValueError) says what is wrong
        timeout = config.timeout
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 < timeout <= 60:
            raise ValueError(f"push timeout must be a number of seconds from 0 to 60, not {timeout!r}")
        return config

    def missing(self) -> str | None:
        """What must be configured before pushing, or None."""
        needed = ["url", "token"] + (["aes_key", "appid"] if self.mode == "safe" else [])
        absent = [name for name in needed if not getattr(self, name)]
        if not absent:
            return None
        return (
            f"configure the push first ({', '.join(absent)} missing): POST /__sandbox__/push, "
            "the --push-* options or SandboxControl.configure_push()"
        )

    def to_dict(self) -> dict[str, Any]:
        """The configuration as the control API shows it: the Token and key only as set or not."""
        data = asdict(self)
        data["token"] = "***" if self.token else None
        data["aes_key"] = "***" if self.aes_key else None
        return data


class BadReply(ValueError):
    """The shop's reply cannot be read or trusted; the message says why."""


def as_int(value: Any) -> int | None:
    """A number as XML (text) or JSON (a number) carries it; None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


def _shown(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: ("***" if k in HIDDEN_FIELDS and v else v) for k, v in fields.items()}


def signed_body(
    config: PushConfig, fields: dict[str, Any], fault: str | None = None
) -> tuple[dict[str, str], bytes]:
    """The query string and body of a push of ``fields``, as WeChat sends it."""
    assert config.token is not None
    token = config.token + "-not-the-shops" if fault == "bad_signature" else config.token
    timestamp = str(int(time.time()) - (STALE_SECONDS if fault == "stale_timestamp" else 0))
    nonce = new_nonce()
    fmt = cast(Format, config.format)
    plaintext = dump_body(fields, fmt)
    if config.mode == "plain":
        return {
            "signature": signature(token, timestamp, nonce),
            "timestamp": timestamp,
            "nonce": nonce,
        }, plaintext
    assert config.aes_key is not None and config.appid is not None
    appid = WRONG_APPID if fault == "wrong_appid" else config.appid
    signed = PushCrypto(token, config.aes_key, appid).encrypt(plaintext, timestamp, nonce)
    return signed.push_query(), dump_body(
        {"ToUserName": fields["ToUserName"], "Encrypt": signed.encrypt}, fmt
    )


def _parse(body: bytes, fmt: str) -> dict[str, Any]:
    try:
        return parse_xml(body) if fmt == "xml" else parse_json(body)
    except MalformedBody as exc:
        raise BadReply(f"the reply is not {fmt.upper()} as pushed: {exc}") from None


def read_reply(config: PushConfig, body: bytes) -> dict[str, Any]:
    """The fields of the shop's reply, in the push's format; in safe mode its MsgSignature
    checked and its Encrypt decrypted for our AppID. BadReply says what is wrong with it."""
    fields = _parse(body, config.format)
    if config.mode == "plain":
        return fields
    assert config.token is not None and config.aes_key is not None and config.appid is not None
    try:
        plaintext = PushCrypto(config.token, config.aes_key, config.appid).open_reply(fields)
    except PushCryptoError as exc:
        raise BadReply(f"the safe-mode reply cannot be trusted: {exc}") from None
    return _parse(plaintext, config.format)


def post_push(
    config: PushConfig, query: dict[str, str], body: bytes
) -> tuple[requests.Response | None, str | None, float]:
    """POST a signed push (see :func:`signed_body`) to the shop once: its response (None when it
    did not reply), what is wrong with it (no reply, or not HTTP 200) and how long it took, in ms."""
    assert config.url is not None
    started = time.perf_counter()
    try:
        response = requests.post(
            config.url,
            params=query,
            data=body,
            headers={"Content-Type": CONTENT_TYPES[config.format]},
            timeout=config.timeout,
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        # The exception's text repeats the URL and the signed query: the kind is enough to act on.
        return None, f"no reply from the shop ({type(exc).__name__})", _ms_since(started)
    error = None if response.status_code == 200 else f"the shop answered HTTP {response.status_code}"
    return response, error, _ms_since(started)


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


def push(config: PushConfig, fields: dict[str, Any], fault: str | None = None) -> dict[str, Any]:
    """POST ``fields`` to the shop and read its answer; the push as the push log keeps it.

    ``ok`` is true when the shop answered ResultCode 0; ``error`` says otherwise why not.
    """
    missing = config.missing()
    if missing:
        raise ValueError(missing)
    assert config.url is not None
    query, body = signed_body(config, fields, fault)
    record: dict[str, Any] = {
        "event": fields["Event"],
        "order_id": fields.get("OrderID"),
        "url": config.url,
        "format": config.format,
        "mode": config.mode,
        "fault": fault,
        "time": time.time(),
        "duration_ms": None,
        "status": None,
        "request": _shown(fields),
        "reply": None,
        "raw_reply": None,
        "result_code": None,
        "result_msg": None,
        "waybill_id": None,
        "ok": False,
        "error": None,
    }
    response, record["error"], record["duration_ms"] = post_push(config, query, body)
    if response is None:
        _log(record)
        return record
    record["status"] = response.status_code
    if record["error"]:
        record["raw_reply"] = response.text[:500]
        _log(record)
        return record
    try:
        reply = read_reply(config, response.content)
    except BadReply as exc:
        record["error"] = str(exc)
        record["raw_reply"] = response.text[:500]
        _log(record)
        return record
    record["reply"] = _shown(reply)
    record["result_code"] = as_int(reply.get("ResultCode"))
    record["result_msg"] = reply.get("ResultMsg")
    record["waybill_id"] = reply.get("WayBillID") or None
    if record["result_code"] is None:
        record["error"] = "the reply has no ResultCode"
    elif record["result_code"] != 0:
        record["error"] = f"the shop answered ResultCode {record['result_code']} ({record['result_msg']})"
    else:
        record["ok"] = True
    _log(record)
    return record


def _log(record: dict[str, Any]) -> None:
    if logger.isEnabledFor(logging.INFO):
        outcome = "ResultCode 0" if record["ok"] else record["error"]
        logger.info(
            "push %s of order %s -> %s: %s", record["event"], record["order_id"], record["url"], outcome
        )

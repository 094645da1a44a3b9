"""What the sandbox answers: a status, a content type, bytes, and what the call log keeps."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import parse_qs, quote, urlsplit

JSON = "application/json; charset=utf-8"
HTML = "text/html; charset=utf-8"

OK: dict[str, Any] = {"errcode": 0, "errmsg": "ok"}

State = TypeVar("State")


def json_object(raw: bytes) -> dict[str, Any]:
    """The control API's request body as a JSON object; an empty body is an empty one.

    Raises ValueError, with the message the caller answers 400 with, for anything else.
    """
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ValueError(f"the body must be a JSON object: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError("the body must be a JSON object")
    return data


def only_fields(data: dict[str, Any], *allowed: str) -> None:
    """Raises ValueError, with the message the caller answers 400 with, for a field not ``allowed``."""
    unknown = set(data) - set(allowed)
    if unknown:
        raise ValueError(
            f"unknown field(s) {', '.join(sorted(unknown))}; use {', '.join(allowed) or 'an empty body'}"
        )


def page_form(
    method: str, raw: bytes, headers: Mapping[str, str]
) -> tuple[dict[str, str], str] | Reply | None:
    """The fields of a form posted from the sandbox's page, and the page to show again after it
    (in the form's language); a form posted from another site is answered 403, and anything but
    a POST is no form (None)."""
    if method != "POST":
        return None
    origin = headers.get("Origin")
    # No Origin: not a browser's cross-site request (curl, a test, an old browser).
    if origin and urlsplit(origin).netloc != headers.get("Host", ""):
        return json_reply({"error": "the sandbox's forms are posted from its own page only"}, status=403)
    form = {k: v[0] for k, v in parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True).items()}
    return form, f"/__sandbox__/?lang={quote(form.get('lang', 'zh'))}"


def form_route(
    handle: Callable[[State, str, dict[str, str], str], Reply | None],
) -> Callable[[State, str, str, bytes, Mapping[str, str]], Reply | None]:
    """The route ``(state, method, path, raw, headers)`` of some of the page's forms, from
    ``handle(state, path, form, back)`` called with what :func:`page_form` read."""

    def route(state: State, method: str, path: str, raw: bytes, headers: Mapping[str, str]) -> Reply | None:
        posted = page_form(method, raw, headers)
        if not isinstance(posted, tuple):
            return posted
        form, back = posted
        return handle(state, path, form, back)

    return route


class Reply:
    __slots__ = ("body", "content_type", "headers", "payload", "status")

    def __init__(
        self, status: int, payload: Any, *, content_type: str = JSON, headers: dict[str, str] | None = None
    ) -> None:
        self.status = status
        self.payload = payload  # what the call log records
        self.content_type = content_type
        self.headers = headers or {}
        if isinstance(payload, bytes):
            self.body = payload
        elif isinstance(payload, str):
            self.body = payload.encode("utf-8")
        else:
            self.body = json.dumps(payload, ensure_ascii=False).encode("utf-8")


def json_reply(payload: Any, status: int = 200) -> Reply:
    return Reply(status, payload)


def html_reply(page: str, status: int = 200) -> Reply:
    return Reply(status, page, content_type=HTML)


def redirect(location: str) -> Reply:
    """303 See Other: after a form on the sandbox's page, the browser shows ``location``."""
    return Reply(303, b"", content_type=HTML, headers={"Location": location})


def wechat_error(errcode: int, errmsg: str) -> Reply:
    """A WeChat-style error (HTTP 200); WeChat appends a request id to every message."""
    rid = f"{uuid.uuid4().hex[:8]}-{uuid.uuid4().hex[:8]}"
    return json_reply({"errcode": errcode, "errmsg": f"{errmsg} rid: {rid}"})


def data_format_error(hint: str) -> Reply:
    return wechat_error(47001, f"data format error hint: {hint}")

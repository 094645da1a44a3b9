"""The events endpoint WeChat pushes to: ``events/``, answered by :mod:`.inbound`.

CSRF-exempt (WeChat signs its pushes instead) and outside any ``ATOMIC_REQUESTS`` transaction,
so a delivery is committed before it is judged and stays stored whatever happens next.
"""

from __future__ import annotations

import traceback

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from ..conf import wx_settings
from ..redaction import get_logger, redact
from . import inbound

logger = get_logger(__name__)


def _read_body(request: HttpRequest, limit: int) -> bytes | None:
    """The body, or None when it has more than ``limit`` bytes (read no further than that)."""
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if declared.isdigit() and int(declared) > limit:
        return None
    chunks, size = [], 0
    while size <= limit:
        chunk = request.read(min(65536, limit + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return None if size > limit else b"".join(chunks)


@csrf_exempt
@transaction.non_atomic_requests
@require_http_methods(["GET", "POST"])
def push_endpoint(request: HttpRequest) -> HttpResponse:
    """Store the delivery, then check and answer it."""
    method = "POST" if request.method == "POST" else "GET"
    query = {name: request.GET[name] for name in inbound.PUSH_PARAMETERS if name in request.GET}
    try:
        limit = int(wx_settings.PUSH_MAX_BYTES)
        body = _read_body(request, limit) if method == "POST" else b""
        if body is None:
            declared = request.META.get("CONTENT_LENGTH") or ""
            size = int(declared) if declared.isdigit() else limit + 1
            answer = inbound.refuse_too_large(inbound.store(method, query, request.META, b"", size=size))
        else:
            delivery = inbound.store(method, query, request.META, body)
            answer = inbound.process(delivery, body)
    except Exception:
        # Django's error page would show the body's Token among the local variables.
        logger.error("The events endpoint failed:\n%s", redact(traceback.format_exc()))
        return HttpResponse(b"Temporarily unavailable.", status=503, content_type=inbound.TEXT)
    return HttpResponse(answer.body, status=answer.status, content_type=answer.content_type)

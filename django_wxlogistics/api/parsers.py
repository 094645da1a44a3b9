"""Request bodies the API cannot take, answered as JSON 400s: nested too deeply, or over Django's limits."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.utils.translation import gettext_lazy as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError

#: How deep arrays and objects may nest in a JSON body. The API's bodies are flat objects;
#: far deeper ones make Python give up (RecursionError) here or where the data is shown again.
MAX_JSON_DEPTH = 32


def nesting_depth(data: Any, limit: int) -> int:
    """How deep ``data`` nests, counted up to ``limit + 1`` (a loop, not recursion)."""
    deepest = 0
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else None
        if children is None:
            continue
        deepest = max(deepest, depth)
        if deepest > limit:
            break
        stack.extend((child, depth + 1) for child in children)
    return deepest


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, where arrays or objects nested more than ``MAX_JSON_DEPTH`` deep are
    a parse error (Python's decoder raises a RecursionError at about a thousand, which DRF does
    not catch)."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            data = None
        else:
            if nesting_depth(data, MAX_JSON_DEPTH) <= MAX_JSON_DEPTH:
                return data
        message = _("JSON parse error - arrays and objects are nested more than %(max)d deep.")
        raise ParseError(message % {"max": MAX_JSON_DEPTH})


def too_large(exc: Exception) -> ParseError | None:
    """The 400 for a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` and its kin, or None for another error.

    Django raises these as it reads the body, before any parser runs, and answers them with
    an HTML page unless the API does.
    """
    if isinstance(exc, RequestDataTooBig):
        return ParseError(
            _(
                "The request body is larger than this server accepts "
                "(DATA_UPLOAD_MAX_MEMORY_SIZE, %(size)s bytes)."
            )
            % {"size": settings.DATA_UPLOAD_MAX_MEMORY_SIZE}
        )
    if isinstance(exc, TooManyFieldsSent):
        return ParseError(
            _("The form has more fields than this server accepts (DATA_UPLOAD_MAX_NUMBER_FIELDS, %(count)s).")
            % {"count": settings.DATA_UPLOAD_MAX_NUMBER_FIELDS}
        )
    if isinstance(exc, TooManyFilesSent):
        return ParseError(
            _("The form has more files than this server accepts (DATA_UPLOAD_MAX_NUMBER_FILES, %(count)s).")
            % {"count": settings.DATA_UPLOAD_MAX_NUMBER_FILES}
        )
    return None

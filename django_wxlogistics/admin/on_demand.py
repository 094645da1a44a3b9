"""How an admin panel asks WeChat on demand: throttled, failures worded and logged, a panel or a page."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.http import HttpRequest
from django.template.response import TemplateResponse

from ..contact_errors import contact_error_detail
from ..exceptions import ConfigurationError, WeChatError

T = TypeVar("T")

#: The header the panel's script sends: answer with the panel alone, not a whole page.
FRAGMENT_HEADER = "X-Requested-With"


def is_fragment(request: HttpRequest) -> bool:
    """Whether the panel's script asks (the panel alone), not a browser without script (a page)."""
    return request.headers.get(FRAGMENT_HEADER) == "XMLHttpRequest"


def lookup_error(
    exc: Exception,
    message: Callable[[BaseException], str],
    logger: logging.Logger,
    what: str,
    key: str,
    *secrets: str,
) -> tuple[str, str]:
    """(message, technical detail) of a failed look-up at WeChat; logged, never a secret shown.

    ``message`` words the exception for staff; ``what`` of ``key`` (e.g. "Contacts" of
    "waybill 123") is what the log says could not be loaded; ``secrets`` are redacted from the detail.
    """
    if isinstance(exc, (WeChatError, ConfigurationError)):
        # The exception's text is already free of secrets; the class says what went wrong.
        logger.info("%s of %s could not be loaded: %s", what, key, exc)
        return message(exc), contact_error_detail(exc, *secrets)
    # e.g. a database or cache error: a panel that says so, not a 500. The traceback goes
    # through the logger's RedactingFilter; the message names no secret.
    logger.exception(
        "%s of %s could not be loaded in the admin: unexpected %s.", what, key, type(exc).__name__
    )
    return message(exc), ""


@dataclass
class Asked(Generic[T]):
    """What a look-up at WeChat gave: its answer, or the words for why not (and, when the
    user asked too often, the seconds to wait)."""

    answer: T | None = None
    error: str = ""
    error_detail: str = ""
    wait: int | None = None


def ask_wechat(
    request: HttpRequest,
    ask: Callable[[], T],
    *,
    wait: Callable[[HttpRequest], int | None],
    too_many: Callable[[int], str],
    message: Callable[[BaseException], str],
    logger: logging.Logger,
    what: str,
    key: str,
    secrets: tuple[str, ...] = (),
) -> Asked[T]:
    """``ask()`` unless the user's look-ups are throttled (``wait``, counted with the API's; a
    refused one asks WeChat nothing); any failure worded by ``message`` and logged, never raised."""
    asked: Asked[T] = Asked()
    try:
        asked.wait = wait(request)
        if asked.wait is not None:
            asked.error = too_many(asked.wait)
        else:
            asked.answer = ask()
    except Exception as exc:
        asked.error, asked.error_detail = lookup_error(exc, message, logger, what, key, *secrets)
    return asked


def panel_response(
    request: HttpRequest, context: dict[str, Any], page: str, panel: str, wait: int | None
) -> TemplateResponse:
    """The ``panel`` template alone for the panel's script, else ``page``; a 429 with Retry-After
    when the user must ``wait``. Sets ``standalone`` in the context."""
    context["standalone"] = not is_fragment(request)
    response = TemplateResponse(request, page if context["standalone"] else panel, context)
    if wait is not None:
        response.status_code = 429
        response["Retry-After"] = str(wait)
    return response

"""One place that removes secrets from text: access tokens, the app secret, waybill tokens.

The access token travels in every URL (``?access_token=``), and URLs turn up in places
the app does not write itself: ``requests`` exception messages, urllib3's DEBUG request
log, tracebacks. Everything the app raises goes through :func:`redact`, and everything it
logs through :class:`RedactingFilter`, the one redaction filter: each module of the package
takes its logger from :func:`get_logger` (``get_logger(__name__)``), which puts the filter on
it, and :func:`install_log_filters` puts it on urllib3's loggers that print URLs.

Two kinds of redaction are combined:

* by shape: ``access_token=…``, ``secret=…`` and ``token=…`` in query strings, and the
  ``"access_token"``, ``"secret"`` and ``"token"`` fields of JSON text;
* by value: the configured ``APPSECRET``, the access tokens this process has used
  (:func:`remember_secret`), and any value passed to :func:`redact` explicitly, also as a
  page quoting a request would write them (URL-encoded, JSON- or HTML-escaped).

Text is redacted whole, and only then cut to size: a secret cut in two is no longer
recognisable by its value or its shape, so a cut made first lets its first part through.
"""

from __future__ import annotations

import html
import json
import logging
import re
import threading
from collections import deque
from functools import lru_cache
from urllib.parse import quote, quote_plus

#: What a secret is replaced with.
PLACEHOLDER = "[redacted]"

# Values shorter than this are not redacted by value: replacing "1" everywhere helps nobody.
_MIN_SECRET_LENGTH = 6

_QUERY = re.compile(r"(?P<key>(?:[?&;]|\b)(?:access_token|secret|appsecret|token)=)[^&\s'\"#)<>]+", re.I)
_JSON = re.compile(
    r'(?P<key>"(?:access_token|secret|appsecret|token)"\s*:\s*")(?:[^"\\]|\\.)*(?=")',
    re.I,
)

#: The loggers known to print request URLs (with their query string) on their own.
URL_LOGGERS = (
    "urllib3.connectionpool",
    "urllib3.connection",  # "Failed to parse headers (url=%s)" at WARNING
    "urllib3.response",
    "urllib3.util.retry",
    "urllib3.poolmanager",
)

_remembered: deque[str] = deque(maxlen=32)
_remembered_lock = threading.Lock()


def remember_secret(value: str | None) -> None:
    """Redact ``value`` by value from now on (e.g. an access token just fetched).

    Only the last few values are kept: access tokens are replaced every two hours.
    """
    if value and len(value) >= _MIN_SECRET_LENGTH:
        with _remembered_lock:
            if value not in _remembered:
                _remembered.append(value)


def _configured_secrets() -> list[str]:
    try:
        from .conf import wx_settings

        secret = wx_settings.APPSECRET
    except Exception:  # settings not configured or malformed: shape-based redaction still applies
        return []
    return [secret] if isinstance(secret, str) else []


def redact(text: object, *secrets: str | None) -> str:
    """``text`` as a string with every known secret, and everything shaped like one, removed."""
    result = str(text)
    if not result:
        return result
    result = _QUERY.sub(lambda m: m.group("key") + PLACEHOLDER, result)
    result = _JSON.sub(lambda m: m.group("key") + PLACEHOLDER, result)
    with _remembered_lock:
        values: list[str | None] = [*secrets, *_remembered]
    values += _configured_secrets()
    forms = {form for v in values if v and len(v) >= _MIN_SECRET_LENGTH for form in _written_forms(v)}
    # Longest first, so a secret that contains another is removed whole.
    for value in sorted(forms, key=len, reverse=True):
        result = result.replace(value, PLACEHOLDER)
    return result


@lru_cache(maxsize=256)
def _written_forms(value: str) -> frozenset[str]:
    """``value`` as is, and as an error page or a log quoting a request may write it."""
    return frozenset(
        {
            value,
            quote(value, safe=""),
            quote_plus(value),
            json.dumps(value)[1:-1],
            json.dumps(value, ensure_ascii=False)[1:-1],
            html.escape(value),
        }
    )


class RedactingFilter(logging.Filter):
    """A logging filter that rewrites each record's message (and traceback) without secrets.

    Put it on a logger (records logged there) or on a handler (every record it emits)::

        LOGGING["filters"] = {"wxlogistics_redact": {"()": "django_wxlogistics.redaction.RedactingFilter"}}
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: leave it to the handler to report
            return True
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


_filter_lock = threading.Lock()


def _add_filter(logger: logging.Logger) -> None:
    with _filter_lock:
        if not any(isinstance(f, RedactingFilter) for f in logger.filters):
            logger.addFilter(RedactingFilter())


def get_logger(name: str) -> logging.Logger:
    """The logger ``name`` (a module passes its ``__name__``) with :class:`RedactingFilter` on it.

    Each module that logs takes its own logger from here. A filter on a logger sees only the
    records logged there: logging hands a child's records to its ancestors' handlers, never to
    their filters, so a filter on ``django_wxlogistics`` alone would let its modules' records
    through unredacted. The level is left alone: the ``django_wxlogistics`` logger's level and
    handlers, as the shop's ``LOGGING`` sets them, apply to every module's records.
    """
    logger = logging.getLogger(name)
    _add_filter(logger)
    return logger


_installed = False


def install_log_filters() -> None:
    """Put :class:`RedactingFilter` on urllib3's loggers that print URLs (:data:`URL_LOGGERS`).

    Called by ``AppConfig.ready()`` and by the client; idempotent.
    """
    global _installed
    if _installed:
        return
    for name in URL_LOGGERS:
        _add_filter(logging.getLogger(name))
    _installed = True

"""One place that removes secrets from text: access tokens, the app secret, waybill tokens.

The access token travels in every URL (``?access_token=``), and URLs turn up in places
the app does not write itself: ``requests`` exception messages, urllib3's DEBUG request
log, tracebacks. Everything the app logs or raises goes through :func:`redact`, and
:func:`install_log_filters` puts :class:`RedactingFilter` on the loggers that print URLs
and on every logger of this package.

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
from pathlib import Path
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
#: The fake WeChat server speaks for WeChat, not for the app: it masks its own logs.
_UNFILTERED = ("django_wxlogistics.sandbox",)

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


_installed = False
_install_lock = threading.Lock()


def package_logger_names() -> list[str]:
    """``django_wxlogistics`` and the name of each of its modules (the names its loggers use).

    A filter on a logger sees only the records logged there, not those of its children, so
    each module's logger needs its own. Read from the files, so a new module is covered
    without being imported here.
    """
    root = Path(__file__).resolve().parent
    names = {root.name}
    for path in root.rglob("*.py"):
        parts = path.relative_to(root).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names.add(".".join((root.name, *parts)))
    return sorted(n for n in names if not any(n == u or n.startswith(u + ".") for u in _UNFILTERED))


def install_log_filters() -> None:
    """Put :class:`RedactingFilter` on urllib3's URL-printing loggers and on ours. Idempotent."""
    global _installed
    with _install_lock:
        if _installed:
            return
        for name in (*URL_LOGGERS, *package_logger_names()):
            logger = logging.getLogger(name)
            if not any(isinstance(f, RedactingFilter) for f in logger.filters):
                logger.addFilter(RedactingFilter())
        _installed = True

"""How a request reaches WeChat and its answer comes back: HTTP, JSON, and errors classified.

One ``requests.Session`` per process, with a pool and a timeout; every text that may quote
the request (an error page, an exception) has the access token and the caller's secrets
removed before it is kept, logged or raised.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any

import requests
from django.utils.translation import gettext as _
from requests.adapters import HTTPAdapter

from . import __version__
from .conf import DEFAULTS
from .exceptions import (
    ApiUnauthorized,
    InvalidCredentials,
    NetworkError,
    PermanentError,
    RateLimited,
    ServerError,
    WeChatError,
    error_for_errcode,
)
from .redaction import get_logger, redact

logger = get_logger(__name__)

USER_AGENT = f"django-wxlogistics/{__version__}"

# The most of a non-JSON answer kept in an error message.
_BODY_EXCERPT = 200


def _timeout(value: Any) -> float | tuple[float, float]:
    if isinstance(value, (list, tuple)):
        if len(value) == 2:
            return (float(value[0]), float(value[1]))
        value = value[0]
    if value is None:
        return _timeout(DEFAULTS["TIMEOUT"])
    return float(value)


class Transport:
    """HTTP to WeChat: one ``requests.Session`` per process, JSON in and out, errors classified."""

    def __init__(
        self,
        base_url: str,
        timeout: float | tuple[float, float] | None = None,
        pool_maxsize: int | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = _timeout(timeout)
        self.pool_maxsize = int(pool_maxsize or DEFAULTS["HTTP_POOL_MAXSIZE"])
        self._session: requests.Session | None = None
        self._session_pid = 0
        self._session_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<Transport {self.base_url}>"

    @property
    def session(self) -> requests.Session:
        """This process's session; a child of a fork gets its own (sockets must not be shared)."""
        session = self._session
        if session is not None and self._session_pid == os.getpid():
            return session
        with self._session_lock:
            if self._session is None or self._session_pid != os.getpid():
                self._session = self._new_session()
                self._session_pid = os.getpid()
            return self._session

    def _new_session(self) -> requests.Session:
        session = requests.Session()
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=self.pool_maxsize)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        session.headers.update(
            {
                "User-Agent": USER_AGENT,
                "Accept": "application/json",
                "Content-Type": "application/json; charset=utf-8",
            }
        )
        # WeChat sets no cookies worth keeping; refusing them keeps the session stateless.
        session.cookies.set_policy(_NoCookies())
        # Proxies and CA bundle from the environment, read once per process rather than on
        # every call (requests' trust_env costs ~15% of a call); netrc is never used.
        session.trust_env = False
        session.proxies.update(requests.utils.get_environ_proxies(self.base_url))
        bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        if bundle:
            session.verify = bundle
        return session

    def close(self) -> None:
        with self._session_lock:
            if self._session is not None and self._session_pid == os.getpid():
                self._session.close()
            self._session = None

    def request(
        self,
        api: str,
        method: str,
        path: str,
        *,
        access_token: str | None = None,
        params: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
        secrets: Iterable[str | None] = (),
        errors: Mapping[int, type[WeChatError]] | None = None,
    ) -> dict[str, Any]:
        """Send one request and return WeChat's JSON answer; raise the matching error.

        ``secrets`` are values (e.g. the waybill token) to keep out of any message.
        ``errors`` maps errcodes to exception classes ahead of :func:`error_for_errcode`.
        """
        query = dict(params or {})
        if access_token:
            query["access_token"] = access_token
        # ensure_ascii=False: WeChat shows \\uXXXX escapes literally in some places.
        data = None if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
        hidden = (access_token, *secrets, (params or {}).get("secret"))
        started = time.perf_counter()
        failure: WeChatError | None = None
        response: requests.Response | None = None
        try:
            response = self.session.request(
                method, self.base_url + path, params=query, data=data, timeout=self.timeout
            )
        except requests.Timeout as exc:
            failure = NetworkError(None, _describe_network_error(exc, hidden), api)
        except requests.RequestException as exc:
            failure = NetworkError(None, _describe_network_error(exc, hidden), api)
        # Raised outside the except block: requests' exception (its text carries the URL
        # with the access token) must not ride along as __context__.
        if failure is None:
            assert response is not None
            payload, failure = self._read(api, response, hidden, errors)
            if failure is None:
                if logger.isEnabledFor(logging.DEBUG):
                    duration = _ms(started)
                    logger.debug(
                        "%s ok in %.1f ms",
                        api,
                        duration,
                        extra={"wx_api": api, "wx_errcode": 0, "wx_duration_ms": duration},
                    )
                return payload
        self._log_failure(failure, started)
        raise failure

    def _read(
        self,
        api: str,
        response: requests.Response,
        hidden: tuple[str | None, ...],
        errors: Mapping[int, type[WeChatError]] | None,
    ) -> tuple[dict[str, Any], WeChatError | None]:
        status = response.status_code
        content = response.content
        try:
            payload = json.loads(content) if content else None
        except ValueError:
            payload = None
        if status != 200 or not isinstance(payload, dict):
            # Redact the whole text, then cut: a secret crossing the cut would escape whole-value redaction.
            excerpt = redact(content.decode("utf-8", "replace"), *hidden)[:_BODY_EXCERPT]
            errcode, errmsg = _errcode_of(payload)
            cls: type[WeChatError]
            if status == 429:
                cls = RateLimited
            elif status >= 500 or status == 200:
                cls = ServerError
            else:
                cls = PermanentError
            message = redact(errmsg, *hidden) if errmsg else excerpt
            if status == 200:
                message = _("the answer is not a JSON object: %(excerpt)r") % {"excerpt": excerpt}
            return {}, cls(errcode, message, api, status=status if status != 200 else None)
        errcode, errmsg = _errcode_of(payload)
        if errcode in (None, 0):  # a reply with no errcode is a success (getContact's has none)
            return payload, None
        assert errcode is not None
        cls = (errors or {}).get(errcode) or error_for_errcode(errcode)
        safe = json.loads(redact(json.dumps(payload, ensure_ascii=False), *hidden))
        return payload, cls(errcode, redact(errmsg, *hidden), api, response=safe)

    def _log_failure(self, error: WeChatError, started: float) -> None:
        # Only what the shop must fix by hand is an error; WeChat's answers about data are warnings.
        level = logging.ERROR if isinstance(error, (InvalidCredentials, ApiUnauthorized)) else logging.WARNING
        duration = _ms(started)
        logger.log(
            level,
            "%s failed in %.1f ms: %s",
            error.api,
            duration,
            error,
            extra={"wx_api": error.api, "wx_errcode": error.errcode, "wx_duration_ms": duration},
        )


class _NoCookies(requests.cookies.cookielib.DefaultCookiePolicy):
    def set_ok(self, cookie: Any, request: Any) -> bool:
        return False


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


def _errcode_of(payload: Any) -> tuple[int | None, str]:
    if not isinstance(payload, dict):
        return None, ""
    errcode = payload.get("errcode")
    errmsg = payload.get("errmsg")
    try:
        code = None if errcode is None else int(errcode)
    except (TypeError, ValueError):
        code = -1  # a malformed errcode is treated as WeChat's "system busy"
    return code, "" if errmsg is None else str(errmsg)


def _describe_network_error(exc: requests.RequestException, hidden: Iterable[str | None]) -> str:
    kind = "timed out" if isinstance(exc, requests.Timeout) else "connection failed"
    return f"{kind}: {type(exc).__name__}: {redact(exc, *hidden)}"

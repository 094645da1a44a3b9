"""Access tokens: where they come from and how every process of the shop shares one.

``WXLOGISTICS["ACCESS_TOKEN"]`` chooses the provider:

``"stable"`` (default)
    ``POST /cgi-bin/stable_token`` in normal mode (never ``force_refresh``, which WeChat
    limits to 20 a day).
``"classic"``
    ``GET /cgi-bin/token``. Each fetch makes a new token; the previous one dies about
    five minutes later, so only one system may fetch tokens for an AppID.
``"cloud"``
    WeChat Cloud Hosting: calls carry no access token; the platform adds it.
a dotted path
    The shop's own provider (e.g. a client of its central token service): a class (built
    with no arguments) or an object with the two methods of :class:`AccessTokenProvider`.

``stable`` and ``classic`` keep the token in the :class:`~django_wxlogistics.models.AccessToken`
table (one row per AppID, :mod:`django_wxlogistics.token_store`) with a per-process cache in
front. The row's lock makes the fleet fetch once per expiry window: whoever holds the lock
fetches, everyone else waits for it and reuses what it stored. Tokens are refreshed ahead of
expiry (``ACCESS_TOKEN_REFRESH_MARGIN``) by one process while the others keep using the old
one, and never used in their last :data:`LAST_SECONDS`. A database error on the way is a
:class:`~django_wxlogistics.exceptions.TokenStoreError` (transient: retry later).
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from django.db import transaction
from django.utils.module_loading import import_string

from .conf import ACCESS_TOKEN_MODES, wx_settings
from .exceptions import (
    AccessTokenError,
    ConfigurationError,
    InvalidCredentials,
    InvalidRequest,
    ServerError,
    WeChatError,
)
from .redaction import get_logger, remember_secret
from .token_store import LockTaken, StoredToken, TokenStore, in_own_transaction
from .transport import Transport

logger = get_logger(__name__)

#: A token is never used when fewer seconds than this remain.
LAST_SECONDS = 30
#: A token fetched this recently is not fetched again ahead of time (WeChat may hand back
#: the same token when asked a little before its refresh window).
REFETCH_PAUSE = 30

#: The clock every expiry, refresh and "last seconds" decision reads: seconds since the
#: epoch. Tests replace it (``monkeypatch.setattr(tokens, "clock", ...)``) to move time on.
clock: Callable[[], float] = time.time

# On the token APIs, these codes mean the credentials are wrong, not the access token.
_TOKEN_API_ERRORS: dict[int, type[WeChatError]] = {
    code: InvalidCredentials for code in (*AccessTokenError.errcodes, *InvalidCredentials.errcodes)
}
_TOKEN_API_ERRORS[40002] = InvalidRequest  # invalid grant_type


@runtime_checkable
class AccessTokenProvider(Protocol):
    """What the client needs from a provider; implement it to bring your own tokens."""

    def get_token(self) -> str | None:
        """A valid access token, or None when calls carry none (cloud hosting)."""
        ...

    def invalidate(self, token: str) -> None:
        """WeChat refused ``token``: forget it (only it, not a newer one)."""
        ...


class CloudTokenProvider:
    """WeChat Cloud Hosting adds the access token itself: calls carry none."""

    def get_token(self) -> str | None:
        return None

    def invalidate(self, token: str) -> None:
        return None


@dataclass(frozen=True)
class FetchedToken:
    token: str
    expires_in: int


class SharedTokenProvider:
    """Tokens kept in the ``AccessToken`` table, fetched by one process of the fleet at a time."""

    #: the API name used in logs and errors.
    api = ""

    def __init__(self, transport: Transport, appid: str, secret: str, refresh_margin: float) -> None:
        if not appid:
            raise ConfigurationError(
                "WXLOGISTICS['APPID'] is not set; it is needed to fetch access tokens. "
                "Set it, or use WXLOGISTICS['ACCESS_TOKEN'] = 'cloud' on WeChat Cloud Hosting.",
                setting="APPID",
            )
        if not secret:
            raise ConfigurationError(
                "WXLOGISTICS['APPSECRET'] is not set; it is needed to fetch access tokens. "
                "Read it from the environment, e.g. os.environ['WX_APPSECRET'].",
                setting="APPSECRET",
            )
        self.transport = transport
        self.appid = appid
        self._secret = secret
        # One fetch's timeouts and a second more: how long to wait for another process's fetch.
        timeout = transport.timeout
        self.store = TokenStore(
            appid, lock_wait=(sum(timeout) if isinstance(timeout, tuple) else timeout) + 1.0, api=self.api
        )
        self.margin = max(float(refresh_margin), LAST_SECONDS)
        # The cached entry and the time to look at the store again, swapped in one
        # assignment: a reader never pairs one token with another token's deadline.
        self._current: tuple[StoredToken, float] | None = None
        # Tokens WeChat refused in this process, and when: a copy read before the refusal is
        # never handed out again, even if a thread that read the row early caches it once more.
        self._refused: dict[str, float] = {}
        self._lock = threading.Lock()
        _providers.add(self)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} appid={self.appid!r}>"

    # -- the two methods of the interface ---------------------------------------------

    def get_token(self) -> str:
        current = self._current
        if current is not None and clock() < current[1]:
            return current[0].token
        with self._lock:
            now = clock()
            current = self._current
            if current is not None and now < current[1]:
                return current[0].token
            with self.store.database_errors():
                entry = self._load(now)
            self._remember(entry, clock())
            return entry.token

    def invalidate(self, token: str) -> None:
        now = clock()
        # Should WeChat hand the same token out again, that fetch is newer and it is used.
        self._refused = {t: at for t, at in self._refused.items() if at > now - 60}
        self._refused[token] = now
        # Compare-and-set: a newer token another process stored meanwhile stays. The row
        # first, then the cache: a thread reloading in between finds the row expired.
        with self.store.database_errors(token):
            changed = self.store.expire(token)
        with self._lock:
            current = self._current
            if current is not None and current[0].token == token:
                self._current = None
        logger.info(
            "%s: WeChat refused the access token of %s; %s.",
            self.api,
            self.appid,
            "marked it expired" if changed else "a newer one is already stored",
            extra={"wx_api": self.api},
        )

    # -- fetching -----------------------------------------------------------------------

    def fetch(self) -> FetchedToken:
        """Ask WeChat for a token (no caching, no locking). Subclasses implement it."""
        raise NotImplementedError

    def refresh(self) -> FetchedToken:
        """Fetch a token now under the fleet's lock and store it for everyone.

        Used by ``manage.py wxlogistics_check``; the hot path never forces a fetch.
        """

        def fetch_and_store() -> FetchedToken:
            self.store.ensure_row()
            with transaction.atomic(using=self.store.alias()):
                self.store.lock_row(wait=True)
                fetched = self.fetch()
                self._store(fetched, clock())
                return fetched

        with self.store.database_errors():
            fetched = in_own_transaction(fetch_and_store)
        with self._lock:
            self._current = None
        return fetched

    def _checked(self, payload: dict[str, Any]) -> FetchedToken:
        token = payload.get("access_token")
        expires_in = payload.get("expires_in")
        if not isinstance(token, str) or not token or not isinstance(expires_in, int) or expires_in <= 0:
            raise ServerError(None, "the answer has no access_token or expires_in", self.api)
        remember_secret(token)
        return FetchedToken(token, expires_in)

    # -- when to fetch ------------------------------------------------------------------

    def _state(self, entry: StoredToken, now: float) -> str:
        if self._refused_copy(entry):
            return "stale"
        remaining = entry.expires_at - now
        if remaining <= LAST_SECONDS:
            return "stale"  # however recently it was fetched
        if remaining > self.margin or now - entry.fetched_at < REFETCH_PAUSE:
            return "fresh"
        return "usable"

    def _refused_copy(self, entry: StoredToken) -> bool:
        return entry.fetched_at <= self._refused.get(entry.token, -1.0)

    def _remember(self, entry: StoredToken, now: float) -> None:
        if self._refused_copy(entry):
            return  # read before WeChat refused it: the next caller reloads
        state = self._state(entry, now)
        last_use = entry.expires_at - LAST_SECONDS
        if state == "fresh":
            # margin >= LAST_SECONDS, so the cache never reaches into the last seconds.
            refresh_at = entry.expires_at - self.margin
            recheck_at = max(refresh_at, min(entry.fetched_at + REFETCH_PAUSE, last_use))
        elif state == "usable":
            # Someone else is refreshing it right now; look again shortly.
            recheck_at = min(now + 1.0, last_use)
        else:
            # WeChat itself handed out a token this close to its end: nothing newer exists yet.
            recheck_at = now + 1.0
        self._current = (entry, recheck_at)

    def _read(self) -> StoredToken | None:
        return self.store.read()

    def _load(self, now: float) -> StoredToken:
        entry = self._read()
        state = self._state(entry, now) if entry is not None else "stale"
        if entry is not None and state == "fresh":
            return entry
        if entry is not None and state == "usable":
            # Refresh ahead: whoever gets the lock fetches, the rest keep the old token.
            refreshed = in_own_transaction(lambda: self._fetch_locked(wait=False))
            return refreshed or entry
        refreshed = in_own_transaction(lambda: self._fetch_locked(wait=True))
        assert refreshed is not None
        return refreshed

    def _fetch_locked(self, *, wait: bool) -> StoredToken | None:
        try:
            self.store.ensure_row()
            with transaction.atomic(using=self.store.alias()):
                current = self.store.lock_row(wait=wait)
                now = clock()
                if current is not None and self._state(current, now) == "fresh":
                    remember_secret(current.token)
                    return current  # another process refreshed it while we waited
                return self._store(self.fetch(), now)
        except LockTaken:
            if not wait:
                return None  # another process holds the lock and is refreshing
            raise

    def _store(self, fetched: FetchedToken, now: float) -> StoredToken:
        entry = self.store.write(fetched.token, fetched.expires_in, now)
        logger.info(
            "%s: fetched a new access token for %s, valid for %d s.",
            self.api,
            self.appid,
            fetched.expires_in,
            extra={"wx_api": self.api},
        )
        return entry


# Every provider of this process, so that a forked child can renew their locks.
_providers: weakref.WeakSet[SharedTokenProvider] = weakref.WeakSet()


def _renew_locks_after_fork() -> None:
    # A lock inherited through fork may be held by a thread that does not exist in the child;
    # the child has a single thread here, so replacing the locks cannot race.
    for provider in list(_providers):
        provider._lock = threading.Lock()


os.register_at_fork(after_in_child=_renew_locks_after_fork)


class StableTokenProvider(SharedTokenProvider):
    """``POST /cgi-bin/stable_token`` in normal mode: every caller gets the same valid token."""

    api = "auth.getStableAccessToken"

    def fetch(self) -> FetchedToken:
        payload = self.transport.request(
            self.api,
            "POST",
            "/cgi-bin/stable_token",
            body={
                "grant_type": "client_credential",
                "appid": self.appid,
                "secret": self._secret,
                "force_refresh": False,
            },
            errors=_TOKEN_API_ERRORS,
        )
        return self._checked(payload)


class ClassicTokenProvider(SharedTokenProvider):
    """``GET /cgi-bin/token``: each fetch makes a new token."""

    api = "auth.getAccessToken"

    def fetch(self) -> FetchedToken:
        payload = self.transport.request(
            self.api,
            "GET",
            "/cgi-bin/token",
            params={"grant_type": "client_credential", "appid": self.appid, "secret": self._secret},
            errors=_TOKEN_API_ERRORS,
        )
        return self._checked(payload)


def import_provider(path: str) -> AccessTokenProvider:
    """The shop's own provider from a dotted path: a class built with no arguments, or an object."""
    try:
        target = import_string(path)
    except ImportError as exc:
        raise ConfigurationError(
            f"WXLOGISTICS['ACCESS_TOKEN'] is {path!r}, which cannot be imported ({exc}).",
            setting="ACCESS_TOKEN",
        ) from None
    provider = target() if isinstance(target, type) else target
    if not isinstance(provider, AccessTokenProvider):
        raise ConfigurationError(
            f"WXLOGISTICS['ACCESS_TOKEN'] names {path!r}, which lacks get_token() or invalidate(). "
            "A provider needs get_token(self) -> str and invalidate(self, token: str) -> None.",
            setting="ACCESS_TOKEN",
        )
    return provider


def build_provider(transport: Transport, mode: str | None = None) -> AccessTokenProvider:
    """The provider ``WXLOGISTICS["ACCESS_TOKEN"]`` asks for."""
    mode = wx_settings.ACCESS_TOKEN if mode is None else mode
    if mode == "cloud":
        return CloudTokenProvider()
    if mode in ("stable", "classic"):
        cls = StableTokenProvider if mode == "stable" else ClassicTokenProvider
        return cls(
            transport,
            appid=wx_settings.APPID,
            secret=wx_settings.APPSECRET,
            refresh_margin=wx_settings.ACCESS_TOKEN_REFRESH_MARGIN,
        )
    if not isinstance(mode, str) or not mode:  # a mode given by the caller, not read from the settings
        raise ConfigurationError(
            f"WXLOGISTICS['ACCESS_TOKEN'] must be one of {', '.join(ACCESS_TOKEN_MODES)} or a dotted path, "
            f"not {mode!r}.",
            setting="ACCESS_TOKEN",
        )
    return import_provider(mode)

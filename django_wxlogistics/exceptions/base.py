"""What went wrong in a call to WeChat and what to do next: the error tree, the logistics errcodes,
and the shop's misconfiguration."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured


class ConfigurationError(ImproperlyConfigured):
    """The ``WXLOGISTICS`` settings are missing or wrong.

    ``setting`` is the key at fault (``"APPID"``), or None when the ``WXLOGISTICS`` dict as a
    whole is; the message says what is wrong and names it too.
    """

    def __init__(self, message: str, *, setting: str | None = None) -> None:
        super().__init__(message)
        self.setting = setting

    @property
    def setting_name(self) -> str:
        """How the shop writes the setting: ``WXLOGISTICS['APPID']``, or ``WXLOGISTICS``."""
        return "WXLOGISTICS" if self.setting is None else f"WXLOGISTICS[{self.setting!r}]"

    def __reduce__(self) -> tuple[Any, ...]:
        # Keeps ``setting`` across pickling (Celery results), which args alone would lose.
        return (type(self), self.args, {"setting": self.setting})


class WeChatError(Exception):
    """The root of every error of a call to WeChat.

    ``errcode`` is WeChat's code (``None`` for network and HTTP errors), ``errmsg`` its
    text, ``api`` the API name (e.g. ``"logistics.updatePath"``).
    """

    #: what went wrong, in a few words: the start of ``str(error)``. English, like WeChat's
    #: errmsg beside it: the text is logged, kept in ``last_errmsg`` and shown as ``errmsg``.
    summary = "WeChat (or the way to it) answered with an error"
    #: errcodes this class stands for; used by :func:`error_for_errcode`.
    errcodes: tuple[int, ...] = ()
    #: what the caller should do, in a few words, shown after WeChat's answer.
    advice = ""

    #: True when trying the same call again later may succeed.
    retryable = False

    def __init__(
        self,
        errcode: int | None = None,
        errmsg: str = "",
        api: str = "",
        *,
        status: int | None = None,
        response: Any = None,
    ) -> None:
        self.errcode = errcode
        self.errmsg = errmsg
        self.api = api
        #: the HTTP status, when WeChat (or a proxy) answered with one other than 200.
        self.status = status
        #: WeChat's parsed JSON answer with secrets removed, or None.
        self.response = response
        super().__init__(errcode, errmsg, api)

    def __str__(self) -> str:
        where = f"{self.api}: " if self.api else ""
        answer = []
        if self.status is not None:
            answer.append(f"HTTP {self.status}")
        if self.errcode is not None:
            answer.append(f"errcode {self.errcode}")
        if self.errmsg:
            answer.append(f"errmsg {self.errmsg!r}")
        text = f"{where}{self.describe()}"
        if answer:
            text += f" ({self.answer_label} {', '.join(answer)})"
        if self.advice:
            text += f". {self.advice}"
        return text

    def __repr__(self) -> str:
        return f"{type(self).__name__}(errcode={self.errcode!r}, errmsg={self.errmsg!r}, api={self.api!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        # Keeps status across pickling (Celery results, multiprocessing); args alone would lose it.
        return (_rebuild, (type(self), self.errcode, self.errmsg, self.api, self.status))

    #: how the answer is introduced in the message.
    answer_label = "WeChat answered"

    def describe(self) -> str:
        """:attr:`summary`: what went wrong, without WeChat's answer or the advice."""
        return self.summary


def _rebuild(
    cls: type[WeChatError], errcode: int | None, errmsg: str, api: str, status: int | None
) -> WeChatError:
    return cls(errcode, errmsg, api, status=status)


class TransientError(WeChatError):
    """Try again later: WeChat is busy (-1), unreachable, or rate limiting (45009, 45011)."""

    summary = "WeChat is busy, unreachable or rate limiting us"
    errcodes: tuple[int, ...] = (-1, 45009, 45011)
    advice = "Retry later"
    retryable = True


class NetworkError(TransientError):
    """No answer came: the connection failed or timed out (``errcode`` is None)."""

    summary = "WeChat could not be reached (connection error or timeout)"
    answer_label = "the connection failed with"


class ServerError(TransientError):
    """An HTTP 5xx, or an answer that is not WeChat's JSON (a proxy's error page)."""

    summary = "WeChat answered with a server error or with something that is not its JSON"


class RateLimited(TransientError):
    """WeChat's per-app call quota is used up for now (45009, 45011; the merchant's 44990, 9300513)."""

    summary = "WeChat is rate limiting this app"
    errcodes = (45009, 45011, 44990, 9300513)
    advice = "Retry later, and slower"


class TokenStoreError(TransientError):
    """The ``AccessToken`` row could not be locked, read or written.

    ``errmsg`` says why: another process holding the lock for too long, or what the
    database answered (e.g. ``database is locked``).
    """

    summary = "The shared access token could not be read or stored in the database"
    advice = "Retry later; if it persists, check the database (is `manage.py migrate` done?)"

    def __str__(self) -> str:
        where = f"{self.api}: " if self.api else ""
        return f"{where}{self.describe()}: {self.errmsg}. {self.advice}"


class AccessTokenError(WeChatError):
    """WeChat refused the access token (40001, 40014, 42001, 41001); the client fetches another."""

    summary = "The access token was missing, invalid or expired"
    errcodes = (40001, 40014, 42001, 41001)
    advice = "Fetch a new access token and repeat the call once"


class PermanentError(WeChatError):
    """Retrying cannot help: the data or the settings must change first. Unknown errcodes land here."""

    summary = "WeChat rejected the call; repeating it will not help"
    advice = "Fix the data before trying again"


class WaybillNotFound(PermanentError):
    """WeChat does not know the ``waybill_id`` (40199)."""

    summary = "Waybill not found"
    errcodes = (40199,)
    advice = "Check the waybill_id"


class InvalidWaybillToken(PermanentError):
    """The waybill's token is not the one WeChat gave for it (9300507)."""

    summary = "The waybill's token is wrong"
    errcodes: tuple[int, ...] = (9300507,)
    advice = "Use the Token from the order placement event for this waybill"


class InvalidCredentials(PermanentError):
    """WeChat refused the credentials or the server's IP when a token was fetched."""

    summary = "The AppID or AppSecret is wrong"
    errcodes = (40013, 40125, 40164, 41002, 41004)
    advice = "Check WXLOGISTICS['APPID'], WXLOGISTICS['APPSECRET'] and the server's IP allowlist"


class InvalidRequest(PermanentError):
    """WeChat refused the request's data (47001, 44002, 40003, 40097)."""

    summary = "WeChat could not accept the request's data"
    errcodes: tuple[int, ...] = (47001, 44002, 40003, 40097)


class InvalidRequestData(InvalidRequest, ValueError):
    """The client refused the data before any call; also a ``ValueError``.

    ``errmsg`` says which value is wrong and how to fix it.
    """

    summary = "The request's data is not valid; nothing was sent to WeChat"

    def __init__(
        self,
        errcode: int | None = None,
        errmsg: str = "",
        api: str = "",
        *,
        fields: dict[str, list[str]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(errcode, errmsg, api, **kwargs)
        #: each bad field and its messages (``"shipping_list[0].item_desc"``), when the check names them
        self.fields = dict(fields or {})

    def __str__(self) -> str:
        where = f"{self.api}: " if self.api else ""
        return f"{where}{self.errmsg} Nothing was sent to WeChat."


class ApiUnauthorized(PermanentError):
    """The AppID lacks the right to this API (48001, 48004)."""

    summary = "This app is not allowed to call this API"
    errcodes = (48001, 48004)
    advice = "Enable the logistics service for this AppID in the WeChat admin console"

"""Whether calls to WeChat can be made as configured: the access-token provider, the connection
pool and call timing (E010, E011, W010, W011)."""

from __future__ import annotations

from django.core.checks import CheckMessage, Error, Warning

from ..client import longest_push_seconds
from ..conf import ACCESS_TOKEN_MODES, wx_settings
from ..exceptions import ConfigurationError
from ..redaction import redact
from ..tokens import import_provider
from .settings import errors_of


def check_client_settings() -> list[CheckMessage]:
    messages = _check_provider()
    messages += errors_of("HTTP_POOL_MAXSIZE")
    lease = wx_settings.valid("LEASE_SECONDS")
    if wx_settings.valid("TIMEOUT") is not None and lease is not None:
        worst = longest_push_seconds()
        if lease <= worst:
            messages.append(
                Warning(
                    f"WXLOGISTICS['TIMEOUT'] is {wx_settings.raw('TIMEOUT')!r}: a push that must fetch "
                    f"an access token, is refused it and fetches again may take up to {worst:g} s, "
                    f"longer than LEASE_SECONDS ({lease:g} s).",
                    hint=f"Lower TIMEOUT, or set LEASE_SECONDS to at least {int(worst) + 10}.",
                    id="wxlogistics.W010",
                )
            )
    margin = wx_settings.valid("ACCESS_TOKEN_REFRESH_MARGIN")
    if margin is not None and margin >= 3600:
        messages.append(
            Warning(
                f"WXLOGISTICS['ACCESS_TOKEN_REFRESH_MARGIN'] is {margin:g} s, half a token's life or more: "
                "tokens would be fetched far more often than needed.",
                hint="Keep it at a few minutes (the default is 300, WeChat's own refresh window).",
                id="wxlogistics.W011",
            )
        )
    return messages


def _check_provider() -> list[CheckMessage]:
    """E010: the dotted path of ACCESS_TOKEN (importable, or E006 says not) builds a provider."""
    mode = wx_settings.valid("ACCESS_TOKEN")
    if mode is None or mode in ACCESS_TOKEN_MODES:
        return []
    try:
        import_provider(mode)
    except ConfigurationError as exc:
        return [
            Error(
                str(exc),
                hint="Give it get_token(self) -> str and invalidate(self, token: str) -> None "
                "(see the access-token section of the docs).",
                id="wxlogistics.E010",
            )
        ]
    except Exception as exc:  # the provider's constructor failed
        return [
            Error(
                f"WXLOGISTICS['ACCESS_TOKEN'] names {mode!r}, which could not be built: "
                f"{type(exc).__name__}: {redact(exc)}",
                hint="A provider class is built with no arguments; read its settings inside.",
                id="wxlogistics.E010",
            )
        ]
    return []

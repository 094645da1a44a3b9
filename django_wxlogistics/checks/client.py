"""Whether calls to WeChat can be made as configured: the access-token provider, the connection
pool and call timing (E010, E011, W010, W011)."""

from __future__ import annotations

from django.core.checks import CheckMessage, Error, Warning

from ..client import longest_push_seconds
from ..conf import wx_settings
from ..exceptions import ConfigurationError
from ..redaction import redact
from ..tokens import MODES, import_provider


def check_client_settings() -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    mode = wx_settings.ACCESS_TOKEN
    if isinstance(mode, str) and mode and mode not in MODES:
        try:
            import_provider(mode)
        except ConfigurationError as exc:
            if "cannot be imported" not in str(exc):  # E006 already reports that
                messages.append(
                    Error(
                        str(exc),
                        hint="Give it get_token(self) -> str and invalidate(self, token: str) -> None "
                        "(see the access-token section of the docs).",
                        id="wxlogistics.E010",
                    )
                )
        except Exception as exc:  # the provider's constructor failed
            messages.append(
                Error(
                    f"WXLOGISTICS['ACCESS_TOKEN'] names {mode!r}, which could not be built: "
                    f"{type(exc).__name__}: {redact(exc)}",
                    hint="A provider class is built with no arguments; read its settings inside.",
                    id="wxlogistics.E010",
                )
            )
    pool = wx_settings.HTTP_POOL_MAXSIZE
    if isinstance(pool, bool) or not isinstance(pool, int) or pool < 1:
        messages.append(
            Error(
                f"WXLOGISTICS['HTTP_POOL_MAXSIZE'] is {pool!r}; it must be a whole number of at least 1.",
                hint="Use at least the number of threads that call WeChat at once (the default is 64).",
                id="wxlogistics.E011",
            )
        )
    timeout, lease = wx_settings.TIMEOUT, wx_settings.LEASE_SECONDS
    worst = longest_push_seconds()
    if worst is not None and isinstance(lease, (int, float)) and lease <= worst:
        messages.append(
            Warning(
                f"WXLOGISTICS['TIMEOUT'] is {timeout!r}: a push that must fetch an access token, "
                f"is refused it and fetches again may take up to {worst:g} s, longer than "
                f"LEASE_SECONDS ({lease:g} s).",
                hint=f"Lower TIMEOUT, or set LEASE_SECONDS to at least {int(worst) + 10}.",
                id="wxlogistics.W010",
            )
        )
    margin = wx_settings.ACCESS_TOKEN_REFRESH_MARGIN
    if isinstance(margin, (int, float)) and not isinstance(margin, bool) and margin >= 3600:
        messages.append(
            Warning(
                f"WXLOGISTICS['ACCESS_TOKEN_REFRESH_MARGIN'] is {margin:g} s, half a token's life or more: "
                "tokens would be fetched far more often than needed.",
                hint="Keep it at a few minutes (the default is 300, WeChat's own refresh window).",
                id="wxlogistics.W011",
            )
        )
    return messages

"""Whether WeChat's pushes can be received: the push settings and the route (E070-E075, W070-W071).

The values' rules (the Token's type, the EncodingAESKey's shape, the replay window, the size
cap, the dotted paths of the events' hooks) are those of the settings' table; here too what
only makes sense together: safe mode needs the AppID it decrypts for, a routed ``events/``
needs a Token, and WeChat's console takes only a Token of 3 to 32 letters and digits.
"""

from __future__ import annotations

import re

from django.core.checks import CheckMessage
from django.urls import NoReverseMatch, reverse

from ..conf import wx_settings
from .settings import error, errors_of, warning

#: The Token WeChat's console accepts (令牌: 3 to 32 letters or digits).
CONSOLE_TOKEN = re.compile(r"[A-Za-z0-9]{3,32}")
PUSH_SETTINGS = (
    "PUSH_TOKEN",
    "ENCODING_AES_KEY",
    "PUSH_MAX_AGE",
    "PUSH_MAX_BYTES",
    "WAYBILL_ID_GENERATOR",
    "WAYBILL_ORDER_HANDLER",
    "EVENT_HANDLERS",
)


def events_url() -> str | None:
    """The path of ``events/`` in this project, or None when it is not routed."""
    try:
        return reverse("wxlogistics:events")
    except NoReverseMatch:
        return None
    except Exception:  # no ROOT_URLCONF, or one that fails: Django's own checks report that
        return None


def check_push_settings() -> list[CheckMessage]:
    """System checks of the settings WeChat's pushes use."""
    messages = errors_of(*PUSH_SETTINGS)
    token, key = wx_settings.valid("PUSH_TOKEN"), wx_settings.valid("ENCODING_AES_KEY")
    if key and not wx_settings.raw("APPID"):
        messages.append(
            error(
                75,
                "WXLOGISTICS['ENCODING_AES_KEY'] is set but WXLOGISTICS['APPID'] is not: safe-mode "
                "pushes are encrypted for an AppID, and only those for ours may be accepted.",
                "Set APPID to the AppID of the Mini Program whose message push settings you filled in.",
            )
        )
    if isinstance(token, str) and token and not CONSOLE_TOKEN.fullmatch(token):
        messages.append(
            warning(
                71,
                f"WXLOGISTICS['PUSH_TOKEN'] has {len(token)} characters, not all letters or digits: "
                "WeChat's console takes a Token of 3 to 32 letters and digits only.",
                "Choose a Token of 3 to 32 letters and digits and enter it in both places.",
            )
        )
    return messages


def check_push_route() -> list[CheckMessage]:
    """W070 (tag ``urls``): ``events/`` is routed, so WeChat may push, but no Token is set."""
    url = events_url()
    if url is None or wx_settings.valid("PUSH_TOKEN") != "":
        return []
    return [
        warning(
            70,
            f"WeChat's pushes are routed to {url}, but WXLOGISTICS['PUSH_TOKEN'] is not set: every "
            "push will be refused.",
            "Set PUSH_TOKEN to the Token (令牌) of WeChat's message push settings (see the events "
            "page of the documentation).",
        )
    ]

"""Which system checks the app runs: ``wxlogistics.E0xx``/``W0xx``, one module per area.

``checks`` sits above what it checks: it imports the settings, the client, the delivery
engine, the templates, the ways in, the API and the admin; nothing below imports it.
:meth:`django_wxlogistics.apps.WXLogisticsConfig.ready` registers its entry points: the three below and
:func:`.broker.check_broker`.

==========  =================================================  ==========================
ids         what                                               module
==========  =================================================  ==========================
E001-E007   the WXLOGISTICS dict and each setting's value      :mod:`.settings`
W001-W002   unknown keys, plain http to a remote host          :mod:`.settings`
E010-W011   the access-token provider, pool, call timing       :mod:`.client`
W020-W022   retry timing, the broker around the lease          :mod:`.delivery`
E030-W032   message templates in STATUS_ACTIONS                :mod:`.templates`
E034-W031   the ways in: LISTEN_TO, ORDER_MODEL, STATUS_FIELD  :mod:`.ways_in`
E040-W040   the REST API's permission classes, CONTACT_RATE    :mod:`.api`
E050        no view searches, filters or orders on a secret    :mod:`.secrets`
W060        timeouts of the cache the contact lookups use      :mod:`.cache`
E070-W071   WeChat's pushes: Token, EncodingAESKey, hooks      :mod:`.events`
E080-W080   the metrics endpoint: its token, its library       :mod:`.metrics`
E090-W091   shipping information and tracking: their settings  :mod:`.shipping`
W100-W101   the Celery app and broker the nudges go to         :mod:`.broker`
==========  =================================================  ==========================
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.core.checks import CheckMessage

from ..conf import wx_settings
from ..exceptions import ConfigurationError
from .api import check_api_settings
from .cache import check_cache
from .client import check_client_settings
from .delivery import check_delivery_settings
from .events import check_push_route, check_push_settings
from .metrics import check_metrics_settings
from .secrets import check_secret_fields
from .settings import (
    E001_HINT,
    check_api_base_url,
    check_credentials,
    check_numbers,
    check_status_actions,
    check_unknown_keys,
    error,
)
from .shipping import check_shipping_settings
from .templates import check_message_templates
from .ways_in import check_order_sources

__all__ = [
    "check_api_settings",
    "check_cache",
    "check_client_settings",
    "check_delivery_settings",
    "check_message_templates",
    "check_metrics_settings",
    "check_order_sources",
    "check_push_routes",
    "check_push_settings",
    "check_secret_fields",
    "check_secrets",
    "check_settings",
    "check_shipping_settings",
]


def check_settings(app_configs: Sequence[AppConfig] | None = None, **kwargs: Any) -> list[CheckMessage]:
    """Every check of the ``WXLOGISTICS`` settings (tag ``compatibility``), area by area."""
    try:
        wx_settings.user_settings()
    except ConfigurationError as exc:  # WXLOGISTICS is not a dict: nothing else can be read
        return [error(1, str(exc), E001_HINT)]
    return [
        *check_unknown_keys(),
        *check_credentials(),
        *check_api_base_url(),
        *check_status_actions(),
        *check_message_templates(),
        *check_order_sources(),
        *check_numbers(),
        *check_api_settings(),
        *check_delivery_settings(),
        *check_client_settings(),
        *check_cache(),
        *check_push_settings(),
        *check_shipping_settings(),
        *check_metrics_settings(),
    ]


def check_push_routes(app_configs: Sequence[AppConfig] | None = None, **kwargs: Any) -> list[CheckMessage]:
    """``wxlogistics.W070`` (tag ``urls``): WeChat's pushes are routed but no Token is set."""
    return check_push_route()


def check_secrets(app_configs: Sequence[AppConfig] | None = None, **kwargs: Any) -> list[CheckMessage]:
    """``wxlogistics.E050`` (tags ``admin``, ``security``): no view queries a secret field."""
    return check_secret_fields()

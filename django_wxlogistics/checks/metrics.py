"""Whether the metrics endpoint can serve Prometheus: its token and its library (E080, W080)."""

from __future__ import annotations

from django.core.checks import CheckMessage

from ..conf import wx_settings
from .settings import errors_of, warning


def check_metrics_settings() -> list[CheckMessage]:
    """E080: METRICS_TOKEN's shape; W080: a token for an endpoint that cannot serve (no library)."""
    messages = errors_of("METRICS_TOKEN")
    if wx_settings.valid("METRICS_TOKEN") and not prometheus_installed():
        messages.append(
            warning(
                80,
                "WXLOGISTICS['METRICS_TOKEN'] is set, but prometheus_client is not installed: the "
                "metrics endpoint answers 501.",
                'Install it with: pip install "django-wxlogistics[prometheus]".',
            )
        )
    return messages


def prometheus_installed() -> bool:
    try:
        import prometheus_client  # noqa: F401
    except ImportError:
        return False
    return True

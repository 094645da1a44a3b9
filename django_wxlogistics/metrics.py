"""The pipeline's health for Prometheus: ``metrics/``, for staff or a bearer token
(``WXLOGISTICS["METRICS_TOKEN"]``), with ``pip install "django-wxlogistics[prometheus]"``.

Each scrape takes the figures afresh (:func:`django_wxlogistics.health.collect`, a few indexed
queries) into a registry of its own: nothing is added to the shop's default registry.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Iterator
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from . import health
from .conf import wx_settings

#: What a scraper is told when it brings no credentials, or wrong ones.
REALM = 'Bearer realm="wxlogistics"'
INSTALL = 'pip install "django-wxlogistics[prometheus]"'


@never_cache
@require_safe
def metrics(request: HttpRequest) -> HttpResponse:
    """The figures in Prometheus' text format, to staff or to the holder of the metrics token."""
    refused = refusal(request)
    if refused is not None:
        return refused
    try:
        from prometheus_client import CollectorRegistry
        from prometheus_client.exposition import choose_encoder
    except ImportError:
        return _text(
            _("The metrics endpoint needs prometheus_client. Install it with: %(command)s")
            % {"command": INSTALL},
            status=501,
        )
    started = time.perf_counter()
    figures = health.collect()
    registry = CollectorRegistry(auto_describe=False)
    registry.register(HealthCollector(figures, time.perf_counter() - started))
    # The format the scraper asks for: Prometheus' text (the default) or OpenMetrics.
    encode, content_type = choose_encoder(request.headers.get("Accept", ""))
    response = HttpResponse(encode(registry), content_type=content_type)
    patch_vary_headers(response, ["Authorization", "Cookie"])
    return response


def refusal(request: HttpRequest) -> HttpResponse | None:
    """None when the request may read the metrics; else the answer: 401 without credentials or
    with a wrong token, 403 for a signed-in user who is not staff."""
    scheme, _sep, given = request.headers.get("Authorization", "").partition(" ")
    # Another scheme (a proxy's Basic, say) is no attempt at the token: the session decides.
    if scheme.lower() == "bearer":
        expected = wx_settings.METRICS_TOKEN
        # Constant time: how much of a guess was right must not show in the answer's timing.
        if expected and hmac.compare_digest(given.strip().encode(), expected.encode()):
            return None
        response = _text(_("The bearer token is not the metrics token."), status=401)
        response["WWW-Authenticate"] = REALM + ', error="invalid_token"'
        return response
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        if user.is_active and user.is_staff:
            return None
        return _text(_("Only staff may read the metrics."), status=403)
    response = _text(
        _("Sign in as staff, or send the metrics token as 'Authorization: Bearer …'."), status=401
    )
    response["WWW-Authenticate"] = REALM
    return response


def _text(message: str, *, status: int) -> HttpResponse:
    return HttpResponse(message + "\n", status=status, content_type="text/plain; charset=utf-8")


class HealthCollector:
    """The figures as Prometheus metric families (a custom collector of one scrape)."""

    def __init__(self, figures: health.Health, seconds: float) -> None:
        self.figures = figures
        self.seconds = seconds

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily

        items = GaugeMetricFamily(
            "wxlogistics_outbox_items", "Items on their way to WeChat, by state.", labels=["kind", "state"]
        )
        lag = GaugeMetricFamily(
            "wxlogistics_outbox_lag_seconds",
            "How long the oldest due item has waited (0: nothing is due).",
            labels=["kind"],
        )
        refused = GaugeMetricFamily(
            "wxlogistics_outbox_refused_last_hour",
            "Items whose last attempt within the last hour was refused, by errcode "
            '("none": no answer, an HTTP error or a lease that ran out) and outcome.',
            labels=["kind", "errcode", "outcome"],
        )
        rate = GaugeMetricFamily(
            "wxlogistics_outbox_pushes_per_minute",
            "Items sent per minute over the last few minutes.",
            labels=["kind"],
        )
        for kind in self.figures.kinds:
            for state, count in (
                ("pending", kind.pending),
                ("sending", kind.sending),
                ("failed", kind.failed),
            ):
                items.add_metric([kind.name, state], count)
            lag.add_metric([kind.name], kind.lag)
            for refusal_ in kind.refusals:
                code = "none" if refusal_.errcode is None else str(refusal_.errcode)
                refused.add_metric([kind.name, code, "failed"], refusal_.failed)
                refused.add_metric([kind.name, code, "retrying"], refusal_.retrying)
            rate.add_metric([kind.name], kind.pushes_per_minute)
        yield from (items, lag, refused, rate)
        token = self.figures.token
        if token.seconds_left is not None:
            life = GaugeMetricFamily(
                "wxlogistics_access_token_seconds_left",
                "Seconds until the stored access token expires (0: expired).",
                labels=["appid", "mode"],
            )
            life.add_metric([token.appid, token.mode], token.seconds_left)
            yield life
        yield GaugeMetricFamily(
            "wxlogistics_health_collect_seconds",
            "Seconds the figures of this scrape took to read from the database.",
            value=self.seconds,
        )

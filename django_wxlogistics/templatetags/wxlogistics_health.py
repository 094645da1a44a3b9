"""The delivery health dashboard at the top of the admin's waybill list: ``{% pipeline_health %}``."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from .. import health
from ..admin.trace_events import CHANGE_EVENT_PERMISSION, VIEW_EVENT_PERMISSION

register = template.Library()


@register.inclusion_tag("django_wxlogistics/admin/health.html", takes_context=True)
def pipeline_health(context: template.Context) -> dict[str, Any]:
    """The delivery pipeline's health (:mod:`django_wxlogistics.health`), to staff who may see
    trace events; nothing for the others."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not (user.has_perm(VIEW_EVENT_PERMISSION) or user.has_perm(CHANGE_EVENT_PERMISSION)):
        return {"kinds": []}
    figures = health.collect()
    token = figures.token
    return {
        # The first kind always; the others when they have something to show (a shop that
        # does not use them is not shown a row of zeros).
        "kinds": [
            _kind_figures(kind, user)
            for n, kind in enumerate(figures.kinds)
            if n == 0 or kind.pending or kind.sending or kind.failed or kind.sent_recently or kind.refusals
        ],
        # The time alone where there is one; else what there is to say (none yet, expired, …).
        "token": health.duration(token.seconds_left) if token.seconds_left else health.token_text(token),
        "token_bad": token.seconds_left is not None and token.seconds_left <= 0,
    }


#: A lag this long is shown as a warning on the dashboard: the workers are not keeping up.
LAG_WARNING_SECONDS = 60


def _kind_figures(kind: health.KindHealth, user: Any) -> dict[str, Any]:
    return {
        "name": kind.name,
        "label": kind.label,
        "pending": health.number(kind.pending),
        "sending": health.number(kind.sending),
        "failed": health.number(kind.failed),
        "failed_count": kind.failed,
        "lag": health.duration(kind.lag) if kind.oldest_due_at is not None else "–",
        "lagging": kind.lag >= LAG_WARNING_SECONDS,
        "rate": number_format(kind.pushes_per_minute, 1, force_grouping=True),
        "rate_help": _("Items sent per minute, %(over)s") % {"over": health.rate_text(kind)},
        "refusals": [{"text": health.refusal_text(r), "failed": r.failed} for r in kind.refusals],
        "pending_url": _list_url(kind.model_name, user, "state__exact=pending"),
        "failed_url": _list_url(kind.model_name, user, "state__exact=failed"),
    }


def _list_url(model_name: str, user: Any, query: str) -> str:
    """The admin list of a kind's items in one state, if there is one and the user may see it."""
    if not user.has_perm(f"django_wxlogistics.view_{model_name}") and not user.has_perm(
        f"django_wxlogistics.change_{model_name}"
    ):
        return ""
    try:
        return f"{reverse(f'admin:django_wxlogistics_{model_name}_changelist')}?{query}"
    except NoReverseMatch:
        return ""

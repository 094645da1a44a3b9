"""Template filters and tags of the admin pages."""

from __future__ import annotations

from typing import Any

from django import template
from django.contrib.admin.templatetags.admin_list import pagination
from django.contrib.admin.templatetags.base import InclusionAdminNode
from django.contrib.admin.views.main import ChangeList

from ..admin.dates import date_hierarchy
from ..errcodes import errcode_label as _errcode_label

register = template.Library()


@register.tag(name="wxl_date_hierarchy")
def date_hierarchy_tag(parser: template.base.Parser, token: template.base.Token) -> template.Node:
    """Django's date drill-down, its template and all, with choices from the calendar."""
    # django-stubs give the node a leading ``name`` Django's own signature does not have.
    return InclusionAdminNode(  # type: ignore[call-arg]
        parser,  # type: ignore[arg-type]
        token,  # type: ignore[arg-type]
        func=date_hierarchy,
        template_name="date_hierarchy.html",
        takes_context=False,
    )


@register.inclusion_tag("django_wxlogistics/admin/capped_pagination.html")
def wxl_capped_pagination(cl: ChangeList) -> dict[str, Any]:
    """The pagination of a list whose count stopped at its paginator's cap."""
    return pagination(cl)


@register.filter
def errcode_label(errcode: int | None) -> str:
    """``40199`` → ``40199 · waybill not found``."""
    return "" if errcode is None else _errcode_label(errcode)

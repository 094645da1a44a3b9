"""The admin lists' date drill-down, from the calendar between a table's first and last row."""

from __future__ import annotations

import calendar
import datetime
from typing import Any

from django.contrib.admin.views.main import ChangeList
from django.utils import formats, timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _


def table_bounds(cl: ChangeList) -> tuple[datetime.date, datetime.date] | None:
    """The dates of the first and the last row of the list's table, no filter applied.

    Two reads of one end of the field's index each, however large the table and whatever
    its statistics: Django's drill-down reads the date of every row the list shows instead
    (``SELECT DISTINCT`` of each row's year, month or day, a scan of the whole table).
    """
    field = cl.date_hierarchy
    dates = cl.root_queryset.filter(**{f"{field}__isnull": False}).values_list(field, flat=True)
    first = dates.order_by(field).first()
    if first is None:
        return None
    return _date(first), _date(dates.order_by(f"-{field}").first())


def _date(value: Any) -> datetime.date:
    if isinstance(value, datetime.datetime):
        return (timezone.localtime(value) if timezone.is_aware(value) else value).date()
    return value


def date_hierarchy(cl: ChangeList) -> dict[str, Any]:
    """The context of Django's ``date_hierarchy.html``, as Django's own tag builds it, with the
    choices taken from the calendar: every year, month or day between the table's first and
    last row (a period without rows among them lists nothing)."""
    if not cl.date_hierarchy:
        return {}
    field = cl.date_hierarchy
    year_field, month_field, day_field = (f"{field}__{part}" for part in ("year", "month", "day"))
    year, month, day = (cl.params.get(name) for name in (year_field, month_field, day_field))
    bounds = table_bounds(cl)

    def link(filters: dict[str, Any]) -> str:
        return cl.get_query_string(filters, [f"{field}__"])

    if not (year or month or day) and bounds:  # where the whole table fits, start inside it
        first, last = bounds
        if first.year == last.year:
            year = str(first.year)
            if first.month == last.month:
                month = str(first.month)
    if year and month and day:
        chosen = datetime.date(int(year), int(month), int(day))
        return {
            "show": True,
            "back": {
                "link": link({year_field: year, month_field: month}),
                "title": capfirst(formats.date_format(chosen, "YEAR_MONTH_FORMAT")),
            },
            "choices": [{"title": capfirst(formats.date_format(chosen, "MONTH_DAY_FORMAT"))}],
        }
    if year and month:
        y, m = int(year), int(month)
        days = [datetime.date(y, m, d) for d in range(1, calendar.monthrange(y, m)[1] + 1)]
        return {
            "show": True,
            "back": {"link": link({year_field: year}), "title": str(year)},
            "choices": [
                {
                    "link": link({year_field: year, month_field: month, day_field: d.day}),
                    "title": capfirst(formats.date_format(d, "MONTH_DAY_FORMAT")),
                }
                for d in days
                if bounds and bounds[0] <= d <= bounds[1]
            ],
        }
    if year:
        y = int(year)
        months = [datetime.date(y, m, 1) for m in range(1, 13)]
        return {
            "show": True,
            "back": {"link": link({}), "title": _("All dates")},
            "choices": [
                {
                    "link": link({year_field: year, month_field: m.month}),
                    "title": capfirst(formats.date_format(m, "YEAR_MONTH_FORMAT")),
                }
                for m in months
                if bounds and bounds[0].replace(day=1) <= m <= bounds[1]
            ],
        }
    years = range(bounds[0].year, bounds[1].year + 1) if bounds else range(0)
    return {
        "show": True,
        "back": None,
        "choices": [{"link": link({year_field: str(y)}), "title": str(y)} for y in years],
    }

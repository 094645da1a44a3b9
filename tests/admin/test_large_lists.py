"""The admin's lists stay cheap however many rows their tables hold: a count that stops at a
cap, no second count of the whole table, and a date drill-down from the calendar."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from django_wxlogistics.admin.changelists import CappedPaginator
from django_wxlogistics.enums import EventState
from django_wxlogistics.models import TraceEvent
from tests.factories import TraceEventFactory, WaybillFactory

pytestmark = pytest.mark.django_db

EVENTS = "admin:django_wxlogistics_traceevent_changelist"
WAYBILLS = "admin:django_wxlogistics_waybill_changelist"


@pytest.fixture
def cap_of_three(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(CappedPaginator, "cap", 3)


def _at(year: int, month: int, day: int) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime(year, month, day, 12))


@pytest.mark.usefixtures("cap_of_three")
def test_a_list_longer_than_the_cap_says_more_than_and_counts_no_further(clerk_client):
    for _ in range(5):
        TraceEventFactory()
    with CaptureQueriesContext(connection) as queries:
        response = clerk_client.get(reverse(EVENTS), {"o": "1"})
    html = response.content.decode()
    assert response.context["cl"].result_count == 3
    assert "more than 3 trace events" in html
    assert "Select all trace events, more than 3" in html  # what "select all" acts on
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"]]
    assert len(counts) == 1 and "LIMIT 4" in counts[0], counts


@pytest.mark.usefixtures("cap_of_three")
def test_the_capped_count_is_said_in_chinese(settings, clerk_client):
    settings.LANGUAGE_CODE = "zh-hans"
    for _ in range(5):
        TraceEventFactory()
    html = clerk_client.get(reverse(EVENTS)).content.decode()
    assert "超过 3 个轨迹事件" in html
    assert "选中全部轨迹事件，超过 3 个" in html
    assert "所有日期" in clerk_client.get(reverse(EVENTS), {"action_time__year": 2026}).content.decode()


@pytest.mark.usefixtures("cap_of_three")
def test_a_list_within_the_cap_is_counted_as_before(clerk_client):
    for _ in range(2):
        TraceEventFactory()
    html = clerk_client.get(reverse(EVENTS)).content.decode()
    assert "2 trace events" in html
    assert "more than" not in html


@pytest.mark.usefixtures("cap_of_three")
def test_the_waybill_list_is_capped_too_and_its_filters_still_filter(clerk_client):
    failed = [WaybillFactory() for _ in range(4)]
    for waybill in failed:
        TraceEventFactory(waybill=waybill, state=EventState.FAILED, last_errcode=40199)
    fine = WaybillFactory()
    html = clerk_client.get(reverse(WAYBILLS)).content.decode()
    assert "more than 3 waybills" in html
    html = clerk_client.get(reverse(WAYBILLS), {"has_failed": "no"}).content.decode()
    assert fine.waybill_id in html and "1 waybill" in html
    assert not any(waybill.waybill_id in html for waybill in failed)


def test_the_event_list_counts_its_rows_once_not_the_whole_table_again(clerk_client):
    TraceEventFactory(state=EventState.FAILED, last_errcode=40199)
    TraceEventFactory()
    with CaptureQueriesContext(connection) as queries:
        response = clerk_client.get(reverse(EVENTS), {"state__exact": "failed"})
    assert response.context["cl"].result_count == 1
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"]]
    assert len(counts) == 1, counts


def test_the_date_drill_down_comes_from_the_calendar_not_from_every_events_date(clerk_client):
    assert (
        "action_time__year=" not in clerk_client.get(reverse(EVENTS)).content.decode()
    )  # no events, no dates
    TraceEventFactory(action_time=_at(2026, 1, 30))
    TraceEventFactory(action_time=_at(2026, 3, 2))
    with CaptureQueriesContext(connection) as queries:
        html = clerk_client.get(reverse(EVENTS)).content.decode()
    # One year: its months from the first event's to the last's, February without events too.
    assert (
        "action_time__month=1" in html and "action_time__month=2" in html and "action_time__month=3" in html
    )
    assert "action_time__month=4" not in html
    sql = " ".join(q["sql"] for q in queries.captured_queries).upper()
    assert "DISTINCT DATE_TRUNC" not in sql and "DJANGO_DATETIME_TRUNC" not in sql
    html = clerk_client.get(
        reverse(EVENTS), {"action_time__year": 2026, "action_time__month": 3}
    ).content.decode()
    assert "action_time__day=1" in html and "action_time__day=2" in html
    assert "action_time__day=3" not in html  # after the last event


def test_the_date_drill_down_offers_each_year_between_the_first_and_the_last(clerk_client):
    TraceEventFactory(action_time=_at(2024, 6, 1))
    TraceEventFactory(action_time=_at(2026, 2, 1))
    html = clerk_client.get(reverse(EVENTS)).content.decode()
    assert all(f"action_time__year={year}" in html for year in (2024, 2025, 2026))
    html = clerk_client.get(reverse(EVENTS), {"action_time__year": 2024}).content.decode()
    assert "action_time__month=6" in html and "action_time__month=12" in html
    assert "action_time__month=5" not in html
    assert TraceEvent.objects.count() == 2

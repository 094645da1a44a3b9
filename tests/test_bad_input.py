"""Bad input below the web layer: the services' rules and the lookups every query goes through.

The NUL cases need PostgreSQL (which cannot store NUL, and refuses it in a query); the
tests run on it whenever 127.0.0.1:5432 answers.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, models
from django.db.models import lookups

from django_wxlogistics.enums import ActionType
from django_wxlogistics.models import ContactAccess, TraceEvent, Waybill
from django_wxlogistics.services import (
    MAX_ACTION_TIME,
    InvalidWaybill,
    clean_trace_event,
    clean_waybill,
    record_trace_event,
)
from example_project.shop.models import Order
from tests.factories import TraceEventFactory, WaybillFactory

pytestmark = pytest.mark.django_db

UTC = dt.timezone.utc
on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="NUL is refused by PostgreSQL only; SQLite stores it"
)


# --- action_time: what WeChat takes -------------------------------------------------------


@pytest.mark.parametrize(
    "action_time",
    [
        10**20,
        2**32,
        0,
        -1,
        dt.datetime(1, 1, 1, tzinfo=UTC),
        dt.datetime(1969, 12, 31, 23, 59, 59, tzinfo=UTC),
        dt.datetime(1970, 1, 1, 0, 0, 0, 999999, tzinfo=UTC),  # sent as 0
        dt.datetime(1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=14))),
    ],
    ids=repr,
)
def test_an_action_time_wechat_refuses_is_a_validation_error_naming_it(action_time: object) -> None:
    with pytest.raises(ValidationError) as excinfo:
        clean_trace_event(ActionType.PICKED_UP, "picked up", action_time)  # type: ignore[arg-type]
    assert list(excinfo.value.message_dict) == ["action_time"]
    assert "Unix time 1 to 4294967295" in excinfo.value.message_dict["action_time"][0]


def test_the_first_second_wechat_takes_is_accepted() -> None:
    assert clean_trace_event(ActionType.PICKED_UP, "x", 1)[2] == dt.datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC)
    first = dt.datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC)
    assert clean_trace_event(ActionType.PICKED_UP, "x", first)[2] == first


def test_the_last_second_wechat_takes_is_still_too_far_in_the_future() -> None:
    with pytest.raises(ValidationError, match="more than an hour in the future"):
        clean_trace_event(ActionType.PICKED_UP, "x", MAX_ACTION_TIME)


def test_record_trace_event_refuses_a_pre_1970_time_before_storing_it(waybill: Waybill) -> None:
    with pytest.raises(ValidationError, match="action time"):
        record_trace_event(waybill, ActionType.PICKED_UP, "x", dt.datetime(1969, 7, 20, tzinfo=UTC))
    assert not TraceEvent.objects.exists()


def test_a_nul_in_the_message_is_a_validation_error(waybill: Waybill) -> None:
    with pytest.raises(ValidationError) as excinfo:
        record_trace_event(waybill, ActionType.PICKED_UP, "picked\x00up")
    assert list(excinfo.value.message_dict) == ["action_msg"]
    assert not TraceEvent.objects.exists()


# --- the waybill's rules ---------------------------------------------------------------------


def test_clean_waybill_checks_only_the_fields_given() -> None:
    clean_waybill(order_id="SO1")  # no waybill_id, no token: nothing to say about them
    with pytest.raises(InvalidWaybill) as excinfo:
        clean_waybill(order_id=" ", token="t" * 257)
    assert sorted(excinfo.value.message_dict) == ["order_id", "token"]
    with pytest.raises(TypeError, match="tokn"):
        clean_waybill(tokn="x")


# --- lookups: a NUL matches nothing, a year no date holds answers as out of range --------------


@on_postgresql
def test_a_nul_in_an_equality_or_containment_lookup_matches_nothing() -> None:
    waybill = WaybillFactory(waybill_id="SF1", order_id="SO1")
    TraceEventFactory(waybill=waybill)
    nul = "SF\x001"
    for lookup in ("exact", "iexact", "contains", "icontains", "startswith", "istartswith", "endswith"):
        assert not Waybill.objects.filter(**{f"waybill_id__{lookup}": nul}).exists(), lookup
        assert Waybill.objects.exclude(**{f"waybill_id__{lookup}": nul}).count() == 1, lookup
    assert list(Waybill.objects.filter(waybill_id__in=["SF1", nul])) == [waybill]
    assert not Waybill.objects.filter(waybill_id__in=[nul]).exists()
    assert not TraceEvent.objects.filter(waybill__waybill_id=nul).exists()  # through a relation
    assert not TraceEvent.objects.filter(state="pending\x00").exists()
    assert not ContactAccess.objects.filter(username__icontains="\x00").exists()
    assert Waybill.objects.get(waybill_id="SF1") == waybill  # the usual lookups still work


def test_a_nul_in_a_comparison_is_refused_when_the_filter_is_built() -> None:
    for lookup, value in [("gt", "a\x00"), ("lte", "a\x00"), ("range", ("a", "b\x00")), ("regex", "\x00")]:
        with pytest.raises(ValueError, match="NUL"):
            Waybill.objects.filter(**{f"order_id__{lookup}": value})


def test_a_year_no_date_holds_answers_as_out_of_range() -> None:
    WaybillFactory()
    assert not Waybill.objects.filter(created_at__year=99_999_999_999).exists()
    assert not Waybill.objects.filter(created_at__year=0).exists()
    assert not Waybill.objects.filter(created_at__iso_year=10_000).exists()
    assert not Waybill.objects.filter(created_at__year__gt=99_999_999_999).exists()
    assert Waybill.objects.filter(created_at__year__lt=99_999_999_999).count() == 1
    assert Waybill.objects.filter(created_at__year__gte=-5).count() == 1
    assert not Waybill.objects.filter(created_at__year__lte=-5).exists()
    assert not TraceEvent.objects.filter(action_time__year=10_000).exists()


def test_the_hosts_models_keep_djangos_lookups() -> None:
    assert models.CharField.get_lookups()["exact"] is lookups.Exact
    assert Order._meta.get_field("number").get_lookup("exact") is lookups.Exact
    assert Waybill._meta.get_field("waybill_id").get_lookup("exact") is not lookups.Exact

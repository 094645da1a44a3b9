"""Model behaviour and the constraints the database enforces on its own."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from django_wxlogistics.enums import ACTION_MSG_MAX_LENGTH, ActionType, EventState
from django_wxlogistics.models import AccessToken, ContactAccess, TraceEvent, Waybill
from tests.factories import OrderFactory, TraceEventFactory, WaybillFactory

pytestmark = pytest.mark.django_db


def _violates(**update: object) -> bool:
    """Whether a raw UPDATE of the latest event (bypassing model validation) is refused."""
    event = TraceEvent.objects.latest("id")
    try:
        with transaction.atomic():
            TraceEvent.objects.filter(pk=event.pk).update(**update)
    except IntegrityError:
        return True
    return False


def test_waybill_str_and_token_flag() -> None:
    waybill = WaybillFactory(waybill_id="SF1234567890", token="")
    assert str(waybill) == "SF1234567890"
    assert waybill.has_token is False
    waybill.token = "t0k3n"
    assert waybill.has_token is True


def test_waybill_id_is_unique() -> None:
    WaybillFactory(waybill_id="SF1")
    with pytest.raises(IntegrityError):
        WaybillFactory(waybill_id="SF1")


@pytest.mark.parametrize(
    "fields",
    [{"waybill_id": ""}, {"order_id": ""}, {"latest_action_type": 123}],
    ids=["empty waybill_id", "empty order_id", "unknown action type"],
)
def test_waybill_constraints(fields: dict[str, object]) -> None:
    with pytest.raises(IntegrityError):
        WaybillFactory(**fields)


def test_waybill_latest_action_type_accepts_known_values() -> None:
    waybill = WaybillFactory(latest_action_type=ActionType.SIGNED)
    waybill.refresh_from_db()
    assert waybill.latest_action_type == 300003
    assert waybill.get_latest_action_type_display() == "Signed for"


def test_trace_event_defaults_and_ordering() -> None:
    waybill = WaybillFactory()
    now = timezone.now()
    late = TraceEventFactory(waybill=waybill, action_time=now)
    early = TraceEventFactory(waybill=waybill, action_time=now - dt.timedelta(hours=1))
    same_time = TraceEventFactory(waybill=waybill, action_time=now)
    assert late.state == EventState.PENDING
    assert late.attempts == 0
    assert late.next_attempt_at is not None
    assert list(waybill.events.all()) == [early, late, same_time]


@pytest.mark.parametrize(
    ("update", "refused"),
    [
        ({"state": "lost"}, True),
        ({"action_type": 999999}, True),
        ({"action_msg": ""}, True),
        ({"state": EventState.SENT}, True),  # sent without sent_at
        ({"state": EventState.SENT, "sent_at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC)}, False),
        ({"state": EventState.SENDING}, True),  # sending without a lease
        ({"state": EventState.SENDING, "lease_expires_at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC)}, False),
        ({"state": EventState.FAILED, "last_errcode": 40199}, False),
    ],
)
def test_trace_event_constraints(update: dict[str, object], refused: bool) -> None:
    TraceEventFactory()
    assert _violates(**update) is refused


def test_action_msg_length_is_capped_by_the_column() -> None:
    field = TraceEvent._meta.get_field("action_msg")
    assert field.max_length == ACTION_MSG_MAX_LENGTH


def test_events_go_with_their_waybill() -> None:
    event = TraceEventFactory()
    event.waybill.delete()
    assert not TraceEvent.objects.exists()


def test_access_token_one_row_per_appid_and_repr_hides_token() -> None:
    expires = timezone.now() + dt.timedelta(hours=2)
    token = AccessToken.objects.create(appid="wx1", token="SECRET-ACCESS-TOKEN", expires_at=expires)
    assert "SECRET-ACCESS-TOKEN" not in repr(token)
    assert "SECRET-ACCESS-TOKEN" not in str(token)
    with pytest.raises(IntegrityError), transaction.atomic():
        AccessToken.objects.create(appid="wx1", token="other", expires_at=expires)
    with pytest.raises(IntegrityError):
        AccessToken.objects.create(appid="", token="x", expires_at=expires)


def test_contact_access_keeps_username_when_user_is_deleted(django_user_model) -> None:
    user = django_user_model.objects.create_user("auditor")
    access = ContactAccess.objects.create(
        waybill=WaybillFactory(), user=user, username="auditor", channel="admin"
    )
    user.delete()
    access.refresh_from_db()
    assert access.user is None
    assert access.username == "auditor"
    with pytest.raises(IntegrityError):
        ContactAccess.objects.create(waybill=access.waybill, username="x", channel="fax")


def test_view_contact_permission_exists() -> None:
    from django.contrib.auth.models import Permission

    assert Permission.objects.filter(
        content_type__app_label="django_wxlogistics", codename="view_contact"
    ).exists()


def test_example_order_factory() -> None:
    order = OrderFactory()
    assert str(order) == order.number
    assert Waybill.objects.count() == 0

"""The trace event admin (read-only, with actions) and the read-only audit and token lists."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse
from django.utils import timezone

from django_wxlogistics.enums import AccessChannel, ActionType, EventState
from django_wxlogistics.models import AccessToken, ContactAccess, TraceEvent
from tests.factories import TraceEventFactory, WaybillFactory

pytestmark = pytest.mark.django_db

EVENTS = "admin:django_wxlogistics_traceevent_changelist"


def test_event_list_filters_by_state_action_type_and_errcode(clerk_client):
    failed = TraceEventFactory(
        state=EventState.FAILED, last_errcode=40199, action_type=ActionType.SIGNED, action_msg="failed one"
    )
    busy = TraceEventFactory(state=EventState.PENDING, last_errcode=-1, action_msg="busy one")
    clean = TraceEventFactory(state=EventState.SENT, sent_at=timezone.now(), action_msg="clean one")

    def listed(**params) -> set[str]:
        html = clerk_client.get(reverse(EVENTS), params).content.decode()
        return {e.action_msg for e in (failed, busy, clean) if e.action_msg in html}

    assert listed() == {"failed one", "busy one", "clean one"}
    assert listed(state__exact="failed") == {"failed one"}
    assert listed(action_type__exact=ActionType.SIGNED) == {"failed one"}
    assert listed(last_errcode="-1") == {"busy one"}
    assert listed(last_errcode="none") == {"clean one"}
    html = clerk_client.get(reverse(EVENTS)).content.decode()
    assert "40199 · waybill not found" in html  # the errcode filter names what each code means


def test_event_list_query_count_does_not_grow_with_rows(clerk_client, django_assert_max_num_queries):
    TraceEventFactory(state=EventState.FAILED, last_errcode=40199)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        clerk_client.get(reverse(EVENTS))
    for _ in range(20):
        TraceEventFactory(state=EventState.FAILED, last_errcode=40199)
    with django_assert_max_num_queries(len(one.captured_queries)):
        clerk_client.get(reverse(EVENTS))


def test_events_cannot_be_added_changed_or_deleted_in_the_admin(clerk_client):
    event = TraceEventFactory()
    assert clerk_client.get(reverse("admin:django_wxlogistics_traceevent_add")).status_code == 403
    page = clerk_client.get(reverse("admin:django_wxlogistics_traceevent_change", args=[event.pk]))
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    clerk_client.post(
        reverse("admin:django_wxlogistics_traceevent_change", args=[event.pk]), {"action_msg": "edited"}
    )
    assert (
        clerk_client.get(reverse("admin:django_wxlogistics_traceevent_delete", args=[event.pk])).status_code
        == 403
    )
    event.refresh_from_db()
    assert event.action_msg != "edited"


def test_retry_action_reports_how_many_failed_events_it_retried(clerk_client):
    failed = [TraceEventFactory(state=EventState.FAILED, attempts=10) for _ in range(3)]
    sent = TraceEventFactory(state=EventState.SENT, sent_at=timezone.now())
    response = clerk_client.post(
        reverse(EVENTS),
        {"action": "retry_failed", ACTION_CHECKBOX_NAME: [e.pk for e in [*failed, sent]]},
        follow=True,
    )
    assert "3 failed events will be pushed again." in response.content.decode()
    assert set(TraceEvent.objects.values_list("state", flat=True)) == {EventState.PENDING, EventState.SENT}

    response = clerk_client.post(
        reverse(EVENTS), {"action": "retry_failed", ACTION_CHECKBOX_NAME: [sent.pk]}, follow=True
    )
    assert "None of the selected events has failed." in response.content.decode()


def test_push_action_makes_pending_events_due(clerk_client):
    later = timezone.now() + timedelta(hours=1)
    events = [TraceEventFactory(next_attempt_at=later) for _ in range(2)]
    response = clerk_client.post(
        reverse(EVENTS), {"action": "push_pending", ACTION_CHECKBOX_NAME: [e.pk for e in events]}, follow=True
    )
    assert "2 pending events will be pushed now." in response.content.decode()
    assert not TraceEvent.objects.filter(next_attempt_at__gt=timezone.now()).exists()


def test_retry_needs_the_change_permission_on_events(make_client):
    viewer = make_client("viewer", "view_traceevent", "view_waybill")
    event = TraceEventFactory(state=EventState.FAILED)
    html = viewer.get(reverse(EVENTS)).content.decode()
    assert "retry_failed" not in html
    viewer.post(reverse(EVENTS), {"action": "retry_failed", ACTION_CHECKBOX_NAME: [event.pk]})
    event.refresh_from_db()
    assert event.state == EventState.FAILED


def test_contact_access_audit_is_listed_and_read_only(supervisor_client):
    waybill = WaybillFactory()
    ContactAccess.objects.create(waybill=waybill, username="auditor-7", channel=AccessChannel.API)
    url = reverse("admin:django_wxlogistics_contactaccess_changelist")
    html = supervisor_client.get(url).content.decode()
    assert "auditor-7" in html and waybill.waybill_id in html and "API" in html
    assert supervisor_client.get(reverse("admin:django_wxlogistics_contactaccess_add")).status_code == 403
    access = ContactAccess.objects.get()
    delete = reverse("admin:django_wxlogistics_contactaccess_delete", args=[access.pk])
    assert supervisor_client.post(delete, {"post": "yes"}).status_code == 403
    assert ContactAccess.objects.count() == 1


def test_access_tokens_show_freshness_never_the_token(admin_client):
    AccessToken.objects.create(
        appid="wxdemo0000000001",
        token="ACCESS-TOKEN-SECRET-99",
        expires_at=timezone.now() + timedelta(hours=2),
    )
    html = admin_client.get(reverse("admin:django_wxlogistics_accesstoken_changelist")).content.decode()
    assert "wxdemo0000000001" in html
    assert "ACCESS-TOKEN-SECRET-99" not in html
    row = AccessToken.objects.get()
    page = admin_client.get(reverse("admin:django_wxlogistics_accesstoken_change", args=[row.pk]))
    assert page.status_code == 200
    assert "ACCESS-TOKEN-SECRET-99" not in page.content.decode()

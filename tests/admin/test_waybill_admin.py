"""The waybill admin as staff meet it: the list, the change page with its token, the actions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from django_wxlogistics.enums import ActionType, EventState
from django_wxlogistics.models import TraceEvent, Waybill
from tests.factories import TraceEventFactory, WaybillFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:django_wxlogistics_waybill_changelist"


def change_url(waybill: Waybill) -> str:
    return reverse("admin:django_wxlogistics_waybill_change", args=[waybill.pk])


def waybill_with_events(*states: EventState, **kwargs) -> Waybill:
    waybill = WaybillFactory(**kwargs)
    for state in states:
        TraceEventFactory(
            waybill=waybill,
            state=state,
            sent_at=timezone.now() if state == EventState.SENT else None,
            last_errcode=40199 if state == EventState.FAILED else None,
        )
    return waybill


# --- the list ------------------------------------------------------------------------------


def test_list_query_count_does_not_grow_with_rows(clerk_client, django_assert_num_queries):
    waybill_with_events(EventState.SENT, EventState.PENDING, EventState.FAILED)
    with CaptureQueriesContext(connection) as one_row:
        assert clerk_client.get(reverse(CHANGELIST)).status_code == 200
    for _ in range(19):
        waybill_with_events(EventState.SENT, EventState.PENDING, EventState.FAILED)
    with django_assert_num_queries(len(one_row.captured_queries)):
        response = clerk_client.get(reverse(CHANGELIST))
    assert response.content.decode().count("1 failed") == 20


def test_list_counts_waybills_without_joining_their_events(clerk_client):
    waybill_with_events(EventState.SENT, EventState.FAILED)
    with CaptureQueriesContext(connection) as queries:
        clerk_client.get(reverse(CHANGELIST))
    # The waybills' counts (the health dashboard above the list counts events on its own).
    counts = [
        q["sql"]
        for q in queries.captured_queries
        if "COUNT(*)" in q["sql"] and '"django_wxlogistics_waybill"' in q["sql"]
    ]
    assert counts
    assert not [sql for sql in counts if "traceevent" in sql]


def test_list_shows_delivery_health(clerk_client):
    healthy = waybill_with_events(EventState.SENT, EventState.SENT)
    troubled = waybill_with_events(EventState.SENT, EventState.PENDING, EventState.FAILED, EventState.FAILED)
    quiet = WaybillFactory()
    response = clerk_client.get(reverse(CHANGELIST))
    rows = {
        waybill: _row(response.content.decode(), waybill.waybill_id) for waybill in (healthy, troubled, quiet)
    }
    assert "all sent" in rows[healthy]
    assert "1 sent" in rows[troubled]
    assert "1 pending" in rows[troubled]
    assert "2 failed" in rows[troubled]
    assert "no events" in rows[quiet]


def _row(html: str, waybill_id: str) -> str:
    start = html.index(f">{waybill_id}</a>")
    return html[start : html.index("</tr>", start)]


def test_list_filters_by_failed_events_and_latest_action(clerk_client):
    failed = waybill_with_events(EventState.FAILED, latest_action_type=ActionType.PICKED_UP)
    fine = waybill_with_events(EventState.SENT, latest_action_type=ActionType.SIGNED)

    html = clerk_client.get(reverse(CHANGELIST), {"has_failed": "yes"}).content.decode()
    assert failed.waybill_id in html
    assert fine.waybill_id not in html

    html = clerk_client.get(reverse(CHANGELIST), {"has_failed": "no"}).content.decode()
    assert fine.waybill_id in html
    assert failed.waybill_id not in html

    html = clerk_client.get(
        reverse(CHANGELIST), {"latest_action_type__exact": ActionType.SIGNED}
    ).content.decode()
    assert fine.waybill_id in html
    assert failed.waybill_id not in html
    assert "Signed for" in html


def test_list_searches_waybill_and_order(clerk_client):
    wanted = WaybillFactory(order_id="SO-WANTED-1")
    other = WaybillFactory()
    html = clerk_client.get(reverse(CHANGELIST), {"q": "SO-WANTED"}).content.decode()
    assert wanted.waybill_id in html
    assert other.waybill_id not in html
    html = clerk_client.get(reverse(CHANGELIST), {"q": other.waybill_id}).content.decode()
    assert other.waybill_id in html
    assert wanted.waybill_id not in html


# --- the token: write-only ---------------------------------------------------------------


def test_change_page_says_whether_the_token_is_set_never_what_it_is(clerk_client):
    waybill = WaybillFactory(token="tok-very-secret-123")
    html = clerk_client.get(change_url(waybill)).content.decode()
    assert "tok-very-secret-123" not in html
    assert 'name="new_token"' in html
    assert 'type="password"' in html
    assert ">set<" in html

    bare = WaybillFactory(token="")
    assert ">not set<" in clerk_client.get(change_url(bare)).content.decode()


def test_empty_token_field_keeps_the_token_and_a_new_one_replaces_it(clerk_client):
    waybill = WaybillFactory(token="tok-old")
    form = {"order_id": "SO-NEW", "new_token": "", "_save": "Save"}
    assert clerk_client.post(change_url(waybill), form).status_code == 302
    waybill.refresh_from_db()
    assert (waybill.order_id, waybill.token) == ("SO-NEW", "tok-old")

    assert clerk_client.post(change_url(waybill), {**form, "new_token": "tok-new"}).status_code == 302
    waybill.refresh_from_db()
    assert waybill.token == "tok-new"


def test_a_typed_token_is_not_shown_back_when_the_form_has_errors(clerk_client):
    waybill = WaybillFactory()
    response = clerk_client.post(change_url(waybill), {"order_id": "", "new_token": "tok-typed-in"})
    assert response.status_code == 200  # the form came back with an error
    assert "tok-typed-in" not in response.content.decode()


def test_add_page_sets_the_token(clerk_client, make_client):
    adder = make_client("adder", "add_waybill", "change_waybill", "view_waybill")
    url = reverse("admin:django_wxlogistics_waybill_add")
    response = adder.post(url, {"waybill_id": "SF-ADDED-1", "order_id": "SO-1", "new_token": "tok-added"})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Waybill.objects.get(waybill_id="SF-ADDED-1").token == "tok-added"


def test_waybill_id_cannot_change_once_created(clerk_client):
    waybill = WaybillFactory()
    original = waybill.waybill_id
    clerk_client.post(change_url(waybill), {"waybill_id": "SF-OTHER", "order_id": waybill.order_id})
    waybill.refresh_from_db()
    assert waybill.waybill_id == original


def test_the_token_reaches_no_admin_page(clerk_client, supervisor_client):
    from django.contrib.auth.models import User

    secret = "tok-never-shown-7f3a"
    waybill = waybill_with_events(EventState.SENT, EventState.FAILED, token=secret)
    # A change leaves a history entry: that page must not carry the token either.
    clerk_client.post(change_url(waybill), {"order_id": "SO-CHANGED", "new_token": secret + "-2"})
    waybill.refresh_from_db()
    secret = waybill.token
    superuser = User.objects.create_superuser("root", password="pw")
    supervisor_client.force_login(superuser)
    event = waybill.events.first()
    assert event is not None
    pages = [
        reverse(CHANGELIST),
        reverse(CHANGELIST) + f"?q={waybill.waybill_id}",
        change_url(waybill),
        reverse("admin:django_wxlogistics_waybill_history", args=[waybill.pk]),
        reverse("admin:django_wxlogistics_waybill_delete", args=[waybill.pk]),
        reverse("admin:django_wxlogistics_traceevent_changelist"),
        reverse("admin:django_wxlogistics_traceevent_change", args=[event.pk]),
        reverse("admin:django_wxlogistics_contactaccess_changelist"),
        reverse("admin:django_wxlogistics_accesstoken_changelist"),
    ]
    for url in pages:
        response = supervisor_client.get(url)
        assert response.status_code == 200, url
        assert secret not in response.content.decode(), url


# --- the timeline and the per-event retry -------------------------------------------------


def test_change_page_shows_the_trace_timeline_in_action_time_order(clerk_client):
    waybill = WaybillFactory()
    now = timezone.now()
    TraceEventFactory(
        waybill=waybill, action_type=ActionType.IN_TRANSIT, action_msg="second", action_time=now
    )
    TraceEventFactory(
        waybill=waybill,
        action_type=ActionType.PICKED_UP,
        action_msg="first",
        action_time=now - timedelta(hours=1),
        state=EventState.FAILED,
        attempts=3,
        last_errcode=40199,
        last_errmsg="invalid waybill",
    )
    html = clerk_client.get(change_url(waybill)).content.decode()
    timeline = html[html.index('id="wxl-timeline"') :]
    assert timeline.index("first") < timeline.index("second")
    assert "Picked up" in timeline
    assert "In transit" in timeline
    assert "40199 · waybill not found" in timeline
    assert "invalid waybill" in timeline
    assert "Failed" in timeline and "Pending" in timeline
    assert timeline.count("wxl-retry") == 1


def test_retry_button_makes_a_failed_event_pending(clerk_client):
    event = TraceEventFactory(state=EventState.FAILED, attempts=10, last_errcode=-1)
    url = reverse("admin:django_wxlogistics_waybill_retry_event", args=[event.waybill.pk, event.pk])
    assert clerk_client.get(url).status_code == 405
    response = clerk_client.post(url, follow=True)
    assert "will be pushed again" in response.content.decode()
    event.refresh_from_db()
    assert (event.state, event.attempts) == (EventState.PENDING, 0)

    response = clerk_client.post(url, follow=True)
    assert "has not failed" in response.content.decode()


@pytest.mark.parametrize(
    "codenames",
    [
        ("view_waybill", "view_traceevent"),
        # Changing waybills is not changing their events: the API asks for change_traceevent too.
        ("view_waybill", "change_waybill", "view_traceevent"),
    ],
    ids=["view-only", "change-waybill-only"],
)
def test_view_only_staff_cannot_retry(make_client, codenames):
    viewer = make_client("viewer", *codenames)
    event = TraceEventFactory(state=EventState.FAILED)
    html = viewer.get(change_url(event.waybill)).content.decode()
    assert 'id="wxl-timeline"' in html  # the trace is there, without its Retry button
    assert "wxl-retry" not in html
    url = reverse("admin:django_wxlogistics_waybill_retry_event", args=[event.waybill.pk, event.pk])
    assert viewer.post(url).status_code == 403
    event.refresh_from_db()
    assert event.state == EventState.FAILED


def test_change_traceevent_alone_lets_staff_retry_from_the_waybill_page(make_client):
    retrier = make_client("retrier", "view_waybill", "change_traceevent")
    event = TraceEventFactory(state=EventState.FAILED, attempts=10)
    html = retrier.get(change_url(event.waybill)).content.decode()
    assert html.count("wxl-retry") == 1
    url = reverse("admin:django_wxlogistics_waybill_retry_event", args=[event.waybill.pk, event.pk])
    response = retrier.post(url, follow=True)
    assert "will be pushed again" in response.content.decode()
    event.refresh_from_db()
    assert (event.state, event.attempts) == (EventState.PENDING, 0)


def test_the_trace_is_shown_only_to_staff_who_may_view_trace_events(make_client):
    event = TraceEventFactory(
        state=EventState.FAILED,
        action_msg="快递员 邓丽君 正在派送",
        last_errcode=-1,
        last_errmsg="system busy",
    )
    for codenames, shown in [
        (("view_waybill",), False),
        (("view_waybill", "change_waybill"), False),
        (("view_waybill", "view_traceevent"), True),
        (("view_waybill", "change_traceevent"), True),  # as the trace event admin: change lets one view
    ]:
        html = (
            make_client("staff-" + "-".join(codenames), *codenames)
            .get(change_url(event.waybill))
            .content.decode()
        )
        assert ('id="wxl-timeline"' in html, "邓丽君" in html, "system busy" in html) == (shown,) * 3, (
            codenames
        )


# --- actions ------------------------------------------------------------------------------


def run_action(client, action: str, waybills, **extra):
    data = {"action": action, ACTION_CHECKBOX_NAME: [w.pk for w in waybills], **extra}
    return client.post(reverse(CHANGELIST), data, follow=True)


def test_push_pending_now_reports_the_count(clerk_client):
    later = timezone.now() + timedelta(minutes=30)
    a = waybill_with_events(EventState.SENT)
    TraceEventFactory(waybill=a, next_attempt_at=later)
    TraceEventFactory(waybill=a, next_attempt_at=later)
    b = waybill_with_events(EventState.FAILED)
    TraceEventFactory(waybill=b, next_attempt_at=later)
    untouched = TraceEventFactory(next_attempt_at=later)

    response = run_action(clerk_client, "push_pending_now", [a, b])
    assert "3 pending events will be pushed now." in response.content.decode()
    assert (
        TraceEvent.objects.filter(state=EventState.PENDING, next_attempt_at__lte=timezone.now()).count() == 3
    )
    untouched.refresh_from_db()
    assert untouched.next_attempt_at == later

    response = run_action(clerk_client, "push_pending_now", [WaybillFactory()])
    assert "The selected waybills have no pending events." in response.content.decode()


def test_retry_failed_events_reports_the_count(clerk_client):
    a = waybill_with_events(EventState.FAILED, EventState.FAILED, EventState.SENT)
    b = waybill_with_events(EventState.PENDING)
    response = run_action(clerk_client, "retry_failed_events", [a, b])
    assert "2 failed events will be pushed again." in response.content.decode()
    assert not TraceEvent.objects.filter(state=EventState.FAILED).exists()


def test_add_trace_event_asks_then_records_one_event_per_waybill(clerk_client):
    a, b = WaybillFactory(), WaybillFactory()
    page = run_action(clerk_client, "add_trace_event", [a, b])
    html = page.content.decode()
    assert "Add a trace event" in html
    assert a.waybill_id in html and b.waybill_id in html
    assert TraceEvent.objects.count() == 0

    when = timezone.localtime() - timedelta(minutes=5)
    response = run_action(
        clerk_client,
        "add_trace_event",
        [a, b],
        apply="1",
        action_type=ActionType.OUT_FOR_DELIVERY,
        action_msg="快递员 王师傅 18666666666 正在派送",
        action_time_0=when.strftime("%Y-%m-%d"),
        action_time_1=when.strftime("%H:%M:%S"),
    )
    assert "Added the event “Out for delivery” to 2 waybills." in response.content.decode()
    events = TraceEvent.objects.order_by("waybill_id")
    assert [e.waybill_id for e in events] == [a.pk, b.pk]
    assert {e.action_type for e in events} == {ActionType.OUT_FOR_DELIVERY}
    assert {e.state for e in events} == {EventState.PENDING}
    assert all(abs((e.action_time - when).total_seconds()) < 1 for e in events)


def test_add_trace_event_shows_what_to_fix(clerk_client):
    waybill = WaybillFactory()
    future = timezone.localtime() + timedelta(days=2)
    response = run_action(
        clerk_client,
        "add_trace_event",
        [waybill],
        apply="1",
        action_type=ActionType.PICKED_UP,
        action_msg="   ",
        action_time_0=future.strftime("%Y-%m-%d"),
        action_time_1=future.strftime("%H:%M:%S"),
    )
    html = response.content.decode()
    assert "more than an hour in the future" in html
    assert "This field is required." in html or "must not be empty" in html
    assert TraceEvent.objects.count() == 0


def test_view_only_staff_get_no_actions(make_client):
    viewer = make_client("viewer", "view_waybill")
    failed = waybill_with_events(EventState.FAILED)
    response = run_action(viewer, "retry_failed_events", [failed])
    assert response.status_code == 200
    assert TraceEvent.objects.get().state == EventState.FAILED


def offered_actions(client) -> set[str]:
    html = client.get(reverse(CHANGELIST)).content.decode()
    return {
        name
        for name in ("push_pending_now", "retry_failed_events", "add_trace_event")
        if f'value="{name}"' in html
    }


def test_event_actions_need_the_event_permissions_as_in_the_api(make_client):
    """change_waybill is not enough: pushing and retrying need change_traceevent, adding
    needs add_traceevent, the permissions the API asks for."""
    WaybillFactory()
    waybill_changer = make_client("changer", "view_waybill", "change_waybill", "view_traceevent")
    assert offered_actions(waybill_changer) == set()
    failed = waybill_with_events(EventState.FAILED)
    later = timezone.now() + timedelta(minutes=30)
    pending = TraceEventFactory(waybill=failed, next_attempt_at=later)
    run_action(waybill_changer, "retry_failed_events", [failed])
    run_action(waybill_changer, "push_pending_now", [failed])
    run_action(
        waybill_changer, "add_trace_event", [failed], apply="1", action_type=ActionType.SIGNED, action_msg="x"
    )
    assert TraceEvent.objects.filter(state=EventState.FAILED).count() == 1
    pending.refresh_from_db()
    assert pending.next_attempt_at == later
    assert TraceEvent.objects.count() == 2

    retrier = make_client("retrier", "view_waybill", "change_traceevent")
    assert offered_actions(retrier) == {"push_pending_now", "retry_failed_events"}
    response = run_action(retrier, "retry_failed_events", [failed])
    assert "1 failed event will be pushed again." in response.content.decode()
    response = run_action(retrier, "push_pending_now", [failed])
    assert "2 pending events will be pushed now." in response.content.decode()

    adder = make_client("adder", "view_waybill", "add_traceevent")
    assert offered_actions(adder) == {"add_trace_event"}
    response = run_action(
        adder, "add_trace_event", [failed], apply="1", action_type=ActionType.SIGNED, action_msg="已签收"
    )
    assert "Added the event “Signed for” to 1 waybill." in response.content.decode()
    assert TraceEvent.objects.filter(action_type=ActionType.SIGNED).count() == 1


def test_a_waybill_with_history_cannot_be_deleted_in_the_admin(admin_client):
    from django_wxlogistics.models import ContactAccess

    waybill = waybill_with_events(EventState.SENT)
    ContactAccess.objects.create(waybill=waybill, username="auditor", channel="admin")
    url = reverse("admin:django_wxlogistics_waybill_delete", args=[waybill.pk])
    page = admin_client.get(url).content.decode()
    assert "contact access" in page and "trace event" in page  # named as what blocks the deletion
    admin_client.post(url, {"post": "yes"})
    assert Waybill.objects.filter(pk=waybill.pk).exists()
    assert ContactAccess.objects.count() == 1

    bare = WaybillFactory()
    admin_client.post(reverse("admin:django_wxlogistics_waybill_delete", args=[bare.pk]), {"post": "yes"})
    assert not Waybill.objects.filter(pk=bare.pk).exists()

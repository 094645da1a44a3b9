"""The inbound event admin: read-only pages without secrets, and "process again" reported to staff."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.urls import reverse

from django_wxlogistics.enums import PushVerdict
from django_wxlogistics.models import InboundEvent, Waybill
from tests.events.pushes import ADD_WAYBILL, TOKEN, URL, event, push_settings

pytestmark = pytest.mark.django_db
CHANGELIST = reverse("admin:django_wxlogistics_inboundevent_changelist")


def staff(*codenames: str) -> Client:
    user = User.objects.create_user(f"staff-{'-'.join(codenames) or 'none'}", password="pw", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="django_wxlogistics", codename__in=codenames)
    )
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def viewer() -> Client:
    return staff("view_inboundevent")


@pytest.fixture
def operator() -> Client:
    return staff("view_inboundevent", "change_inboundevent")


def process_again(client: Client, *rows: InboundEvent, follow: bool = True):
    return client.post(
        CHANGELIST,
        {"action": "process_selected_again", "_selected_action": [row.pk for row in rows]},
        follow=follow,
    )


def texts(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


class TestPages:
    def test_list_and_detail_show_no_secret_and_no_whole_contact(self, wechat, viewer):
        wechat.ask(event(ADD_WAYBILL), "xml")
        row = InboundEvent.objects.get()
        pages = [
            viewer.get(CHANGELIST),
            viewer.get(reverse("admin:django_wxlogistics_inboundevent_change", args=[row.pk])),
        ]
        for page in pages:
            assert page.status_code == 200
            html = page.content.decode()
            for secret in (
                ADD_WAYBILL["Token"],
                ADD_WAYBILL["BizPwd"],
                "18666666666",
                "王小蒙",
                row.sealed_body[:40],
            ):
                assert secret not in html
        assert "186****6666" in pages[1].content.decode()
        assert "add_waybill" in pages[0].content.decode()

    def test_nothing_can_be_added_changed_or_deleted(self, wechat, operator):
        wechat.ask(event(ADD_WAYBILL))
        row = InboundEvent.objects.get()
        assert operator.get(reverse("admin:django_wxlogistics_inboundevent_add")).status_code == 403
        assert (
            operator.post(
                reverse("admin:django_wxlogistics_inboundevent_delete", args=[row.pk]), {"post": "yes"}
            ).status_code
            == 403
        )
        change = operator.post(
            reverse("admin:django_wxlogistics_inboundevent_change", args=[row.pk]), {"verdict": "ok"}
        )
        assert change.status_code == 403
        assert InboundEvent.objects.get().verdict == PushVerdict.OK

    def test_filters_and_bad_filters_get_the_lists_usual_answers(self, wechat, viewer):
        wechat.ask(event(ADD_WAYBILL))
        assert viewer.get(CHANGELIST, {"verdict": "ok"}).context["cl"].result_count == 1
        assert viewer.get(CHANGELIST, {"verdict": "malformed"}).context["cl"].result_count == 0
        bad = viewer.get(CHANGELIST, {"received_at__year": "99999999999"})
        assert (bad.status_code, bad["Location"]) == (302, f"{CHANGELIST}?e=1")


class TestProcessAgain:
    def test_a_crashed_push_succeeds_once_the_handler_is_fixed(self, wechat, settings, operator):
        settings.WXLOGISTICS = push_settings(
            EVENT_HANDLERS={"add_waybill": "tests.events.handlers.crash_with_the_token"}
        )
        wechat.ask(event(ADD_WAYBILL))
        row = InboundEvent.objects.get()
        assert row.verdict == PushVerdict.HANDLER_ERROR and not Waybill.objects.exists()
        settings.WXLOGISTICS = push_settings()
        response = process_again(operator, row)
        assert texts(response) == ["1 push processed again (Processed: 1)."]
        row.refresh_from_db()
        assert (row.verdict, row.processed_count, row.error) == (PushVerdict.OK, 2, "")
        assert Waybill.objects.get().token == ADD_WAYBILL["Token"] and row.waybill == Waybill.objects.get()

    def test_a_push_refused_for_a_wrong_token_succeeds_once_the_token_is_fixed(
        self, wechat, settings, operator
    ):
        settings.WXLOGISTICS = push_settings(PUSH_TOKEN="NotTheConsoleToken")
        wechat.send(event(ADD_WAYBILL))
        row = InboundEvent.objects.get()
        assert row.verdict == PushVerdict.BAD_SIGNATURE
        settings.WXLOGISTICS = push_settings(PUSH_TOKEN=TOKEN)
        process_again(operator, row)
        row.refresh_from_db()
        assert row.verdict == PushVerdict.OK and Waybill.objects.exists()

    def test_processing_again_is_idempotent_and_outside_the_replay_window(
        self, wechat, operator, monkeypatch
    ):
        from django_wxlogistics.events import inbound

        wechat.ask(event(ADD_WAYBILL))
        row = InboundEvent.objects.get()
        waybill_id = Waybill.objects.get().waybill_id
        monkeypatch.setattr(inbound, "clock", lambda: 2_000_000_000.0)  # long after the push
        response = process_again(operator, row)
        assert "Processed again: a repeated push: 1" in texts(response)[0]
        row.refresh_from_db()
        assert row.verdict == PushVerdict.DUPLICATE and Waybill.objects.get().waybill_id == waybill_id

    def test_what_cannot_be_processed_again_is_named(self, wechat, settings, operator):
        wechat.client.get(URL, {"echostr": "1", "timestamp": "1", "nonce": "1", "signature": "x"})
        settings.WXLOGISTICS = push_settings(PUSH_MAX_BYTES=10)
        wechat.send(event(ADD_WAYBILL))
        response = process_again(operator, *InboundEvent.objects.all())
        [warning] = texts(response)
        assert "nothing to process again" in warning and "too large" in warning

    def test_a_body_sealed_under_a_former_secret_key(self, wechat, settings, operator):
        wechat.ask(event(ADD_WAYBILL))
        row = InboundEvent.objects.get()
        old = settings.SECRET_KEY
        settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "a-new-secret-key-" + "x" * 40, [old]
        assert "Processed again" in texts(process_again(operator, row))[0]
        settings.SECRET_KEY_FALLBACKS = []
        assert "SECRET_KEY changed" in texts(process_again(operator, row))[0]

    def test_staff_who_may_only_view_cannot(self, wechat, settings, viewer):
        settings.WXLOGISTICS = push_settings(
            EVENT_HANDLERS={"add_waybill": "tests.events.handlers.crash_with_the_token"}
        )
        wechat.ask(event(ADD_WAYBILL))
        settings.WXLOGISTICS = push_settings()
        process_again(viewer, InboundEvent.objects.get())
        assert InboundEvent.objects.get().verdict == PushVerdict.HANDLER_ERROR
        assert b"process_selected_again" not in viewer.get(CHANGELIST).content

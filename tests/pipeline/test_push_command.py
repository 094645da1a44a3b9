"""``manage.py wxlogistics_push`` against the sandbox, in this process."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from django_wxlogistics.enums import EventState
from django_wxlogistics.models import TraceEvent
from tests.factories import TraceEventFactory, WaybillFactory

pytestmark = pytest.mark.django_db


def _at(minutes: int):
    return timezone.now() - timedelta(hours=1) + timedelta(minutes=minutes)


def _push(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("wxlogistics_push", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_pushes_every_pending_event_in_order_even_in_backoff(wechat_sandbox):
    waybill = WaybillFactory()
    wechat_sandbox.register_waybill(waybill.waybill_id, waybill.token)
    later = timezone.now() + timedelta(minutes=10)
    for n in (3, 1, 2):
        TraceEventFactory(waybill=waybill, action_time=_at(n), action_msg=f"step {n}", next_attempt_at=later)
    out, err = _push()
    assert "Sent: 3, retried later: 0, failed: 0, still waiting: 0." in out
    assert "3/3" in err
    assert [t["action_msg"] for t in wechat_sandbox.trace(waybill.waybill_id)] == [
        "step 1",
        "step 2",
        "step 3",
    ]


def test_retry_failed_and_a_permanent_failure(wechat_sandbox):
    good, bad = WaybillFactory(), WaybillFactory()
    wechat_sandbox.register_waybill(good.waybill_id, good.token)
    wechat_sandbox.register_waybill(bad.waybill_id, "not-the-token")
    TraceEventFactory(waybill=good, state=EventState.FAILED)
    TraceEventFactory(waybill=bad)
    out, _ = _push("--retry-failed")
    assert "Sent: 1, retried later: 0, failed: 1, still waiting: 0." in out
    assert TraceEvent.objects.get(waybill=good).state == EventState.SENT


def test_transient_failures_go_back_to_the_queue(wechat_sandbox, settings):
    settings.WXLOGISTICS = {**settings.WXLOGISTICS, "RETRY_BACKOFF_BASE": 60, "RETRY_BACKOFF_CAP": 60}
    waybill = WaybillFactory()
    wechat_sandbox.register_waybill(waybill.waybill_id, waybill.token)
    TraceEventFactory(waybill=waybill, action_time=_at(1))
    TraceEventFactory(waybill=waybill, action_time=_at(2))
    wechat_sandbox.set_faults(error_rate=1.0, kinds=["errcode"])
    out, _ = _push()
    # The first is retried later (unless its jittered backoff is ~0); the second waits behind it.
    assert "failed: 0" in out
    assert "still waiting: 2." in out or "still waiting: 1." in out
    assert TraceEvent.objects.filter(state=EventState.SENT).count() == 0


def test_dry_run_changes_nothing(wechat_sandbox):
    event = TraceEventFactory(next_attempt_at=timezone.now() + timedelta(minutes=5))
    out, _ = _push("--dry-run")
    assert "Would push 1 event(s): 1 pending, 0 sending, 0 failed." in out
    assert event.waybill.waybill_id in out
    assert wechat_sandbox.calls() == []
    event.refresh_from_db()
    assert event.state == EventState.PENDING and event.next_attempt_at > timezone.now()


def test_only_the_named_waybill(wechat_sandbox):
    mine, other = WaybillFactory(), WaybillFactory()
    wechat_sandbox.register_waybill(mine.waybill_id, mine.token)
    TraceEventFactory(waybill=mine)
    TraceEventFactory(waybill=other)
    out, _ = _push("--waybill", mine.waybill_id)
    assert "Sent: 1," in out
    assert TraceEvent.objects.get(waybill=other).state == EventState.PENDING


def test_an_unknown_waybill_is_a_clear_error(db):
    with pytest.raises(CommandError, match="NOPE123"):
        _push("--waybill", "NOPE123")


def test_nothing_to_push(db):
    out, _ = _push()
    assert out.strip() == "Nothing to push."

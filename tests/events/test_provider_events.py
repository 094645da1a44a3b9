"""Every provider event, in XML and JSON, plain and safe mode: what WeChat is answered and what is kept."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.dispatch import receiver
from django.utils import timezone

from django_wxlogistics.enums import ActionType, EventState, PushVerdict
from django_wxlogistics.models import InboundEvent, TraceEvent, Waybill
from django_wxlogistics.signals import (
    biz_check_requested,
    quota_requested,
    waybill_cancel_requested,
    waybill_order_received,
)
from example_project.shop.models import Order
from tests.events import handlers
from tests.events.pushes import (
    ADD_WAYBILL,
    CANCEL_WAYBILL,
    CHECK_BIZ,
    GET_QUOTA,
    NOTIFY_QUERY,
    WeChat,
    event,
    push_settings,
)
from tests.factories import OrderFactory, TraceEventFactory, WaybillFactory

pytestmark = pytest.mark.django_db
MODES = pytest.mark.parametrize(
    ("fmt", "safe"), [("xml", True), ("json", True), ("xml", False), ("json", False)], ids=str
)


@pytest.fixture(autouse=True)
def _forget_handler_calls():
    handlers.calls.clear()


def code(reply) -> int:
    return int(reply["ResultCode"])


def verdicts() -> list[str]:
    return list(InboundEvent.objects.order_by("id").values_list("verdict", flat=True))


class TestAddWaybill:
    @MODES
    def test_the_order_becomes_a_waybill_with_its_token(self, wechat, fmt, safe):
        reply = wechat.ask(event(ADD_WAYBILL), fmt, safe)
        waybill = Waybill.objects.get()
        assert code(reply) == 0
        assert (reply["ToUserName"], reply["FromUserName"]) == ("oABCD", "gh_abcdefg")
        assert str(reply["CreateTime"]) == str(wechat.timestamp)
        assert (reply["MsgType"], reply["Event"]) == ("event", "add_waybill")
        assert (reply["Token"], reply["OrderID"], reply["BizID"]) == (
            ADD_WAYBILL["Token"],
            ADD_WAYBILL["OrderID"],
            "xyz",
        )
        assert reply["WayBillID"] == waybill.waybill_id
        assert waybill.waybill_id.isdigit() and len(waybill.waybill_id) == 15  # WayBillID "0": ours
        assert waybill.token == ADD_WAYBILL["Token"]
        assert (waybill.biz_id, waybill.wechat_order_id) == ("xyz", ADD_WAYBILL["OrderID"])
        assert waybill.order_id == ADD_WAYBILL["OrderID"]  # no hook: WeChat's OrderID
        row = InboundEvent.objects.get()
        assert (row.verdict, row.waybill, row.waybill_number, row.result_code) == (
            PushVerdict.OK,
            waybill,
            waybill.waybill_id,
            0,
        )

    def test_a_waybill_id_wechat_assigned_is_kept(self, wechat):
        reply = wechat.ask(event(ADD_WAYBILL, WayBillID="123456789"))
        assert reply["WayBillID"] == "123456789"
        assert Waybill.objects.get().waybill_id == "123456789"

    @MODES
    def test_a_repeated_push_gets_the_same_waybill_and_creates_nothing(self, wechat, settings, fmt, safe):
        settings.WXLOGISTICS = push_settings(WAYBILL_ORDER_HANDLER="tests.events.handlers.shop_order_number")
        first = wechat.ask(event(ADD_WAYBILL), fmt, safe)
        again = wechat.ask(event(ADD_WAYBILL), fmt, safe)
        assert again["WayBillID"] == first["WayBillID"] and code(again) == 0
        assert Waybill.objects.count() == 1
        assert len(handlers.calls) == 1  # the shop's order was made once
        assert verdicts() == [PushVerdict.OK, PushVerdict.DUPLICATE]

    def test_a_repeated_push_with_a_new_token_replaces_it(self, wechat):
        wechat.ask(event(ADD_WAYBILL))
        wechat.ask(event(ADD_WAYBILL, Token="NEWTOKEN0000001"))
        assert Waybill.objects.get().token == "NEWTOKEN0000001"

    def test_the_same_orderid_of_another_merchant_is_another_order(self, wechat):
        one = wechat.ask(event(ADD_WAYBILL))
        two = wechat.ask(event(ADD_WAYBILL, BizID="other"))
        assert one["WayBillID"] != two["WayBillID"] and Waybill.objects.count() == 2

    def test_the_generator_is_a_setting_and_a_taken_id_is_never_reused(self, wechat, settings):
        settings.WXLOGISTICS = push_settings(WAYBILL_ID_GENERATOR="tests.events.handlers.sequential_ids")
        assert wechat.ask(event(ADD_WAYBILL))["WayBillID"] == "SEQ000001"
        WaybillFactory(waybill_id="TAKEN1", token="theirs-token")
        handlers.calls.clear()
        settings.WXLOGISTICS = push_settings(WAYBILL_ID_GENERATOR="tests.events.handlers.taken_then_free")
        assert wechat.ask(event(ADD_WAYBILL, OrderID="2"))["WayBillID"] == "FREE2"
        assert Waybill.objects.get(waybill_id="TAKEN1").token == "theirs-token"

    def test_a_waybill_id_of_another_order_is_refused(self, wechat):
        WaybillFactory(waybill_id="123456789", token="theirs-token")
        reply = wechat.ask(event(ADD_WAYBILL, WayBillID="123456789"))
        assert code(reply) == 20001
        assert Waybill.objects.get().token == "theirs-token"

    @pytest.mark.parametrize("missing", ["Token", "OrderID"])
    def test_an_order_without_its_key_fields(self, wechat, missing):
        fields = event(ADD_WAYBILL)
        del fields[missing]
        reply = wechat.ask(fields)
        assert code(reply) == -1 and missing in reply["ResultMsg"]
        assert not Waybill.objects.exists()

    def test_a_receiver_creates_the_shops_order(self, wechat):
        seen = []

        @receiver(waybill_order_received, weak=False)
        def make_order(sender, order, result, message, **kwargs):
            seen.append(order)
            return OrderFactory(number=f"WX{order.order_id[-8:]}", customer_name=order.receiver.name)

        try:
            wechat.ask(event(ADD_WAYBILL))
        finally:
            waybill_order_received.disconnect(make_order)
        shop_order = Order.objects.get()
        assert Waybill.objects.get().order_id == shop_order.number == "WX23456789"
        assert shop_order.customer_name == "王小蒙"
        assert seen[0].sender.mobile == "18666666666" and seen[0].cargo["Count"] == 2
        assert "1234ABC" not in repr(seen[0]) and "xyz123" not in repr(seen[0])

    def test_a_receiver_refuses_the_order_and_its_work_is_undone(self, wechat):
        @receiver(waybill_order_received, weak=False)
        def refuse(sender, order, result, message, **kwargs):
            OrderFactory(number="HALF-MADE")
            result.refuse(20004, "收件人信息不完整")

        try:
            reply = wechat.ask(event(ADD_WAYBILL))
        finally:
            waybill_order_received.disconnect(refuse)
        assert (code(reply), reply["ResultMsg"]) == (20004, "收件人信息不完整")
        assert not Waybill.objects.exists() and not Order.objects.exists()

    def test_the_order_hook_can_be_a_dotted_path(self, wechat, settings):
        settings.WXLOGISTICS = push_settings(WAYBILL_ORDER_HANDLER="tests.events.handlers.shop_order_number")
        wechat.ask(event(ADD_WAYBILL))
        assert Waybill.objects.get().order_id == "SHOP-456789"

    @pytest.mark.django_db(transaction=True)
    def test_two_pushes_of_one_order_at_once_make_one_waybill(self, settings, push_clock):
        if connection.vendor != "postgresql":
            pytest.skip("needs a database that runs two transactions at once")
        from django.test import Client

        settings.WXLOGISTICS = push_settings()
        both_inside = threading.Barrier(2, timeout=10)

        @receiver(waybill_order_received, weak=False)
        def wait_for_the_other(sender, **kwargs):
            both_inside.wait()  # both pushes are past the "already placed?" look-up

        replies = []

        def push():
            try:
                replies.append(WeChat(Client()).ask(event(ADD_WAYBILL)))
            finally:
                connection.close()

        threads = [threading.Thread(target=push) for _ in range(2)]
        try:
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(30)
        finally:
            waybill_order_received.disconnect(wait_for_the_other)
        assert [code(r) for r in replies] == [0, 0]
        assert replies[0]["WayBillID"] == replies[1]["WayBillID"]
        assert Waybill.objects.count() == 1
        assert sorted(verdicts()) == [PushVerdict.DUPLICATE, PushVerdict.OK]


@pytest.fixture
def placed(wechat) -> Waybill:
    wechat.ask(event(ADD_WAYBILL, WayBillID="123456789"))
    return Waybill.objects.get()


class TestCancelWaybill:
    @MODES
    def test_cancelling_records_a_400001_trace_event(self, wechat, placed, fmt, safe):
        reply = wechat.ask(event(CANCEL_WAYBILL), fmt, safe)
        assert code(reply) == 0
        assert (reply["BizID"], reply["OrderID"], reply["WayBillID"]) == (
            "xyz",
            ADD_WAYBILL["OrderID"],
            "123456789",
        )
        assert "Token" not in reply
        placed.refresh_from_db()
        assert placed.is_cancelled
        cancel = TraceEvent.objects.get(waybill=placed)
        assert (cancel.action_type, cancel.state) == (ActionType.CANCELLED, EventState.PENDING)

    def test_a_repeated_cancel_gets_the_same_answer_and_no_second_event(self, wechat, placed):
        wechat.ask(event(CANCEL_WAYBILL))
        assert code(wechat.ask(event(CANCEL_WAYBILL))) == 0
        assert TraceEvent.objects.count() == 1
        assert verdicts()[-2:] == [PushVerdict.OK, PushVerdict.DUPLICATE]

    @pytest.mark.parametrize(
        "changes", [{"WayBillID": "999"}, {"OrderID": "another"}, {"BizID": "someone"}], ids=str
    )
    def test_an_unknown_waybill_is_30001(self, wechat, placed, changes):
        assert code(wechat.ask(event(CANCEL_WAYBILL, **changes))) == 30001
        placed.refresh_from_db()
        assert not placed.is_cancelled and not TraceEvent.objects.exists()

    def test_a_waybill_registered_another_way_is_found_by_its_id(self, wechat):
        WaybillFactory(waybill_id="123456789")
        assert code(wechat.ask(event(CANCEL_WAYBILL))) == 0

    @pytest.mark.parametrize(
        ("step", "expected"),
        [
            (ActionType.ASSIGNING_COURIER, 0),
            (ActionType.PICKED_UP, 30002),
            (ActionType.IN_TRANSIT, 30002),
            (ActionType.SIGNED, 30003),
        ],
    )
    def test_too_late_to_cancel(self, wechat, placed, step, expected):
        TraceEventFactory(waybill=placed, action_type=step)
        assert code(wechat.ask(event(CANCEL_WAYBILL))) == expected
        placed.refresh_from_db()
        assert placed.is_cancelled == (expected == 0)

    def test_a_receiver_decides(self, wechat, placed):
        @receiver(waybill_cancel_requested, weak=False)
        def never(sender, waybill, result, message, **kwargs):
            result.refuse(30004, "不支持取消")

        try:
            reply = wechat.ask(event(CANCEL_WAYBILL))
        finally:
            waybill_cancel_requested.disconnect(never)
        assert (code(reply), reply["ResultMsg"]) == (30004, "不支持取消")
        assert not TraceEvent.objects.exists()


class TestMerchantAccounts:
    @MODES
    @pytest.mark.parametrize("template", [CHECK_BIZ, GET_QUOTA], ids=["check_biz", "get_quota"])
    def test_an_unknown_merchant_is_refused_by_default(self, wechat, fmt, safe, template):
        reply = wechat.ask(event(template), fmt, safe)
        assert (code(reply), int(reply["Quota"]), reply["BizID"]) == (10001, 0, "xyz")
        assert reply["Event"] == template["Event"]

    @pytest.mark.parametrize(
        ("signal", "template"), [(biz_check_requested, CHECK_BIZ), (quota_requested, GET_QUOTA)]
    )
    def test_a_receiver_knows_the_merchant(self, wechat, signal, template):
        def known(sender, account, result, message, **kwargs):
            if (account.biz_id, account.password) == ("xyz", "xyz123"):
                result.refuse(0, "ok")
                result.fields["Quota"] = 100

        signal.connect(known, weak=False)
        try:
            reply = wechat.ask(event(template), "xml")
            wrong = wechat.ask(event(template, BizPwd="guess"), "xml")
        finally:
            signal.disconnect(known)
        assert (code(reply), reply["Quota"]) == (0, "100")
        assert code(wrong) == 10001
        assert "xyz123" not in repr(InboundEvent.objects.values_list("payload", "reply"))

    def test_a_handler_takes_the_event_over(self, wechat, settings):
        settings.WXLOGISTICS = push_settings(
            EVENT_HANDLERS={"GET_QUOTA": "tests.events.handlers.fixed_quota"}
        )
        reply = wechat.ask(event(GET_QUOTA))
        assert (code(reply), reply["Quota"], reply["ResultMsg"]) == (0, 77, "ours")


class TestWaybillNotifyQuery:
    @MODES
    def test_the_path_is_the_trace_we_hold(self, wechat, fmt, safe):
        waybill = WaybillFactory(waybill_id=NOTIFY_QUERY["WaybillId"])
        first = TraceEventFactory(waybill=waybill, action_type=ActionType.PICKED_UP, action_msg="已揽收")
        TraceEventFactory(waybill=waybill, action_type=ActionType.IN_TRANSIT, state=EventState.FAILED)
        last = TraceEventFactory(
            waybill=waybill,
            action_type=ActionType.OUT_FOR_DELIVERY,
            action_msg="派送中",
            state=EventState.SENT,
            sent_at=timezone.now(),
        )
        reply = wechat.ask(event(NOTIFY_QUERY), fmt, safe)
        assert code(reply) == 0
        assert int(reply["WaybillCreateTime"]) == int(waybill.created_at.timestamp())
        path = [{k: str(v) for k, v in step.items()} for step in reply["Path"]]
        assert path == [
            {
                "ActionTime": str(int(e.action_time.timestamp())),
                "ActionType": str(e.action_type),
                "ActionMsg": m,
            }
            for e, m in ((first, "已揽收"), (last, "派送中"))
        ]

    def test_an_unknown_waybill(self, wechat):
        reply = wechat.ask(event(NOTIFY_QUERY))
        assert code(reply) == -1 and "Path" not in reply


class TestOtherEvents:
    @MODES
    def test_an_unknown_event_is_stored_and_answered_minus_one(self, wechat, fmt, safe):
        reply = wechat.ask(event(CHECK_BIZ, Event="add_single_waybill"), fmt, safe)
        assert code(reply) == -1 and "add_single_waybill" in reply["ResultMsg"]
        assert InboundEvent.objects.get().verdict == PushVerdict.UNKNOWN_EVENT

    def test_a_handler_answers_an_event_the_app_does_not_know(self, wechat, settings):
        settings.WXLOGISTICS = push_settings(
            EVENT_HANDLERS={"add_single_waybill": "tests.events.handlers.single_waybill"}
        )
        reply = wechat.ask(event(NOTIFY_QUERY, Event="ADD_SINGLE_WAYBILL"))
        assert (code(reply), reply["WayBillID"]) == (0, NOTIFY_QUERY["WaybillId"])
        assert InboundEvent.objects.get().verdict == PushVerdict.OK

"""The merchant's side of the control API, the page and the faults, over real HTTP: payments
created and acted on, what WeChat received about each, the page's shipping states and forms."""

from __future__ import annotations

import time

import pytest
import requests

from django_wxlogistics.sandbox import SandboxControlError
from django_wxlogistics.sandbox.clock import SandboxClock
from django_wxlogistics.sandbox.faults import ALL_APIS
from django_wxlogistics.sandbox.wechat_api import ROUTES

from .conftest import WeChatCaller
from .shipping_helpers import GET_ORDER, NOTIFY, TRACE_WAYBILL, UPLOAD, trace_body, upload_body


def control(wechat_sandbox, method: str, endpoint: str, **kwargs) -> requests.Response:
    return requests.request(method, f"{wechat_sandbox.url}/__sandbox__/{endpoint}", timeout=5, **kwargs)


def test_every_route_of_the_merchants_side_can_be_faulted_by_name():
    names = {
        api
        for path, (api, _) in ROUTES.items()
        if path.startswith(("/wxa/", "/cgi-bin/express/delivery/open"))
    }
    assert len(names) == 12 and names <= set(ALL_APIS)


def test_a_payment_with_every_default(wechat_sandbox):
    payment = wechat_sandbox.create_payment()
    assert payment["transaction_id"].startswith("4200") and len(payment["transaction_id"]) == 28
    assert payment["openid"].startswith("o") and payment["mchid"] == "1900000109"
    assert (payment["order_state"], payment["known"], payment["amount"]) == (1, True, 100)
    assert wechat_sandbox.payments() == [payment]
    assert wechat_sandbox.stats()["payments"] == 1


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"colour": "red"}, "unknown field(s) colour"),
        ({"amount": 0}, "amount must be a whole number >= 1"),
        ({"amount": "100"}, "amount must be a whole number"),
        ({"openid": ""}, "openid must be a non-empty string"),
        ({"out_trade_no": "no spaces here"}, "out_trade_no must be 6 to 32"),
        ({"unknown_for": -1}, "unknown_for must be a number >= 0"),
        ({"state": True}, "state must be a whole number"),
        ({"sub_payments": [{"openid": "oOther"}]}, "leave openid out"),
        ({"sub_payments": "two"}, "sub_payments must be a list"),
        ({"sub_payments": [{"sub_payments": []}]}, "unknown field(s) sub_payments"),
    ],
)
def test_a_payment_the_control_api_cannot_make_gets_a_400(wechat_sandbox, body, words):
    reply = control(wechat_sandbox, "POST", "payments", json=body)
    assert reply.status_code == 400 and words in reply.json()["error"]
    assert wechat_sandbox.payments() == []


def test_unknown_payments_and_waybills_get_a_404(wechat_sandbox):
    for call in (
        lambda: wechat_sandbox.payment("42"),
        lambda: wechat_sandbox.refund_payment("42"),
        lambda: wechat_sandbox.payment_calls("42"),
        lambda: wechat_sandbox.tracked_waybill("ZT1"),
        lambda: wechat_sandbox.set_waybill_status("ZT1", 1),
    ):
        with pytest.raises(SandboxControlError, match="404"):
            call()


@pytest.mark.parametrize(
    ("endpoint", "body"),
    [
        ("state", {}),
        ("state", {"state": "6"}),
        ("state", {"state": 6, "why": "x"}),
        ("unknown", {"seconds": -5}),
        ("unknown", {}),
        ("refund", {"now": True}),
    ],
)
def test_payment_actions_check_their_bodies(wechat_sandbox, endpoint, body):
    tid = wechat_sandbox.create_payment()["transaction_id"]
    assert control(wechat_sandbox, "POST", f"payments/{tid}/{endpoint}", json=body).status_code == 400


def test_the_merchant_and_carrier_options_check_their_values(wechat_sandbox):
    assert control(wechat_sandbox, "POST", "merchant", json={"trade_managed": "no"}).status_code == 400
    assert control(wechat_sandbox, "POST", "merchant", json={"colour": True}).status_code == 400
    assert (
        control(
            wechat_sandbox, "POST", "carriers", json={"delivery_id": "", "delivery_name": "x"}
        ).status_code
        == 400
    )
    assert control(wechat_sandbox, "POST", "carriers", json={"delivery_id": "X"}).status_code == 400
    tracked = control(wechat_sandbox, "POST", "tracked/ZT1/status", json={"status": 9})
    assert tracked.status_code == 400


def test_a_reset_forgets_the_merchants_side(wechat: WeChatCaller, wechat_sandbox):
    wechat_sandbox.create_payment()
    wechat_sandbox.add_carrier("BDT", "八达通")
    wechat_sandbox.configure_merchant(trade_managed=False)
    assert wechat.post(TRACE_WAYBILL, trace_body()).json()["errcode"] == 0
    wechat_sandbox.reset()
    assert wechat_sandbox.payments() == [] and wechat_sandbox.tracked_waybills() == []
    assert "BDT" not in {c["delivery_id"] for c in wechat_sandbox.carriers()}
    assert wechat_sandbox.merchant_config()["trade_managed"] is True


def test_payment_calls_are_what_wechat_received_about_it(wechat: WeChatCaller, wechat_sandbox):
    payment = wechat_sandbox.create_payment()
    other = wechat_sandbox.create_payment()
    by_merchant = upload_body(
        payment,
        order_key={
            "order_number_type": 1,
            "mchid": payment["mchid"],
            "out_trade_no": payment["out_trade_no"],
        },
    )
    wechat.post(UPLOAD, by_merchant)
    wechat.post(UPLOAD, upload_body(other))
    wechat.post(GET_ORDER, {"merchant_id": payment["mchid"], "merchant_trade_no": payment["out_trade_no"]})
    wechat.post(NOTIFY, {"transaction_id": payment["transaction_id"], "received_time": 1})
    wechat.post(TRACE_WAYBILL, trace_body(trans_id=payment["transaction_id"]))
    calls = wechat_sandbox.payment_calls(payment["transaction_id"])
    apis = ["upload_shipping_info", "get_order", "notify_confirm_receive", "trace_waybill"]
    assert [c["api"] for c in calls] == apis
    assert calls[0]["body"] == by_merchant and calls[0]["reply"] == {"errcode": 0, "errmsg": "ok"}
    assert calls[2]["reply"]["errcode"] == 10060029
    assert [c["api"] for c in wechat_sandbox.payment_calls(payment["transaction_id"], api="get_order")] == [
        "get_order"
    ]
    assert len(wechat_sandbox.calls(api="upload_shipping_info")) == 2


@pytest.mark.parametrize("kind", ["errcode", "http502", "reset"])
def test_faults_apply_to_the_merchants_side(wechat: WeChatCaller, wechat_sandbox, kind):
    payment = wechat_sandbox.create_payment()
    token = wechat.access_token()
    wechat_sandbox.set_faults(error_rate=1.0, kinds=[kind], apis=["upload_shipping_info"])
    try:
        reply = wechat.post(UPLOAD, upload_body(payment), access_token=token)
        assert reply.status_code == 502 if kind == "http502" else reply.json()["errcode"] == -1
    except requests.ConnectionError:
        assert kind == "reset"
    assert wechat_sandbox.payment(payment["transaction_id"])["order_state"] == 1  # not applied
    assert wechat_sandbox.calls(api="upload_shipping_info")[0]["fault"] == kind
    # Other APIs are not in this plan.
    assert (
        wechat.post(GET_ORDER, {"transaction_id": payment["transaction_id"]}, access_token=token).json()[
            "errcode"
        ]
        == 0
    )


def test_a_hang_records_the_upload_though_the_answer_is_late(wechat: WeChatCaller, wechat_sandbox):
    payment = wechat_sandbox.create_payment()
    token = wechat.access_token()
    wechat_sandbox.set_faults(error_rate=1.0, kinds=["hang"], hang_seconds=30, apis=["upload_shipping_info"])
    with pytest.raises(requests.Timeout):
        wechat.session.post(
            f"{wechat_sandbox.url}{UPLOAD}",
            params={"access_token": token},
            json=upload_body(payment),
            timeout=0.5,
        )
    assert wechat_sandbox.payment(payment["transaction_id"])["order_state"] == 2
    wechat_sandbox.release()
    wechat_sandbox.clear_faults()
    # The shop tries again with the same body: WeChat has it already, nothing is spent.
    assert wechat.post(UPLOAD, upload_body(payment), access_token=token).json()["errcode"] == 10060023
    assert wechat_sandbox.payment(payment["transaction_id"])["reshipped"] is False


def test_the_rate_limit_counts_the_merchants_side_too(wechat: WeChatCaller, wechat_sandbox):
    payment = wechat_sandbox.create_payment()
    token = wechat.access_token()
    wechat_sandbox.stop_clock()
    wechat_sandbox.set_faults(rate_limit=1, apis=["get_order"])
    body = {"transaction_id": payment["transaction_id"]}
    assert wechat.post(GET_ORDER, body, access_token=token).json()["errcode"] == 0
    assert wechat.post(GET_ORDER, body, access_token=token).json()["errcode"] == 45009
    wechat_sandbox.advance_clock(1)
    assert wechat.post(GET_ORDER, body, access_token=token).json()["errcode"] == 0


def test_an_expired_token_comes_before_any_check(wechat: WeChatCaller, wechat_sandbox):
    token = wechat.access_token()
    wechat_sandbox.expire_tokens()
    assert wechat.post(UPLOAD, {}, access_token=token).json()["errcode"] == 42001
    assert wechat.post(TRACE_WAYBILL, {}, access_token="").json()["errcode"] == 41001


def test_the_page_shows_each_payments_shipping_state(wechat: WeChatCaller, wechat_sandbox):
    shipped = wechat_sandbox.create_payment(amount=2990)
    wechat_sandbox.create_payment(unknown_for=60)
    refunded = wechat_sandbox.create_payment()
    wechat_sandbox.refund_payment(refunded["transaction_id"])
    assert wechat.post(UPLOAD, upload_body(shipped)).json()["errcode"] == 0
    english = control(wechat_sandbox, "GET", "", params={"lang": "en"}).text
    assert shipped["transaction_id"] in english and "¥29.90" in english
    assert "2 Shipped" in english and "ZTO ZT1234567890" in english and "5 Refunded" in english
    assert "Not known to WeChat yet (10060001)" in english
    chinese = control(wechat_sandbox, "GET", "").text
    assert "2 已发货" in chinese and "5 已退款" in chinese and "微信暂时查不到" in chinese


def test_the_page_escapes_what_it_shows(wechat_sandbox):
    wechat_sandbox.create_payment(description="<script>alert(1)</script>", openid="o<b>")
    page = control(wechat_sandbox, "GET", "").text
    assert "<script>alert" not in page and "o<b>" not in page and "o&lt;b&gt;" in page


def test_the_pages_forms_act_on_payments(wechat: WeChatCaller, wechat_sandbox):
    session = requests.Session()
    page = f"{wechat_sandbox.url}/__sandbox__/page"
    made = session.post(
        f"{page}/payments", data={"lang": "en", "openid": "oForm", "amount": "500"}, timeout=5
    )
    assert made.status_code == 200 and "oForm" in made.text  # redirected to the page
    (payment,) = wechat_sandbox.payments()
    assert (payment["openid"], payment["amount"]) == ("oForm", 500)
    assert wechat.post(UPLOAD, upload_body(payment)).json()["errcode"] == 0
    session.post(f"{page}/payments/{payment['transaction_id']}/confirm", data={"lang": "en"}, timeout=5)
    assert wechat_sandbox.payment(payment["transaction_id"])["order_state"] == 3
    session.post(f"{page}/payments/{payment['transaction_id']}/refund", data={}, timeout=5)
    assert wechat_sandbox.payment(payment["transaction_id"])["order_state"] == 5
    wrong = session.post(f"{page}/payments", data={"lang": "en", "amount": "lots"}, timeout=5)
    assert "Could not do that" in wrong.text and len(wechat_sandbox.payments()) == 1
    assert wechat.post(TRACE_WAYBILL, trace_body()).json()["errcode"] == 0
    session.post(f"{page}/tracked/ZT1234567890/status", data={"status": "3"}, timeout=5)
    assert wechat_sandbox.tracked_waybill("ZT1234567890")["status"] == 3
    session.close()


def test_the_pages_forms_are_refused_from_another_site(wechat_sandbox):
    reply = requests.post(
        f"{wechat_sandbox.url}/__sandbox__/page/payments",
        headers={"Origin": "https://evil.example"},
        timeout=5,
    )
    assert reply.status_code == 403 and wechat_sandbox.payments() == []


def test_the_clocks_unix_time_moves_and_stops_with_it():
    clock = SandboxClock()
    assert abs(clock.unix() - time.time()) < 5
    clock.stop(True)
    stopped = clock.unix()
    clock.advance(3600)
    assert abs(clock.unix() - (stopped + 3600)) < 0.01
    clock.stop(False)
    assert clock.unix() >= stopped + 3600


@pytest.mark.wechat_sandbox(merchant={"trade_managed": False, "confirm_on_reminder": True})
def test_the_marker_sets_the_merchants_switches_for_one_test(wechat_sandbox):
    config = wechat_sandbox.merchant_config()
    assert (config["trade_managed"], config["confirm_on_reminder"]) == (False, True)


def test_the_switches_are_back_in_the_next_test(wechat_sandbox):
    config = wechat_sandbox.merchant_config()
    assert (config["trade_managed"], config["confirm_on_reminder"]) == (True, False)


def test_a_combined_payment_that_cannot_be_made_leaves_nothing(wechat_sandbox):
    taken = wechat_sandbox.create_payment(out_trade_no="SO-TAKEN")
    subs = [{"out_trade_no": "SO-SUB-1"}, {"out_trade_no": "SO-TAKEN"}]
    with pytest.raises(SandboxControlError, match="409"):
        wechat_sandbox.create_payment(out_trade_no="SO-PARENT", sub_payments=subs)
    assert wechat_sandbox.payments() == [taken]
    made = wechat_sandbox.create_payment(
        out_trade_no="SO-PARENT", sub_payments=[{"out_trade_no": "SO-SUB-1"}]
    )
    assert len(made["sub_payments"]) == 1 and len(wechat_sandbox.payments()) == 3

"""Orders placed in the sandbox reach a shop's events URL as WeChat's add_waybill and
cancel_waybill pushes, in JSON and XML, safe and plain mode; their waybills become known."""

from __future__ import annotations

import pytest
import requests

from django_wxlogistics.sandbox import SandboxControlError

from .conftest import WeChatCaller
from .shop_receiver import AES_KEY, APPID, TOKEN, ShopReceiver

PARTY = ("Name", "Tel", "Mobile", "Company", "PostCode", "Country", "Province", "City", "Area", "Address")
MODES = [("json", "safe"), ("xml", "safe"), ("json", "plain"), ("xml", "plain")]


@pytest.fixture
def shop(wechat_sandbox):
    receiver = ShopReceiver()
    wechat_sandbox.configure_push(
        url=receiver.url, token=TOKEN, aes_key=AES_KEY, appid=APPID, format="json", mode="safe"
    )
    yield receiver
    receiver.stop()


@pytest.mark.parametrize(("fmt", "mode"), MODES)
def test_a_placed_order_reaches_the_shop_with_wechats_fields(wechat_sandbox, shop, fmt, mode):
    wechat_sandbox.configure_push(format=fmt, mode=mode)
    order = wechat_sandbox.place_order(
        "SO-1", receiver={"Name": "李雷", "Mobile": "13800000000"}, Remark="fragile <&> ]]> ok"
    )

    [received] = shop.received
    assert received.verdict == "ok" and received.format == fmt
    assert received.content_type.startswith("application/json" if fmt == "json" else "text/xml")
    if mode == "safe":
        assert received.query["encrypt_type"] == "aes" and "msg_signature" in received.query
        assert set(received.envelope) == {"ToUserName", "Encrypt"}  # nothing readable outside it
    else:
        assert "encrypt_type" not in received.query and "Encrypt" not in received.envelope
    event = received.fields
    assert event["MsgType"] == "event" and event["Event"] == "add_waybill"
    assert event["OrderID"] == "SO-1" and event["WayBillID"] == "0"
    assert event["Token"] == order["token"] and len(order["token"]) >= 20
    assert event["Remark"] == "fragile <&> ]]> ok"  # CDATA split around "]]>" in XML
    assert set(event["Receiver"]) == set(PARTY) == set(event["Sender"])
    assert event["Receiver"]["Name"] == "李雷" and event["Receiver"]["Province"] == "广东省"
    assert {"Weight", "Space_X", "Space_Y", "Space_Z", "Count", "DetailList"} <= set(event["Cargo"])
    assert set(event["Insured"]) == {"UseInsured", "InsuredValue"}
    assert set(event["Service"]) == {"ServiceType", "ServiceName"}
    for name in ("ToUserName", "FromUserName", "CreateTime", "BizID", "BizPwd", "ShopAppID"):
        assert event[name]

    assert order["state"] == "placed"
    assert order["waybill_id"] == shop.waybill_ids[(event["BizID"], "SO-1")]
    [pushed] = wechat_sandbox.pushes(order_id="SO-1")
    assert pushed["ok"] and pushed["result_code"] == 0 and pushed["reply"]["WayBillID"] == order["waybill_id"]
    assert pushed["request"]["Token"] == "***" and pushed["reply"]["Token"] == "***"


def test_the_order_s_waybill_is_known_to_update_path_and_get_contact(
    wechat_sandbox, shop, wechat: WeChatCaller
):
    order = wechat_sandbox.place_order(
        receiver={"Name": "韩梅梅", "Mobile": "13900000000", "Address": "1 号"}
    )
    waybill_id, token = order["waybill_id"], order["token"]
    assert wechat.update_path(waybill_id=waybill_id, token=token)["errcode"] == 0
    assert wechat.update_path(waybill_id=waybill_id, token="not-the-token")["errcode"] == 9300507
    contact = wechat.get_contact(waybill_id=waybill_id, token=token)
    assert contact["receiver"]["name"] == "韩梅梅" and contact["receiver"]["mobile"] == "13900000000"
    assert contact["receiver"]["address"] == "广东省广州市天河区1 号"
    assert [e["action_type"] for e in wechat_sandbox.trace(waybill_id)] == [300002]


def test_a_waybill_id_given_by_wechat_is_pushed_as_it_is(wechat_sandbox, shop):
    order = wechat_sandbox.place_order(
        waybill_id="WX123456789",
        Cargo={"DetailList": [{"Name": "鞋", "Count": 1}, {"Name": "帽子", "Count": 2}]},
    )
    [event] = shop.events()
    assert event["WayBillID"] == "WX123456789" == order["waybill_id"]
    assert [d["Name"] for d in event["Cargo"]["DetailList"]] == ["鞋", "帽子"]


def test_a_trace_pushed_before_the_shop_answers_is_accepted(wechat_sandbox, shop, wechat: WeChatCaller):
    replies = []
    # The shop creates the waybill and pushes a trace while WeChat still waits for its answer.
    shop.before_reply = lambda event: replies.append(
        wechat.update_path(waybill_id="SB-EARLY", token=event["Token"], action_type=100001)
    )
    shop.waybill_ids[("sandbox_biz", "SO-EARLY")] = "SB-EARLY"
    order = wechat_sandbox.place_order("SO-EARLY")
    assert replies == [{"errcode": 0, "errmsg": "ok"}]
    assert order["waybill_id"] == "SB-EARLY"
    assert [e["action_type"] for e in wechat_sandbox.trace("SB-EARLY")] == [100001]


@pytest.mark.parametrize(("fmt", "mode"), MODES)
def test_cancel_pushes_cancel_waybill(wechat_sandbox, shop, fmt, mode):
    wechat_sandbox.configure_push(format=fmt, mode=mode)
    order = wechat_sandbox.place_order("SO-C")
    cancelled = wechat_sandbox.cancel_order("SO-C")
    assert cancelled["state"] == "cancelled"
    [event] = shop.events("cancel_waybill")
    assert event["OrderID"] == "SO-C" and event["WayBillID"] == order["waybill_id"]
    assert {"BizID", "BizPwd", "ShopAppID", "CreateTime"} <= set(event) and "Token" not in event
    assert [p["event"] for p in wechat_sandbox.pushes(order_id="SO-C")] == ["add_waybill", "cancel_waybill"]


def test_an_order_the_shop_refused_cannot_be_cancelled(wechat_sandbox, shop):
    shop.result_code = 20001
    with pytest.raises(SandboxControlError, match="ResultCode 20001") as refused:
        wechat_sandbox.place_order("SO-R")
    assert refused.value.data["order"]["state"] == "refused"
    assert refused.value.data["order"]["result_code"] == 20001
    with pytest.raises(SandboxControlError, match="no waybill to cancel"):
        wechat_sandbox.cancel_order("SO-R")
    assert wechat_sandbox.waybills() == []


def test_a_cancel_the_shop_refuses_leaves_the_order_placed(wechat_sandbox, shop):
    wechat_sandbox.place_order("SO-K")
    shop.result_code = 30002  # already picked up
    with pytest.raises(SandboxControlError, match="ResultCode 30002"):
        wechat_sandbox.cancel_order("SO-K")
    assert wechat_sandbox.order("SO-K")["state"] == "placed"


@pytest.mark.parametrize("fault", ["duplicate", "concurrent_duplicate"])
def test_a_duplicate_push_gets_the_same_waybill(wechat_sandbox, shop, fault):
    order = wechat_sandbox.place_order("SO-D", fault=fault)
    events = shop.events("add_waybill")
    assert len(events) == 2 and events[0] == events[1]  # the same Token, OrderID, everything
    pushes = wechat_sandbox.pushes(order_id="SO-D")
    assert [p["waybill_id"] for p in pushes] == [order["waybill_id"]] * 2
    assert order["waybill_ids"] == [order["waybill_id"]]
    again = wechat_sandbox.repeat_order("SO-D")
    assert again["waybill_id"] == order["waybill_id"] and len(shop.events()) == 3


def test_a_shop_that_answers_a_duplicate_with_a_new_waybill_is_caught(wechat_sandbox, shop):
    shop.new_id_each_time = True
    with pytest.raises(SandboxControlError, match="different WayBillIDs"):
        wechat_sandbox.place_order("SO-2", fault="duplicate")
    assert len(wechat_sandbox.order("SO-2")["waybill_ids"]) == 2


@pytest.mark.parametrize(
    ("fault", "verdict"),
    [("bad_signature", "SignatureMismatch"), ("wrong_appid", "AppIdMismatch")],
)
def test_pushes_the_shop_must_refuse(wechat_sandbox, shop, fault, verdict):
    with pytest.raises(SandboxControlError, match="HTTP 403") as failed:
        wechat_sandbox.place_order("SO-F", fault=fault)
    assert [r.verdict for r in shop.received] == [verdict]
    assert failed.value.data["order"]["state"] == "failed"


def test_a_bad_signature_in_plain_mode_is_refused_too(wechat_sandbox, shop):
    wechat_sandbox.configure_push(mode="plain")
    with pytest.raises(SandboxControlError, match="HTTP 403"):
        wechat_sandbox.place_order(fault="bad_signature")
    assert [r.verdict for r in shop.received] == ["SignatureMismatch"]


def test_a_stale_timestamp_is_an_hour_old(wechat_sandbox, shop):
    wechat_sandbox.place_order(fault="stale_timestamp")
    [received] = shop.received
    assert int(received.fields["CreateTime"]) - int(received.query["timestamp"]) >= 3600 - 5


@pytest.mark.parametrize(
    ("reply_body", "message"),
    [
        (lambda event, body: body.replace(b'"MsgSignature":"', b'"MsgSignature":"0'), "cannot be trusted"),
        (lambda event, body: b'{"ResultCode": 0}', "cannot be trusted"),
        (lambda event, body: b"success", "not JSON"),
    ],
)
def test_a_safe_mode_reply_is_verified(wechat_sandbox, shop, reply_body, message):
    shop.reply_body = reply_body
    with pytest.raises(SandboxControlError, match=message):
        wechat_sandbox.place_order("SO-V")
    assert wechat_sandbox.order("SO-V")["state"] == "failed" and wechat_sandbox.waybills() == []


def test_a_reply_encrypted_for_another_appid_is_refused(wechat_sandbox, shop):
    shop.reply_body = lambda event, body: _reencrypt_for("wxsomeoneelse00001", body)
    with pytest.raises(SandboxControlError, match="another AppID"):
        wechat_sandbox.place_order("SO-X")


def _reencrypt_for(appid: str, body: bytes) -> bytes:
    from django_wxlogistics.events.crypto import PushCrypto
    from django_wxlogistics.events.wire import dump_body, parse_json

    mine = PushCrypto(TOKEN, AES_KEY, APPID)
    message = mine.open_reply(parse_json(body))
    return dump_body(PushCrypto(TOKEN, AES_KEY, appid).encrypt(message).reply_fields(), "json")


def test_no_reply_at_all(wechat_sandbox):
    wechat_sandbox.configure_push(url="http://127.0.0.1:9/events/", token=TOKEN, aes_key=AES_KEY, appid=APPID)
    with pytest.raises(SandboxControlError, match=r"no reply from the shop \(ConnectionError\)"):
        wechat_sandbox.place_order("SO-N")
    assert wechat_sandbox.pushes()[0]["status"] is None


def test_placing_twice_under_one_order_id_is_refused(wechat_sandbox, shop):
    wechat_sandbox.place_order("SO-T")
    with pytest.raises(SandboxControlError, match="409 order 'SO-T' was placed before"):
        wechat_sandbox.place_order("SO-T")
    assert len(shop.received) == 1


def test_reset_forgets_orders_and_the_push_configuration(wechat_sandbox, shop):
    wechat_sandbox.place_order("SO-Z")
    wechat_sandbox.reset()
    assert wechat_sandbox.orders() == [] and wechat_sandbox.pushes() == []
    assert wechat_sandbox.push_config()["url"] is None
    with pytest.raises(SandboxControlError, match="configure the push first"):
        wechat_sandbox.place_order()


def test_the_order_page_places_and_cancels_orders(wechat_sandbox, shop):
    session = requests.Session()
    base = f"{wechat_sandbox.url}/__sandbox__"
    placed = session.post(
        f"{base}/page/orders",
        data={"Name": "<b>王</b>", "lang": "en", "fault": ""},
        allow_redirects=False,
        timeout=5,
    )
    assert placed.status_code == 303 and placed.headers["Location"] == "/__sandbox__/?lang=en"
    [order] = wechat_sandbox.orders()
    assert shop.events()[0]["Receiver"]["Name"] == "<b>王</b>"
    page = session.get(f"{base}/?lang=en", timeout=5).text
    assert "Place an order" in page and order["order_id"] in page and "Placed" in page
    assert f"{shop.url} (JSON, safe mode)" in page
    assert order["token"] not in page and TOKEN not in page and AES_KEY not in page
    session.post(f"{base}/page/orders/{order['order_id']}/cancel", data={"lang": "zh"}, timeout=5)
    assert wechat_sandbox.order(order["order_id"])["state"] == "cancelled"
    page = session.get(f"{base}/?lang=zh", timeout=5).text
    assert "已取消" in page and "下单" in page and "cancel_waybill" in page
    trace = session.get(wechat_sandbox.trace_url(order["waybill_id"], lang="zh"), timeout=5).text
    assert "订单事件" in trace and "add_waybill" in trace and "cancel_waybill" in trace


def test_the_page_refuses_forms_from_other_sites(wechat_sandbox, shop):
    reply = requests.post(
        f"{wechat_sandbox.url}/__sandbox__/page/orders",
        data={"lang": "en"},
        headers={"Origin": "https://evil.example"},
        allow_redirects=False,
        timeout=5,
    )
    assert reply.status_code == 403 and wechat_sandbox.orders() == []


def test_the_page_says_why_an_order_could_not_be_placed(wechat_sandbox):
    session = requests.Session()
    reply = session.post(f"{wechat_sandbox.url}/__sandbox__/page/orders", data={"lang": "en"}, timeout=5)
    assert "Could not place the order" in reply.text and "configure the push first" in reply.text


@pytest.mark.wechat_sandbox(push={"format": "xml", "mode": "plain"})
def test_the_fixture_takes_the_push_from_the_settings_and_the_marker(wechat_sandbox, settings):
    config = wechat_sandbox.push_config()
    assert config["token"] == "***" and config["aes_key"] == "***"  # PUSH_TOKEN, ENCODING_AES_KEY
    assert config["appid"] == settings.WXLOGISTICS["APPID"]
    assert (config["format"], config["mode"], config["url"]) == ("xml", "plain", None)

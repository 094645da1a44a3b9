"""The tracking component over real HTTP: trace_waybill's waybill_token, query_trace, the goods
WeChat keeps until update_waybill_goods, the parcel's status, get_delivery_list."""

from __future__ import annotations

import pytest

from .conftest import WeChatCaller
from .shipping_helpers import DELIVERY_LIST, QUERY_TRACE, TRACE_WAYBILL, UPDATE_GOODS, trace_body

GOODS = {"detail_list": [{"goods_name": "绿茶", "goods_img_url": "https://example.com/green.png"}]}


def token_for(wechat: WeChatCaller, **fields) -> str:
    reply = wechat.post(TRACE_WAYBILL, trace_body(**fields)).json()
    assert reply["errcode"] == 0, reply
    return reply["waybill_token"]


def test_trace_waybill_then_query_trace(wechat: WeChatCaller, wechat_sandbox):
    token = token_for(wechat)
    assert len(token) > 32
    reply = wechat.post(QUERY_TRACE, {"waybill_token": token}).json()
    assert reply == {
        "errcode": 0,
        "errmsg": "ok",
        "waybill_info": {"status": 0, "waybill_id": "ZT1234567890"},
        "shop_info": {
            "goods_info": {
                "detail_list": [{"goods_name": "茶叶", "goods_img_url": "https://example.com/tea.png"}]
            }
        },
        "delivery_info": {"delivery_id": "ZTO", "delivery_name": "中通快递"},
    }
    tracked = wechat_sandbox.tracked_waybill("ZT1234567890")
    assert tracked["openid"] == "oUser0000000000000000000001" and tracked["tokens"] == 1
    assert token not in str(wechat_sandbox.tracked_waybills())


def test_the_parcel_moves(wechat: WeChatCaller, wechat_sandbox):
    token = token_for(wechat)
    assert wechat_sandbox.set_waybill_status("ZT1234567890", 4)["status"] == 4
    assert wechat.post(QUERY_TRACE, {"waybill_token": token}).json()["waybill_info"]["status"] == 4


def test_wechat_keeps_the_first_goods_until_they_are_updated(wechat: WeChatCaller):
    first = token_for(wechat)
    second = token_for(wechat, goods_info=GOODS)  # the same waybill, other goods: a new token
    assert second != first
    for token in (first, second):
        goods = wechat.post(QUERY_TRACE, {"waybill_token": token}).json()["shop_info"]["goods_info"]
        assert goods["detail_list"][0]["goods_name"] == "茶叶"
    assert wechat.post(UPDATE_GOODS, {"waybill_token": second, "goods_info": GOODS}).json()["errcode"] == 0
    goods = wechat.post(QUERY_TRACE, {"waybill_token": first}).json()["shop_info"]["goods_info"]
    assert goods == GOODS


def test_an_unknown_token_gets_9300507(wechat: WeChatCaller):
    for path, body in ((QUERY_TRACE, {}), (UPDATE_GOODS, {"goods_info": GOODS})):
        reply = wechat.post(path, {**body, "waybill_token": "o_not-a-token"}).json()
        assert reply["errcode"] == 9300507 and "waybill_token" in reply["errmsg"]


def test_another_users_openid_gets_40003(wechat: WeChatCaller):
    token = token_for(wechat)
    reply = wechat.post(QUERY_TRACE, {"waybill_token": token, "openid": "oSomeoneElse"}).json()
    assert reply["errcode"] == 40003
    body = {"waybill_token": token, "openid": "oSomeoneElse", "goods_info": GOODS}
    assert wechat.post(UPDATE_GOODS, body).json()["errcode"] == 40003
    assert (
        wechat.post(QUERY_TRACE, {"waybill_token": token, "openid": "oUser0000000000000000000001"}).json()[
            "errcode"
        ]
        == 0
    )


def without(name: str) -> dict:
    return {k: v for k, v in trace_body().items() if k != name}


@pytest.mark.parametrize(
    "body",
    [
        without("openid"),
        without("receiver_phone"),
        without("waybill_id"),
        without("goods_info"),
        {**trace_body(), "goods_info": {"detail_list": []}},
        {**trace_body(), "goods_info": {"detail_list": [{"goods_name": "茶叶"}]}},
        {**trace_body(), "goods_info": {"detail_list": [{"goods_name": "茶" * 61, "goods_img_url": "u"}]}},
        {**trace_body(), "goods_info": [{"goods_name": "茶叶", "goods_img_url": "u"}]},
        {**trace_body(), "trans_id": 4200000000},
        {**trace_body(), "delivery_id": "NOSUCH"},
        "ZT1234567890",
    ],
)
def test_trace_waybill_checks_its_fields(wechat: WeChatCaller, wechat_sandbox, body):
    assert wechat.post(TRACE_WAYBILL, body).json()["errcode"] == 47001
    assert wechat_sandbox.tracked_waybills() == []


def test_optional_fields_may_be_left_out(wechat: WeChatCaller, wechat_sandbox):
    body = {k: v for k, v in trace_body().items() if k not in ("delivery_id", "order_detail_path")}
    token = wechat.post(TRACE_WAYBILL, body).json()["waybill_token"]
    reply = wechat.post(QUERY_TRACE, {"waybill_token": token}).json()
    assert reply["delivery_info"] == {"delivery_id": "", "delivery_name": ""}


def test_update_waybill_goods_checks_the_goods(wechat: WeChatCaller):
    token = token_for(wechat)
    assert wechat.post(UPDATE_GOODS, {"waybill_token": token}).json()["errcode"] == 47001
    assert wechat.post(UPDATE_GOODS, {"goods_info": GOODS}).json()["errcode"] == 47001


def test_the_carrier_list(wechat: WeChatCaller, wechat_sandbox):
    reply = wechat.post(DELIVERY_LIST, {}).json()
    assert reply["errcode"] == 0 and reply["count"] == len(reply["delivery_list"])
    codes = {c["delivery_id"]: c["delivery_name"] for c in reply["delivery_list"]}
    assert {"SF", "ZTO", "YTO", "STO", "YD", "JTSD", "EMS", "JD"} <= set(codes)
    assert codes["SF"] == "顺丰速运"
    wechat_sandbox.add_carrier("BDT", "八达通")
    assert {"delivery_id": "BDT", "delivery_name": "八达通"} in wechat.post(DELIVERY_LIST, b"").json()[
        "delivery_list"
    ]
    assert token_for(wechat, delivery_id="BDT")


def test_a_tracked_waybill_shows_on_the_page_without_its_token(wechat: WeChatCaller, wechat_sandbox):
    token = token_for(wechat)
    wechat_sandbox.set_waybill_status("ZT1234567890", 2)
    page = wechat.session.get(f"{wechat_sandbox.url}/__sandbox__/?lang=en", timeout=5).text
    assert "ZT1234567890" in page and '<option value="2" selected>2 In transit' in page and "茶叶" in page
    assert token not in page

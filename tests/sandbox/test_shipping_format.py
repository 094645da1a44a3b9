"""upload_shipping_info's field checks over real HTTP: 47001 for a missing or mistyped field and
WeChat's own errcode for a value it documents one for, always before the payment is looked up."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import WeChatCaller
from .shipping_helpers import UPLOAD, UPLOAD_COMBINED, package, upload_body, upload_time

#: a payment the sandbox does not know: a valid body gets 10060001, so any other errcode
#: proves the body was refused before the lookup
NOBODY = {"transaction_id": "4200000000000000000000000000", "openid": "oNobody"}


def without(body: dict[str, Any], name: str) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != name}


def errcode(wechat: WeChatCaller, body: Any, path: str = UPLOAD) -> int:
    return wechat.post(path, body).json()["errcode"]


def test_a_valid_body_for_an_unknown_payment_gets_10060001(wechat: WeChatCaller):
    reply = wechat.post(UPLOAD, upload_body(NOBODY)).json()
    assert reply["errcode"] == 10060001
    assert reply["errmsg"].startswith("支付单不存在, hint: [")


GOOD = upload_body(NOBODY)


@pytest.mark.parametrize(
    "body",
    [
        None,
        [GOOD],
        without(GOOD, "order_key"),
        without(GOOD, "logistics_type"),
        without(GOOD, "delivery_mode"),
        without(GOOD, "shipping_list"),
        without(GOOD, "upload_time"),
        without(GOOD, "payer"),
        {**GOOD, "order_key": "4200000000000000000000000000"},
        {**GOOD, "order_key": {"transaction_id": NOBODY["transaction_id"]}},
        {**GOOD, "order_key": {"order_number_type": "2", "transaction_id": NOBODY["transaction_id"]}},
        {**GOOD, "order_key": {"order_number_type": 2, "transaction_id": 4200000000}},
        {**GOOD, "logistics_type": "1"},
        {**GOOD, "logistics_type": True},
        {**GOOD, "delivery_mode": 1.0},
        {**GOOD, "is_all_delivered": "true"},
        {**GOOD, "shipping_list": package()},  # an object, not an array: WeChat's 47001
        {**GOOD, "shipping_list": []},
        {**GOOD, "shipping_list": ["ZT1234567890"]},
        {**GOOD, "shipping_list": [package(tracking_no=12345678)]},
        {**GOOD, "shipping_list": [package(item_desc=["茶叶"])]},
        {**GOOD, "shipping_list": [package(contact="189****1234")]},
        {**GOOD, "upload_time": 1671082175},
        {**GOOD, "payer": {"openid": ""}},
        {**GOOD, "payer": "oNobody"},
        {**GOOD, "payer": {"openid": "o" * 129}},
    ],
)
def test_missing_or_mistyped_fields_get_47001(wechat: WeChatCaller, body):
    reply = wechat.post(UPLOAD, body).json()
    assert reply["errcode"] == 47001
    assert reply["errmsg"].startswith("data format error hint: ")


def test_a_47001_says_which_field(wechat: WeChatCaller):
    reply = wechat.post(UPLOAD, {**GOOD, "shipping_list": package()}).json()
    assert "'shipping_list' must be an array" in reply["errmsg"]


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"order_key": {"order_number_type": 3, "transaction_id": "42"}}, 268485194),
        ({"order_key": {"order_number_type": 2, "transaction_id": ""}}, 268485195),
        ({"order_key": {"order_number_type": 2, "mchid": "1900000109", "out_trade_no": "SO1"}}, 268485195),
        ({"order_key": {"order_number_type": 1, "out_trade_no": "SO123456"}}, 268485196),
        ({"order_key": {"order_number_type": 1, "mchid": "1900000109"}}, 268485197),
        ({"logistics_type": 5}, 10060005),
        ({"logistics_type": 0}, 10060005),
        ({"delivery_mode": 3}, 268485224),
        ({"logistics_type": 3, "delivery_mode": 2, "is_all_delivered": True}, 10060006),
        ({"delivery_mode": 2, "shipping_list": [package(), package(tracking_no="ZT2")]}, 10060007),
        ({"shipping_list": [package(item_desc="")]}, 10060008),
        ({"shipping_list": [package(item_desc="   ")]}, 10060008),
        ({"shipping_list": [{"tracking_no": "ZT1", "express_company": "ZTO"}]}, 10060008),
        ({"shipping_list": [package(item_desc="茶" * 121)]}, 10060009),
        ({"delivery_mode": 2, "is_all_delivered": True, "shipping_list": [package()] * 16}, 10060024),
        ({"shipping_list": [package(express_company="Z" * 129)]}, 10060025),
        ({"shipping_list": [package(tracking_no="9" * 129)]}, 10060026),
        ({"shipping_list": [package(tracking_no=None)]}, 268485226),
        ({"shipping_list": [package(tracking_no="")]}, 268485226),
        ({"shipping_list": [package(express_company=None)]}, 268485227),
        ({"shipping_list": [package(), package(tracking_no="ZT2")]}, 268485228),
        ({"upload_time": "2022-12-15 13:29:35+08:00"}, 268485216),
        ({"upload_time": "2022-12-15T13:29:35"}, 268485216),
        ({"upload_time": "2022-12-15T13:29:35.120"}, 268485216),
        ({"upload_time": "2022-12-15"}, 268485216),
        ({"upload_time": "1671082175"}, 268485216),
        ({"upload_time": "2022-13-15T13:29:35+08:00"}, 268485216),
        ({"upload_time": "2022-12-15T13:29:35+25:00"}, 268485216),
    ],
)
def test_values_wechat_documents_an_errcode_for(wechat: WeChatCaller, changes, code):
    reply = wechat.post(UPLOAD, {**GOOD, **changes}).json()
    assert reply["errcode"] == code, reply
    assert "hint: [" in reply["errmsg"]


@pytest.mark.parametrize(
    "moment",
    [
        "2022-12-15T13:29:35.120+08:00",
        "2022-12-15T13:29:35+08:00",
        "2022-12-15T05:29:35Z",
        "2022-12-15T05:29:35.123456789z",
        "2022-12-14T21:29:35-08:00",
    ],
)
def test_rfc3339_times_with_an_offset_are_accepted(wechat: WeChatCaller, moment):
    assert errcode(wechat, {**GOOD, "upload_time": moment}) == 10060001


@pytest.mark.parametrize(
    "contact",
    [
        {"receiver_contact": "189****1234"},
        {"consignor_contact": "021-****1234"},
        {"consignor_contact": "****1234"},
        {"receiver_contact": "0**2-******23-10"},
        {"receiver_contact": "****123-8008"},
        {"consignor_contact": "+86-177****1234"},
    ],
)
def test_masked_contacts_as_wechat_shows_them_are_accepted(wechat: WeChatCaller, contact):
    body = {**GOOD, "shipping_list": [package(express_company="SF", contact=contact)]}
    assert errcode(wechat, body) == 10060001


@pytest.mark.parametrize("phone", ["18912341234", "189****12**", "189-1234-1234"])
def test_a_contact_in_clear_or_masked_at_its_end_is_refused(wechat: WeChatCaller, phone):
    reply = wechat.post(
        UPLOAD, {**GOOD, "shipping_list": [package(contact={"receiver_contact": phone})]}
    ).json()
    assert reply["errcode"] == 10060014
    assert "must be masked" in reply["errmsg"]


@pytest.mark.parametrize("contact", [None, {}, {"receiver_contact": ""}, {"consignor_contact": None}])
def test_sf_express_needs_a_contact(wechat: WeChatCaller, contact):
    item = package(express_company="SF", tracking_no="SF1234567890")
    if contact is not None:
        item["contact"] = contact
    reply = wechat.post(UPLOAD, {**GOOD, "shipping_list": [item]}).json()
    assert reply["errcode"] == 10060014
    assert "contact is required for SF Express" in reply["errmsg"]


def test_an_express_company_not_in_the_carrier_list_is_refused(wechat: WeChatCaller, wechat_sandbox):
    body = {**GOOD, "shipping_list": [package(express_company="D速物流")]}
    reply = wechat.post(UPLOAD, body).json()
    assert reply["errcode"] == 10060014
    assert "get_delivery_list" in reply["errmsg"]
    wechat_sandbox.add_carrier("D速物流", "D速物流")
    assert errcode(wechat, body) == 10060001


def test_fifteen_packages_in_split_delivery_are_accepted(wechat: WeChatCaller):
    items = [package(tracking_no=f"ZT{n}") for n in range(15)]
    body = {**GOOD, "delivery_mode": 2, "is_all_delivered": True, "shipping_list": items}
    assert errcode(wechat, body) == 10060001


@pytest.mark.parametrize("logistics_type", [2, 3, 4])
def test_without_express_no_tracking_number_is_needed(wechat: WeChatCaller, logistics_type):
    # Some SDKs send every field, null or empty: that is as good as absent.
    item = {"tracking_no": None, "express_company": "", "item_desc": "话费充值 50 元", "contact": None}
    body = {**GOOD, "logistics_type": logistics_type, "shipping_list": [item]}
    assert errcode(wechat, body) == 10060001


def test_empty_keys_of_the_other_order_number_type_are_ignored(wechat: WeChatCaller):
    key = {
        "order_number_type": 2,
        "transaction_id": NOBODY["transaction_id"],
        "mchid": "",
        "out_trade_no": "",
    }
    assert errcode(wechat, {**GOOD, "order_key": key, "is_all_delivered": False}) == 10060001


def test_the_combined_upload_checks_every_sub_order_the_same_way(wechat: WeChatCaller):
    sub = {
        "order_key": {"order_number_type": 2, "transaction_id": "4200000000000000000000000001"},
        "logistics_type": 1,
        "delivery_mode": 1,
        "shipping_list": [package()],
    }
    body = {
        "order_key": {"order_number_type": 2, "transaction_id": NOBODY["transaction_id"]},
        "sub_orders": [sub],
        "upload_time": upload_time(),
        "payer": {"openid": NOBODY["openid"]},
    }
    assert errcode(wechat, body, UPLOAD_COMBINED) == 10060001
    assert errcode(wechat, without(body, "sub_orders"), UPLOAD_COMBINED) == 47001
    assert (
        errcode(wechat, {**body, "sub_orders": [{**sub, "delivery_mode": 7}]}, UPLOAD_COMBINED) == 268485224
    )
    other_type = {
        **sub,
        "order_key": {"order_number_type": 1, "mchid": "1900000109", "out_trade_no": "SO1234"},
    }
    assert errcode(wechat, {**body, "sub_orders": [other_type]}, UPLOAD_COMBINED) == 268485194
    reply = wechat.post(
        UPLOAD_COMBINED, {**body, "sub_orders": [{**sub, "shipping_list": [package(item_desc="")]}]}
    )
    assert reply.json()["errcode"] == 10060008
    assert "sub_orders[0].shipping_list[0].item_desc" in reply.json()["errmsg"]

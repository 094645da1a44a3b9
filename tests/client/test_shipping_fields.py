"""The checks of shipping information and the tracking component before any call: every rule, a message
per field."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.utils import translation

from django_wxlogistics.field_checks import InvalidFields
from django_wxlogistics.merchant_answers import OrderState, PaymentOrder, WaybillStatus
from django_wxlogistics.shipping_fields import (
    clean_confirm_receive,
    clean_order_list,
    clean_payment_ref,
    clean_upload_combined_shipping_info,
    clean_upload_shipping_info,
    is_masked,
    mask_contact,
)
from django_wxlogistics.tracking_fields import clean_trace_waybill, clean_update_waybill_goods

CST = dt_timezone(timedelta(hours=8))
PARCEL = {"tracking_no": "SF1234567890", "express_company": "SF", "item_desc": "微信红包抱枕*1个",
          "contact": {"receiver_contact": "189****1234"}}  # fmt: skip


def fields(**overrides: Any) -> dict[str, Any]:
    """A valid ``upload_shipping_info`` by transaction_id, changed by ``overrides``."""
    base: dict[str, Any] = {
        "order_key": {"order_number_type": 2, "transaction_id": "4200001234202401010000000001"},
        "logistics_type": 1,
        "delivery_mode": 1,
        "shipping_list": [dict(PARCEL)],
        "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
        "upload_time": "2022-12-15T13:29:35.120+08:00",
    }
    return {**base, **overrides}


def parcel(**overrides: Any) -> dict[str, Any]:
    return {**PARCEL, **overrides}


def refused(clean: Any = clean_upload_shipping_info, **given: Any) -> dict[str, list[ValidationError]]:
    """The messages by field of a body ``clean`` refuses, as ValidationErrors (codes kept)."""
    with pytest.raises(InvalidFields) as info:
        clean(**given)
    return info.value.error_dict


def codes(errors: dict[str, list[ValidationError]], field: str) -> list[str | None]:
    return [e.code for e in errors[field]]


def text(errors: dict[str, list[ValidationError]], field: str) -> str:
    return " ".join(m for e in errors[field] for m in e.messages)


# -- a valid body, as WeChat takes it --------------------------------------------------------------


def test_a_valid_body_is_returned_as_wechat_takes_it() -> None:
    assert clean_upload_shipping_info(**fields()) == {
        "order_key": {"order_number_type": 2, "transaction_id": "4200001234202401010000000001"},
        "logistics_type": 1,
        "delivery_mode": 1,
        "shipping_list": [PARCEL],
        "upload_time": "2022-12-15T13:29:35.120+08:00",
        "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
    }


def test_the_refusal_is_a_validation_error_and_a_value_error_naming_every_field() -> None:
    with pytest.raises(InvalidFields) as info:
        clean_upload_shipping_info(**fields(logistics_type=9, payer={}, shipping_list=[parcel(item_desc="")]))
    assert isinstance(info.value, ValidationError) and isinstance(info.value, ValueError)
    assert set(info.value.message_dict) == {"logistics_type", "payer.openid", "shipping_list[0].item_desc"}


# -- order_key -------------------------------------------------------------------------------------


def test_order_key_by_merchant_number_keeps_mchid_and_out_trade_no_only() -> None:
    key = {
        "order_number_type": 1,
        "mchid": "1900000109",
        "out_trade_no": "T20240101-1",
        "transaction_id": None,
    }
    assert clean_upload_shipping_info(**fields(order_key=key))["order_key"] == {
        "order_number_type": 1,
        "mchid": "1900000109",
        "out_trade_no": "T20240101-1",
    }


@pytest.mark.parametrize(
    ("key", "field"),
    [
        ({"order_number_type": 1, "out_trade_no": "T1"}, "order_key.mchid"),
        ({"order_number_type": 1, "mchid": "1900000109"}, "order_key.out_trade_no"),
        ({"order_number_type": 1, "mchid": "1900000109", "out_trade_no": "  "}, "order_key.out_trade_no"),
        ({"order_number_type": 2, "mchid": "1900000109", "out_trade_no": "T1"}, "order_key.transaction_id"),
        ({"order_number_type": 3, "transaction_id": "42"}, "order_key.order_number_type"),
        ({"order_number_type": True, "transaction_id": "42"}, "order_key.order_number_type"),
        ({"order_number_type": "2", "transaction_id": "42"}, "order_key.order_number_type"),
        ({"order_number_type": 2, "transaction_id": 4200001234}, "order_key.transaction_id"),
        ({"order_number_type": 2, "transactionid": "42"}, "order_key"),
        ("4200001234", "order_key"),
        (None, "order_key"),
    ],
)
def test_order_key_variants_that_name_no_payment(key: Any, field: str) -> None:
    errors = refused(**fields(order_key=key))
    assert field in errors
    if field == "order_key.mchid":
        assert "mchid and out_trade_no" in text(errors, field)
    if field == "order_key.transaction_id" and key.get("transaction_id") is None:
        assert "order_number_type 2" in text(errors, field)


# -- logistics_type, delivery_mode, is_all_delivered -----------------------------------------------


@pytest.mark.parametrize("logistics_type", [1, 2, 3, 4])
def test_logistics_types_one_to_four(logistics_type: int) -> None:
    assert (
        clean_upload_shipping_info(**fields(logistics_type=logistics_type))["logistics_type"]
        == logistics_type
    )


@pytest.mark.parametrize("logistics_type", [0, 5, "1", 1.0, True, None])
def test_other_logistics_types_are_refused(logistics_type: Any) -> None:
    errors = refused(**fields(logistics_type=logistics_type))
    assert codes(errors, "logistics_type") == ["invalid_choice" if logistics_type is not None else "required"]
    if logistics_type is not None:
        assert "1 (Express delivery)" in text(errors, "logistics_type")


def test_split_delivery_needs_is_all_delivered() -> None:
    two = [parcel(tracking_no="SF1"), parcel(tracking_no="SF2")]
    errors = refused(**fields(delivery_mode=2, shipping_list=two))
    assert codes(errors, "is_all_delivered") == ["required"]
    body = clean_upload_shipping_info(**fields(delivery_mode=2, shipping_list=two, is_all_delivered=False))
    assert body["is_all_delivered"] is False and len(body["shipping_list"]) == 2


def test_split_delivery_is_for_express_only() -> None:
    errors = refused(**fields(delivery_mode=2, logistics_type=3, is_all_delivered=True))
    assert "express" in text(errors, "delivery_mode")


def test_unified_delivery_has_one_parcel_and_is_complete() -> None:
    errors = refused(**fields(shipping_list=[parcel(), parcel()]))
    assert codes(errors, "shipping_list") == ["count"]
    assert "delivery_mode 2" in text(errors, "shipping_list")
    assert "is_all_delivered" in refused(**fields(is_all_delivered=False))
    assert "is_all_delivered" not in clean_upload_shipping_info(**fields(is_all_delivered=True))


@pytest.mark.parametrize("value", ["true", 1, 0])
def test_is_all_delivered_is_a_boolean(value: Any) -> None:
    assert codes(refused(**fields(delivery_mode=2, is_all_delivered=value)), "is_all_delivered") == [
        "invalid"
    ]


# -- shipping_list: 1 to 15 parcels and their fields -----------------------------------------------


def test_one_to_fifteen_parcels() -> None:
    fifteen = [parcel(tracking_no=f"SF{i}") for i in range(15)]
    body = clean_upload_shipping_info(**fields(delivery_mode=2, is_all_delivered=True, shipping_list=fifteen))
    assert len(body["shipping_list"]) == 15
    sixteen = [*fifteen, parcel(tracking_no="SF16", item_desc="")]
    errors = refused(**fields(delivery_mode=2, is_all_delivered=True, shipping_list=sixteen))
    assert codes(errors, "shipping_list") == ["count"]
    assert "16" in text(errors, "shipping_list") and "15" in text(errors, "shipping_list")
    assert not any(k.startswith("shipping_list[") for k in errors)  # the count is the message, alone
    assert codes(refused(**fields(shipping_list=[])), "shipping_list") == ["count"]


@pytest.mark.parametrize("shipping_list", [PARCEL, "SF1", None])
def test_shipping_list_is_a_list(shipping_list: Any) -> None:
    assert "shipping_list" in refused(**fields(shipping_list=shipping_list))


def test_express_needs_tracking_no_and_express_company_others_do_not() -> None:
    errors = refused(**fields(shipping_list=[{"item_desc": "抱枕*1"}]))
    assert codes(errors, "shipping_list[0].tracking_no") == ["required"]
    assert codes(errors, "shipping_list[0].express_company") == ["required"]
    virtual = clean_upload_shipping_info(
        **fields(logistics_type=3, shipping_list=[{"item_desc": "话费充值"}])
    )
    assert virtual["shipping_list"] == [{"item_desc": "话费充值"}]


def test_tracking_no_and_express_company_are_at_most_128_bytes() -> None:
    ok = clean_upload_shipping_info(**fields(shipping_list=[parcel(tracking_no="9" * 128)]))
    assert ok["shipping_list"][0]["tracking_no"] == "9" * 128
    errors = refused(**fields(shipping_list=[parcel(tracking_no="9" * 129, express_company="顺" * 43)]))
    assert codes(errors, "shipping_list[0].tracking_no") == ["too_long"]
    assert "129 bytes" in text(errors, "shipping_list[0].tracking_no")
    assert "129 bytes" in text(errors, "shipping_list[0].express_company")  # 43 characters, 129 bytes


def test_express_company_is_checked_against_the_carriers_when_given() -> None:
    assert clean_upload_shipping_info(**fields(), carriers={"SF", "ZTO"})
    errors = refused(**fields(shipping_list=[parcel(express_company="顺丰速运")]), carriers={"SF", "ZTO"})
    assert codes(errors, "shipping_list[0].express_company") == ["unknown_carrier"]
    assert "get_delivery_list" in text(errors, "shipping_list[0].express_company")


def test_item_desc_is_required_and_at_most_120_characters() -> None:
    assert clean_upload_shipping_info(**fields(shipping_list=[parcel(item_desc="抱" * 120)]))
    errors = refused(**fields(shipping_list=[parcel(item_desc="抱" * 121)]))
    assert codes(errors, "shipping_list[0].item_desc") == ["too_long"]
    assert "121 characters" in text(errors, "shipping_list[0].item_desc")
    for empty in ("", "   ", None):
        assert "shipping_list[0].item_desc" in refused(**fields(shipping_list=[parcel(item_desc=empty)]))


def test_an_unknown_parcel_field_is_named() -> None:
    errors = refused(**fields(shipping_list=[parcel(tracking_number="SF1")]))
    assert codes(errors, "shipping_list[0]") == ["unknown_field"]
    assert "tracking_number" in text(errors, "shipping_list[0]")


# -- contacts: masked, required for SF Express -----------------------------------------------------


@pytest.mark.parametrize(
    "contact", ["189****1234", "021-****1234", "****1234", "0**2-***1234", "0**2-******23-10", "****123-8008",
                "+86-123****4321", "021-**34-12"],
)  # fmt: skip
def test_wechats_examples_are_masked(contact: str) -> None:
    assert is_masked(contact)
    body = clean_upload_shipping_info(
        **fields(shipping_list=[parcel(contact={"consignor_contact": contact})])
    )
    assert body["shipping_list"][0]["contact"] == {"consignor_contact": contact}


@pytest.mark.parametrize("phone", ["18912341234", "021-12345678", "189123412**", "***********"])
def test_an_unmasked_phone_is_refused_saying_how_to_mask_it(phone: str) -> None:
    errors = refused(**fields(shipping_list=[parcel(contact={"receiver_contact": phone})]))
    field = "shipping_list[0].contact.receiver_contact"
    assert codes(errors, field) == ["unmasked"]
    assert "last four digits" in text(errors, field) and "mask_contact()" in text(errors, field)
    if phone == "18912341234":
        assert "189****1234" in text(errors, field)


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("18912341234", "189****1234"),
        ("+86 189 1234 1234", "+86 189 **** 1234"),
        ("021-12345678", "021-****5678"),
        ("(0755) 1234 5678", "(0755) **** 5678"),
        ("12345678", "****5678"),
        ("189****1234", "189****1234"),
    ],
)
def test_mask_contact_masks_as_wechat_asks(phone: str, masked: str) -> None:
    assert mask_contact(phone) == masked
    assert is_masked(mask_contact(phone))


def test_sf_express_needs_a_contact_and_others_do_not() -> None:
    bare = {k: v for k, v in PARCEL.items() if k != "contact"}
    errors = refused(**fields(shipping_list=[bare]))
    assert codes(errors, "shipping_list[0].contact") == ["required"]
    assert "SF Express" in text(errors, "shipping_list[0].contact")
    assert "shipping_list[0].contact" in refused(**fields(shipping_list=[{**bare, "contact": {}}]))
    zto = clean_upload_shipping_info(**fields(shipping_list=[{**bare, "express_company": "ZTO"}]))
    assert "contact" not in zto["shipping_list"][0]


def test_a_contact_is_at_most_1024_characters() -> None:
    long = "*" * 1021 + "1234"
    errors = refused(**fields(shipping_list=[parcel(contact={"receiver_contact": long})]))
    assert codes(errors, "shipping_list[0].contact.receiver_contact") == ["too_long"]


# -- upload_time: RFC 3339 with an offset ----------------------------------------------------------


@pytest.mark.parametrize(
    "upload_time",
    ["2022-12-15T13:29:35.120+08:00", "2022-12-15T13:29:35+08:00", "2022-12-15T05:29:35Z",
     "2022-12-15T13:29:35.5-05:30"],
)  # fmt: skip
def test_rfc3339_text_with_an_offset_is_sent_as_given(upload_time: str) -> None:
    assert clean_upload_shipping_info(**fields(upload_time=upload_time))["upload_time"] == upload_time


def test_an_aware_datetime_is_formatted_with_its_offset() -> None:
    when = datetime(2022, 12, 15, 13, 29, 35, 120999, tzinfo=CST)
    assert (
        clean_upload_shipping_info(**fields(upload_time=when))["upload_time"]
        == "2022-12-15T13:29:35.120+08:00"
    )


@override_settings(TIME_ZONE="Asia/Shanghai")
def test_no_upload_time_is_now_in_the_current_time_zone() -> None:
    sent = clean_upload_shipping_info(**fields(upload_time=None))["upload_time"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+08:00", sent)
    assert abs(datetime.fromisoformat(sent) - datetime.now(dt_timezone.utc)) < timedelta(hours=1)


def test_a_naive_datetime_is_refused() -> None:
    errors = refused(**fields(upload_time=datetime(2022, 12, 15, 13, 29, 35)))
    assert codes(errors, "upload_time") == ["naive"]
    assert "timezone.now()" in text(errors, "upload_time")


@pytest.mark.parametrize(
    ("upload_time", "hint"),
    [
        ("2022-12-15T13:29:35", "offset"),
        ("2022-12-15 13:29:35", "offset"),
        ("2022-12-15T13:29:35+0800", "+08:00, not +0800"),
        ("2022-12-15T13:29:35.120 08:00", "became a space"),
        ("2022-02-30T13:29:35+08:00", "no real date"),
        ("2022-12-15T13:29:35+25:00", "no real date"),
        (1671082175, "not int"),
    ],
)
def test_anything_else_is_refused_saying_what_is_wrong(upload_time: Any, hint: str) -> None:
    errors = refused(**fields(upload_time=upload_time))
    assert hint in text(errors, "upload_time")


# -- payer -----------------------------------------------------------------------------------------


def test_payer_openid_is_required_and_at_most_128_bytes() -> None:
    assert codes(refused(**fields(payer={"openid": ""})), "payer.openid") == ["required"]
    assert codes(refused(**fields(payer={"openid": "o" * 129})), "payer.openid") == ["too_long"]
    assert "payer" in refused(**fields(payer="oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"))


# -- upload_combined_shipping_info -----------------------------------------------------------------


def test_combined_shipping_names_sub_orders_as_the_payment_is_named() -> None:
    sub = {"order_key": {"order_number_type": 1, "mchid": "1900000109", "out_trade_no": "T1-1"},
           "logistics_type": 1, "delivery_mode": 1, "shipping_list": [PARCEL]}  # fmt: skip
    given = {
        "order_key": {"order_number_type": 1, "mchid": "1900000109", "out_trade_no": "T1"},
        "payer": {"openid": "o1"},
        "upload_time": "2022-12-15T13:29:35.120+08:00",
    }
    body = clean_upload_combined_shipping_info(**given, sub_orders=[sub])
    assert body["sub_orders"] == [sub]
    other = {**sub, "order_key": {"order_number_type": 2, "transaction_id": "42"}}
    errors = refused(clean_upload_combined_shipping_info, **given, sub_orders=[sub, other])
    assert list(errors) == ["sub_orders[1].order_key.order_number_type"]
    assert codes(refused(clean_upload_combined_shipping_info, **given, sub_orders=[]), "sub_orders") == [
        "count"
    ]
    broken = {**sub, "shipping_list": [parcel(item_desc="")]}
    assert "sub_orders[0].shipping_list[0].item_desc" in refused(
        clean_upload_combined_shipping_info, **given, sub_orders=[broken]
    )


# -- notify_confirm_receive: seconds, not milliseconds ---------------------------------------------


def test_received_time_in_seconds_is_sent_as_given() -> None:
    assert clean_confirm_receive(transaction_id="42", received_time=1670829139) == {
        "transaction_id": "42",
        "received_time": 1670829139,
    }


def test_received_time_in_milliseconds_is_refused_saying_so() -> None:
    errors = refused(clean_confirm_receive, transaction_id="42", received_time=1670829139000)
    assert codes(errors, "received_time") == ["milliseconds"]
    assert "milliseconds" in text(errors, "received_time") and "1670829139" in text(errors, "received_time")


def test_received_time_as_an_aware_datetime_is_seconds() -> None:
    when = datetime(2022, 12, 12, 15, 12, 19, 999000, tzinfo=CST)
    assert clean_confirm_receive(transaction_id="42", received_time=when)["received_time"] == 1670829139


@pytest.mark.parametrize(
    ("received_time", "code"),
    [
        (datetime(2022, 12, 12, 15, 12, 19), "naive"),
        (1670829139.5, "invalid"),
        ("1670829139", "invalid"),
        (True, "invalid"),
        (0, "out_of_range"),
        (-5, "out_of_range"),
        (2**32, "out_of_range"),
    ],
)
def test_other_received_times_are_refused(received_time: Any, code: str) -> None:
    errors = refused(clean_confirm_receive, transaction_id="42", received_time=received_time)
    assert codes(errors, "received_time") == [code]


def test_no_received_time_is_now() -> None:
    sent = clean_confirm_receive(transaction_id="42")["received_time"]
    assert abs(sent - datetime.now(dt_timezone.utc).timestamp()) < 3600


def test_the_payment_is_named_by_transaction_id_or_merchant_number() -> None:
    ref = clean_confirm_receive(merchant_id="1900000109", merchant_trade_no="T1", received_time=1670829139)
    assert ref == {"merchant_id": "1900000109", "merchant_trade_no": "T1", "received_time": 1670829139}
    errors = refused(clean_confirm_receive, merchant_id="1900000109", received_time=1670829139)
    assert "merchant_trade_no" in text(errors, "transaction_id")
    assert clean_payment_ref(transaction_id="42") == {"transaction_id": "42"}
    assert "transaction_id" in refused(clean_payment_ref)


# -- get_order_list --------------------------------------------------------------------------------


def test_order_list_filters() -> None:
    begin = datetime(2024, 1, 1, tzinfo=CST)
    assert clean_order_list(pay_time_range={"begin_time": begin}, order_state=6, page_size=50) == {
        "pay_time_range": {"begin_time": int(begin.timestamp())},
        "order_state": 6,
        "page_size": 50,
    }
    assert clean_order_list() == {}
    errors = refused(clean_order_list, pay_time_range={"end_time": 1704038400000}, page_size=0)
    assert codes(errors, "pay_time_range.end_time") == ["milliseconds"]
    assert codes(errors, "page_size") == ["invalid"]


# -- the tracking component ------------------------------------------------------------------------


GOODS = {"detail_list": [{"goods_name": "微信红包抱枕", "goods_img_url": "https://example.com/pillow.png"}]}


def test_trace_waybill_body() -> None:
    body = clean_trace_waybill(
        openid="o1", receiver_phone="18912341234", waybill_id="SF1", goods_info=GOODS, trans_id="42",
        order_detail_path="pages/order?id=1",
    )  # fmt: skip
    assert body == {
        "openid": "o1",
        "receiver_phone": "18912341234",  # whole: some carriers look the parcel up by it
        "waybill_id": "SF1",
        "goods_info": GOODS,
        "trans_id": "42",
        "order_detail_path": "pages/order?id=1",
    }


def test_trace_waybill_refusals() -> None:
    goods = {"detail_list": [{"goods_name": "抱" * 61, "goods_img_url": "pillow.png"}]}
    errors = refused(
        clean_trace_waybill,
        openid="o1",
        waybill_id="SF1",
        goods_info=goods,
        delivery_id="顺丰",
        carriers={"SF"},
    )
    assert set(errors) == {
        "receiver_phone",
        "goods_info.detail_list[0].goods_name",
        "goods_info.detail_list[0].goods_img_url",
        "delivery_id",
    }
    assert "goods_info.detail_list" in refused(
        clean_update_waybill_goods, waybill_token="t", goods_info={"detail_list": []}
    )
    assert "waybill_token" in refused(clean_update_waybill_goods, goods_info=GOODS)


# -- WeChat's answers: states it has not documented are kept ---------------------------------------


def test_order_state_keeps_unknown_values() -> None:
    order = PaymentOrder.from_api({"transaction_id": "42", "order_state": 6, "shipping": None})
    assert order.order_state == 6 == OrderState.AWAITING_SETTLEMENT and order.order_state.known
    assert order.order_state.label == "Funds awaiting settlement"
    odd = OrderState.from_api(9)
    assert odd == 9 and not odd.known and "9" in odd.label and repr(odd) == "OrderState(9)"
    assert WaybillStatus.from_api("4").label == "Signed for"
    assert order.shipping == {}


# -- translations ----------------------------------------------------------------------------------


def test_messages_are_translated() -> None:
    with translation.override("zh-hans"):
        errors = refused(clean_confirm_receive, transaction_id="42", received_time=1670829139000)
    assert "毫秒" in text(errors, "received_time")

"""Each of the issue's checks on the client's merchant calls, against the sandbox: a value WeChat
would refuse raises InvalidRequestData naming its field, and no call reaches the sandbox."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from typing import Any

import pytest

from django_wxlogistics.client import WeChatLogisticsClient
from django_wxlogistics.exceptions import InvalidRequestData

pytestmark = pytest.mark.django_db

CST = dt_timezone(timedelta(hours=8))


def parcel(**fields: Any) -> dict[str, Any]:
    return {"tracking_no": "ZT1234567890", "express_company": "ZTO", "item_desc": "茶叶*1", **fields}


def upload(payment: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    return {
        "order_key": {"order_number_type": 2, "transaction_id": payment["transaction_id"]},
        "logistics_type": 1,
        "delivery_mode": 1,
        "shipping_list": [parcel()],
        "payer": {"openid": payment["openid"]},
        "upload_time": datetime(2024, 5, 1, 8, 30, tzinfo=CST),
        **overrides,
    }


SPLIT = {"delivery_mode": 2, "is_all_delivered": True}
IN_CLEAR = {"receiver_contact": "18912341234"}

#: (what is wrong, upload_shipping_info's fields for the payment, the field named, words of its message)
UPLOADS: list[tuple[str, Callable[[dict[str, Any]], dict[str, Any]], str, str]] = [
    ("no offset", lambda p: upload(p, upload_time="2024-05-01T08:30:00"), "upload_time", "offset"),
    ("naive datetime", lambda p: upload(p, upload_time=datetime(2024, 5, 1, 8, 30)), "upload_time", ""),
    ("not RFC 3339", lambda p: upload(p, upload_time="2024/05/01 08:30"), "upload_time", ""),
    ("no parcel", lambda p: upload(p, shipping_list=[]), "shipping_list", "one item"),
    (
        "16 parcels",
        lambda p: upload(p, **SPLIT, shipping_list=[parcel(tracking_no=f"ZT{i}") for i in range(16)]),
        "shipping_list",
        "16",
    ),
    ("tracking_no of 129 bytes", lambda p: upload(p, shipping_list=[parcel(tracking_no="9" * 129)]),
     "shipping_list[0].tracking_no", "129 bytes"),
    ("item_desc of 121 characters", lambda p: upload(p, shipping_list=[parcel(item_desc="茶" * 121)]),
     "shipping_list[0].item_desc", "121 characters"),
    ("openid of 129 bytes", lambda p: upload(p, payer={"openid": "o" * 129}), "payer.openid", ""),
    ("a phone in clear", lambda p: upload(p, shipping_list=[parcel(contact=IN_CLEAR)]),
     "shipping_list[0].contact.receiver_contact", "189****1234"),
    ("SF Express without a contact", lambda p: upload(p, shipping_list=[parcel(express_company="SF")]),
     "shipping_list[0].contact", ""),
]  # fmt: skip


@pytest.mark.parametrize(("fields", "field", "words"), [u[1:] for u in UPLOADS], ids=[u[0] for u in UPLOADS])
def test_an_upload_wechat_would_refuse_never_leaves(
    client: WeChatLogisticsClient, sandbox: Any, fields: Callable[..., dict[str, Any]], field: str, words: str
) -> None:
    payment = sandbox.create_payment()
    with pytest.raises(InvalidRequestData) as info:
        client.upload_shipping_info(**fields(payment))
    assert field in info.value.fields, info.value.fields
    assert words in " ".join(info.value.fields[field])
    assert sandbox.calls(api="upload_shipping_info") == []


def test_a_receipt_time_in_milliseconds_never_leaves_and_says_so(
    client: WeChatLogisticsClient, sandbox: Any
) -> None:
    payment = sandbox.create_payment()
    client.upload_shipping_info(**upload(payment))
    millis = int(datetime.now(tz=CST).timestamp() * 1000)
    with pytest.raises(InvalidRequestData) as info:
        client.notify_confirm_receive(transaction_id=payment["transaction_id"], received_time=millis)
    assert "milliseconds" in info.value.fields["received_time"][0]
    assert sandbox.calls(api="notify_confirm_receive") == []

"""What WeChat says of a payment and which carriers it knows, asked on demand, against the sandbox:
``services.wechat_order`` and ``services.carrier_list``."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from django.utils import timezone, translation

from django_wxlogistics import delivery, services
from django_wxlogistics.exceptions import InvalidRequestData, PaymentNotYetKnown, TransientError
from django_wxlogistics.merchant_lookups import WeChatOrder, mask_openid
from django_wxlogistics.models import Payment
from tests.shipping.helpers import deliver, upload_fields

pytestmark = pytest.mark.django_db

SF_CONTACT = {"consignor_contact": "021-****1234", "receiver_contact": "189****1234"}


def _payment(sandbox_payment: dict, order_id: str = "SO-LOOKUP-1") -> Payment:
    return Payment.objects.create(order_id=order_id, transaction_id=sandbox_payment["transaction_id"])


def test_the_order_state_moves_from_awaiting_shipment_to_shipped_once_the_upload_is_sent(
    sandbox, payment, order
):
    before = services.wechat_order(_payment(payment, order.number))
    assert isinstance(before, WeChatOrder)
    assert (before.order_state, before.order_state_label, before.order_state_known) == (
        1,
        "Awaiting shipment",
        True,
    )
    assert before.shipping == [] and before.upload_time is None
    assert before.transaction_id == payment["transaction_id"]
    assert before.paid_amount == payment["amount"] and before.description == payment["description"]
    assert before.pay_time == datetime.fromtimestamp(payment["pay_time"], tz=before.pay_time.tzinfo)
    assert before.pay_time.utcoffset() == timedelta(0)

    parcel = {
        "tracking_no": "SF1234567890",
        "express_company": "SF",
        "item_desc": "茶叶*1",
        "contact": SF_CONTACT,
    }
    info = services.record_shipping_info(order, **upload_fields(payment, shipping_list=[parcel]))
    assert services.wechat_order(info.payment).order_state == 1  # recorded, not sent yet
    assert deliver(info.pk) is delivery.Outcome.SENT

    after = services.wechat_order(info.payment)
    assert (after.order_state, after.order_state_label) == (2, "Shipped")
    assert after.finish_shipping and after.logistics_type == 1 and after.delivery_mode == 1
    (shipped,) = after.shipping
    assert (shipped.tracking_no, shipped.express_company, shipped.item_desc) == (
        "SF1234567890",
        "SF",
        "茶叶*1",
    )
    assert shipped.contact == SF_CONTACT
    assert after.upload_time is not None and after.upload_time == shipped.upload_time
    assert len(sandbox.payment_calls(payment["transaction_id"], api="get_order")) == 3


def test_a_payment_is_asked_for_by_merchant_number_and_trade_no_without_a_transaction_id(sandbox):
    paid = sandbox.create_payment(mchid="1230000109", out_trade_no="SO-TRADE-42")
    found = services.wechat_order(
        Payment.objects.create(order_id="SO42", mchid="1230000109", out_trade_no="SO-TRADE-42")
    )
    assert (found.transaction_id, found.merchant_id, found.merchant_trade_no) == (
        paid["transaction_id"],
        "1230000109",
        "SO-TRADE-42",
    )
    (call,) = sandbox.payment_calls(paid["transaction_id"], api="get_order")
    assert call["body"] == {"merchant_id": "1230000109", "merchant_trade_no": "SO-TRADE-42"}


@pytest.mark.parametrize("state", [6, 7])
def test_a_state_wechat_has_not_documented_is_accepted_and_named(sandbox, payment, state):
    sandbox.set_payment_state(payment["transaction_id"], state)
    mine = _payment(payment)
    seen = services.wechat_order(mine)
    assert seen.order_state == state
    if state == 6:
        assert (seen.order_state_label, seen.order_state_known) == ("Funds awaiting settlement", True)
    else:
        assert (seen.order_state_label, seen.order_state_known) == ("Unknown state 7", False)
    with translation.override("zh-hans"):
        assert services.wechat_order(mine).order_state_label != seen.order_state_label


def test_the_payers_openid_is_never_held_whole(sandbox):
    openid = "oPayerLookup000000000000007"
    paid = sandbox.create_payment(openid=openid)
    seen = services.wechat_order(_payment(paid))
    assert seen.openid_masked == "oPa****0007"
    assert openid not in repr(seen) and openid not in json.dumps(seen.as_dict(), ensure_ascii=False)
    assert not hasattr(seen, "openid")


def test_mask_openid_hides_most_of_any_openid():
    assert mask_openid("o6_bmjrPTlm6_2sgVt7hMZOPfL2M") == "o6_****fL2M"
    assert mask_openid("short") == "****"
    assert mask_openid("") == ""


def test_an_unmasked_contact_from_wechat_is_masked_all_the_same():
    from django_wxlogistics.merchant_answers import PaymentOrder

    answer = PaymentOrder.from_api(
        {
            "transaction_id": "4200000001",
            "order_state": 2,
            "openid": "oPayer0000000000000000000001",
            "shipping": {
                "shipping_list": [
                    {
                        "tracking_no": "SF1",
                        "express_company": "SF",
                        "goods_desc": "茶叶",
                        "upload_time": 1_700_000_000,
                        "contact": {"receiver_contact": "18912341234", "consignor_contact": "02188881234"},
                    }
                ]
            },
        }
    )
    (parcel,) = WeChatOrder.from_payment_order(answer).shipping
    assert parcel.receiver_contact == "189****1234"
    assert "18912341234" not in parcel.consignor_contact + parcel.receiver_contact
    assert parcel.consignor_contact.endswith("1234") and "*" in parcel.consignor_contact
    assert parcel.upload_time is not None and parcel.upload_time.timestamp() == 1_700_000_000


def test_as_dict_is_json(sandbox, payment, order):
    info = services.record_shipping_info(order, **upload_fields(payment))
    deliver(info.pk)
    data = json.loads(json.dumps(services.wechat_order(info.payment).as_dict()))
    assert data["order_state"] == 2 and data["order_state_label"] == "Shipped"
    assert data["shipping"][0]["tracking_no"] == "ZT1234567890"
    assert data["shipping"][0]["item_desc"] == "茶叶*1"
    # The same instant, written in the current time zone as the API's other times are.
    written = datetime.fromisoformat(data["pay_time"])
    assert written.timestamp() == payment["pay_time"]
    assert written.utcoffset() == timezone.localtime().utcoffset()
    assert data["openid_masked"] == mask_openid(payment["openid"])


def test_a_payment_wechat_does_not_know_raises_its_error_and_a_message_staff_can_act_on(sandbox):
    paid = sandbox.create_payment(unknown_for=3600)
    with pytest.raises(PaymentNotYetKnown) as excinfo:
        services.wechat_order(_payment(paid))
    assert excinfo.value.errcode == 10060001
    message = services.wechat_order_error_message(excinfo.value)
    assert "10060001" in message and "try again shortly" in message
    with translation.override("zh-hans"):
        assert "10060001" in services.wechat_order_error_message(excinfo.value)
        assert services.wechat_order_error_message(excinfo.value) != message
    sandbox.advance_clock(3601)
    assert services.wechat_order(Payment.objects.get()).order_state == 1


def test_a_payment_the_sandbox_never_saw_is_not_known(sandbox):
    with pytest.raises(PaymentNotYetKnown):
        services.wechat_order(Payment.objects.create(order_id="SO-X", transaction_id="4200009999999999"))


def test_a_payment_without_a_key_is_refused_before_any_call(sandbox):
    with pytest.raises(InvalidRequestData):
        services.wechat_order(Payment(order_id="SO-X"))
    assert sandbox.calls(api="get_order") == []


def test_wechat_busy_propagates(sandbox, payment):
    sandbox.set_faults(error_rate=1.0, kinds=["errcode"], apis=["get_order"])
    with pytest.raises(TransientError) as excinfo:
        services.wechat_order(_payment(payment))
    assert excinfo.value.errcode == -1
    assert services.wechat_order_error_message(excinfo.value) == "WeChat is busy (-1). Try again in a moment."


def test_the_carrier_list_is_kept_until_refreshed(sandbox):
    carriers = services.carrier_list()
    assert ("SF", "顺丰速运") in {(c.delivery_id, c.delivery_name) for c in carriers}
    sandbox.add_carrier("BDT", "八达通")
    assert "BDT" not in {c.delivery_id for c in services.carrier_list()}  # kept
    assert "BDT" in {c.delivery_id for c in services.carrier_list(refresh=True)}
    assert len(sandbox.calls(api="get_delivery_list")) == 2

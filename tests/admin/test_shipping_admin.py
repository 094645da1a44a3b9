"""The shipping-information admin: payments and their calls, read-only, with "retry failed"."""

from __future__ import annotations

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse
from django.utils import timezone

from django_wxlogistics.enums import EventState, ShippingCall
from django_wxlogistics.models import Payment, ShippingInfo

pytestmark = pytest.mark.django_db

CALLS = "admin:django_wxlogistics_shippinginfo_changelist"
PAYMENTS = "admin:django_wxlogistics_payment_changelist"
PAYER = "oPayer0000000000000000000001"


@pytest.fixture
def shipping_client(make_client):
    """Staff who may see payments and their calls, and retry failed calls."""
    return make_client("shipper", "view_payment", "view_shippinginfo", "change_shippinginfo")


def call(payment: Payment, kind: str = ShippingCall.UPLOAD, **fields) -> ShippingInfo:
    return ShippingInfo.objects.create(
        payment=payment,
        order_id=payment.order_id,
        call=kind,
        request={"payer": {"openid": PAYER}},
        **fields,
    )


def test_the_calls_list_shows_the_order_payment_state_and_wechats_answer(shipping_client):
    by_transaction = Payment.objects.create(order_id="SO1", transaction_id="4200000001")
    by_trade_no = Payment.objects.create(order_id="SO2", mchid="1230000109", out_trade_no="SO-2")
    call(by_transaction, state=EventState.FAILED, last_errcode=10060031, last_errmsg="openid mismatch")
    call(by_trade_no, state=EventState.SENT, sent_at=timezone.now())
    html = shipping_client.get(reverse(CALLS)).content.decode()
    assert "SO1" in html and "SO2" in html
    assert "4200000001" in html and "1230000109/SO-2" in html
    assert "10060031 · openid mismatch" in html
    assert "wxl-state-failed" in html and "wxl-state-sent" in html
    assert PAYER not in html
    failed_only = shipping_client.get(reverse(CALLS), {"state__exact": EventState.FAILED}).content.decode()
    assert "SO1" in failed_only and "1230000109/SO-2" not in failed_only


def test_a_call_page_shows_no_payer_openid_and_cannot_be_changed(shipping_client):
    info = call(Payment.objects.create(order_id="SO1", transaction_id="4200000001"))
    page = shipping_client.get(reverse("admin:django_wxlogistics_shippinginfo_change", args=[info.pk]))
    html = page.content.decode()
    assert page.status_code == 200 and PAYER not in html and 'name="_save"' not in html
    assert shipping_client.get(reverse("admin:django_wxlogistics_shippinginfo_add")).status_code == 403
    delete = reverse("admin:django_wxlogistics_shippinginfo_delete", args=[info.pk])
    assert shipping_client.get(delete).status_code == 403


def test_the_payments_list_shows_each_key_and_links_its_calls(shipping_client):
    payment = Payment.objects.create(order_id="SO2", mchid="1230000109", out_trade_no="SO-2")
    html = shipping_client.get(reverse(PAYMENTS)).content.decode()
    assert "1230000109/SO-2" in html and "SO2" in html
    assert f"payment__id__exact={payment.pk}" in html
    assert shipping_client.get(reverse("admin:django_wxlogistics_payment_add")).status_code == 403


def test_retry_reports_how_many_failed_calls_will_be_sent_again(shipping_client):
    failed = [
        call(
            Payment.objects.create(order_id=f"SO{n}", transaction_id=f"42000000{n}"), state=EventState.FAILED
        )
        for n in range(3)
    ]
    sent = call(
        Payment.objects.create(order_id="SO9", transaction_id="4200000009"),
        state=EventState.SENT,
        sent_at=timezone.now(),
    )
    ShippingInfo.objects.filter(pk__in=[i.pk for i in failed]).update(attempts=10)
    response = shipping_client.post(
        reverse(CALLS),
        {"action": "retry_failed", ACTION_CHECKBOX_NAME: [i.pk for i in [*failed, sent]]},
        follow=True,
    )
    assert "3 failed calls will be sent to WeChat again." in response.content.decode()
    assert set(
        ShippingInfo.objects.filter(pk__in=[i.pk for i in failed]).values_list("state", "attempts")
    ) == {(EventState.PENDING, 0)}
    response = shipping_client.post(
        reverse(CALLS), {"action": "retry_failed", ACTION_CHECKBOX_NAME: [sent.pk]}, follow=True
    )
    assert "None of the selected calls can be retried" in response.content.decode()


def test_retry_is_reported_in_chinese(shipping_client, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    info = call(Payment.objects.create(order_id="SO1", transaction_id="4200000001"), state=EventState.FAILED)
    response = shipping_client.post(
        reverse(CALLS),
        {"action": "retry_failed", ACTION_CHECKBOX_NAME: [info.pk]},
        follow=True,
    )
    assert "重试失败的发货信息" in response.content.decode()  # the action's name
    assert "1 个失败的调用将再次发送给微信。" in response.content.decode()


def test_retry_needs_the_change_permission_on_shipping_information(make_client):
    viewer = make_client("viewer", "view_payment", "view_shippinginfo")
    info = call(Payment.objects.create(order_id="SO1", transaction_id="4200000001"), state=EventState.FAILED)
    assert "retry_failed" not in viewer.get(reverse(CALLS)).content.decode()
    viewer.post(reverse(CALLS), {"action": "retry_failed", ACTION_CHECKBOX_NAME: [info.pk]})
    info.refresh_from_db()
    assert info.state == EventState.FAILED

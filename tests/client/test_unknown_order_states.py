"""get_order_list against the sandbox with payments in states WeChat does not document (6, which it
answers in practice, and one never seen): the page is read, each state kept as it came, and 6 can
be filtered on."""

from __future__ import annotations

from typing import Any

import pytest

from django_wxlogistics.client import WeChatLogisticsClient
from django_wxlogistics.merchant_answers import OrderState

pytestmark = pytest.mark.django_db


def test_get_order_list_accepts_an_undocumented_order_state(
    client: WeChatLogisticsClient, sandbox: Any
) -> None:
    waiting, odd, unseen = sandbox.create_payment(), sandbox.create_payment(), sandbox.create_payment()
    sandbox.set_payment_state(odd["transaction_id"], 6)
    sandbox.set_payment_state(unseen["transaction_id"], 9)

    page = client.get_order_list()
    states = {o.transaction_id: o.order_state for o in page.orders}
    assert states == {
        waiting["transaction_id"]: OrderState.WAITING_FOR_SHIPMENT,
        odd["transaction_id"]: 6,
        unseen["transaction_id"]: 9,
    }
    six, nine = states[odd["transaction_id"]], states[unseen["transaction_id"]]
    assert isinstance(six, OrderState) and six.label == "Funds awaiting settlement"
    assert isinstance(nine, OrderState) and not nine.known and "9" in nine.label

    only_six = client.get_order_list(order_state=6)
    assert [o.transaction_id for o in only_six.orders] == [odd["transaction_id"]]
    assert sandbox.calls(api="get_order_list")[-1]["body"]["order_state"] == 6

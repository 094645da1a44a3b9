"""The pipeline for shipping information as the tests call it: the package's functions with the
shipping-information kind bound."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django_wxlogistics import delivery
from django_wxlogistics.delivery import SHIPPING_INFO, Outcome
from django_wxlogistics.nudges import SHIPPING_INFO as KIND_NAME
from django_wxlogistics.nudges import nudge


def deliver_many(info_ids: Iterable[int], **options: Any) -> dict[int, Outcome]:
    """What the push task does with these items: deliver them, then nudge what is left."""
    delivered = delivery.deliver_many(SHIPPING_INFO, info_ids, **options)
    nudge(delivered.left, KIND_NAME)
    return delivered.outcomes


def deliver(info_id: int, **options: Any) -> Outcome:
    """Claim one item, make its call and record the outcome; ``SKIPPED`` when it is not claimable."""
    return deliver_many([info_id], **options).get(int(info_id), Outcome.SKIPPED)


def upload_fields(payment: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """``upload_shipping_info``'s fields for ``payment``: by transaction_id, one parcel by ZTO."""
    return {
        "order_key": {"order_number_type": 2, "transaction_id": payment["transaction_id"]},
        "logistics_type": 1,
        "delivery_mode": 1,
        "shipping_list": [{"tracking_no": "ZT1234567890", "express_company": "ZTO", "item_desc": "茶叶*1"}],
        "payer": {"openid": payment["openid"]},
        **fields,
    }

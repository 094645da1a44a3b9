"""The nine ``action_type`` values with their labels in Chinese and English.

Kept here rather than taken from :mod:`django_wxlogistics.enums` so that the sandbox runs
without Django settings (``python -m django_wxlogistics.sandbox``).
"""

from __future__ import annotations

#: action_type -> (Chinese label, English label), as on WeChat's trace page.
ACTION_LABELS: dict[int, tuple[str, str]] = {
    100001: ("揽件成功", "Picked up"),
    100002: ("揽件失败", "Pick-up failed"),
    100003: ("分配业务员", "Assigning a courier"),
    200001: ("运输中", "In transit"),
    300002: ("派送中", "Out for delivery"),
    300003: ("已签收", "Signed for"),
    300004: ("签收失败", "Signing failed"),
    400001: ("订单取消", "Order cancelled"),
    400002: ("订单滞留", "Order delayed"),
}

ACTION_TYPES: frozenset[int] = frozenset(ACTION_LABELS)

LANGUAGES = ("zh", "en")


def action_label(action_type: int, lang: str) -> str:
    """The label of ``action_type`` in ``lang`` ("zh" or "en"); the number if unknown."""
    labels = ACTION_LABELS.get(action_type)
    if labels is None:
        return str(action_type)
    return labels[0] if lang == "zh" else labels[1]

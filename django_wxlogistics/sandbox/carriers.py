"""The carriers the sandbox's ``get_delivery_list`` knows: the codes ``express_company`` and
``delivery_id`` must be taken from.

WeChat's list holds about 1,400 carriers; the sandbox starts with the common ones below, with
WeChat's codes, and the control API adds others (``POST /__sandbox__/carriers``).
"""

from __future__ import annotations

import threading
from typing import Any

#: (delivery_id, delivery_name) as WeChat's get_delivery_list answers them
DEFAULT_CARRIERS: tuple[tuple[str, str], ...] = (
    ("SF", "顺丰速运"),
    ("ZTO", "中通快递"),
    ("YTO", "圆通速递"),
    ("STO", "申通快递"),
    ("YD", "韵达速递"),
    ("JTSD", "极兔速递"),
    ("EMS", "EMS"),
    ("YZPY", "邮政快递包裹"),
    ("JD", "京东快递"),
    ("JDKY", "京东快运"),
    ("DBL", "德邦快递"),
    ("HTKY", "百世快递"),
    ("ZJS", "宅急送"),
    ("UC", "优速快递"),
    ("KYSY", "跨越速运"),
    ("ZTOKY", "中通快运"),
    ("DHL", "DHL"),
    ("UPS", "UPS"),
    ("FEDEX", "FedEx"),
)

#: the most a carrier code may be, in UTF-8 bytes (upload_shipping_info's express_company)
MAX_CODE_BYTES = 128


class Carriers:
    """The carrier list of one sandbox: the defaults, plus any the control API added."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._names: dict[str, str] = dict(DEFAULT_CARRIERS)

    def add(self, delivery_id: Any, delivery_name: Any) -> dict[str, str]:
        """Add (or rename) a carrier; ValueError saying what to fix."""
        if not isinstance(delivery_id, str) or not delivery_id.strip():
            raise ValueError('delivery_id must be a non-empty string, e.g. "SF"')
        if len(delivery_id.encode("utf-8")) > MAX_CODE_BYTES:
            raise ValueError(f"delivery_id must be at most {MAX_CODE_BYTES} bytes")
        if not isinstance(delivery_name, str) or not delivery_name.strip():
            raise ValueError('delivery_name must be a non-empty string, e.g. "顺丰速运"')
        with self._lock:
            self._names[delivery_id] = delivery_name
        return {"delivery_id": delivery_id, "delivery_name": delivery_name}

    def knows(self, delivery_id: str) -> bool:
        with self._lock:
            return delivery_id in self._names

    def name(self, delivery_id: str) -> str:
        """The carrier's name, or "" for a code the list does not hold."""
        with self._lock:
            return self._names.get(delivery_id, "")

    def delivery_list(self) -> list[dict[str, str]]:
        """The list as ``get_delivery_list`` answers it."""
        with self._lock:
            return [{"delivery_id": k, "delivery_name": v} for k, v in self._names.items()]

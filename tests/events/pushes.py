"""WeChat's side of a push, for the tests: official example events, signed and sent to ``events/``."""

from __future__ import annotations

import copy
from typing import Any
from urllib.parse import urlencode

from django.test import Client

from django_wxlogistics.events import crypto, wire

TOKEN = "PushToken2024"
KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
APPID = "wxprovider000001"
NOW = 1_750_000_000
URL = "/wxlogistics/events/"

#: The order placement event of WeChat's provider documentation.
ADD_WAYBILL: dict[str, Any] = {
    "ToUserName": "gh_abcdefg",
    "FromUserName": "oABCD",
    "CreateTime": 1533042556,
    "MsgType": "event",
    "Event": "add_waybill",
    "Token": "1234ABC234523451",
    "OrderID": "012345678901234567890123456789",
    "BizID": "xyz",
    "BizPwd": "xyz123",
    "ShopAppID": "wxABCD",
    "WayBillID": "0",
    "Remark": "易碎物品",
    "Sender": {
        "Name": "张三",
        "Tel": "020-88888888",
        "Mobile": "18666666666",
        "Company": "公司名",
        "PostCode": "123456",
        "Country": "中国",
        "Province": "广东省",
        "City": "广州市",
        "Area": "海珠区",
        "Address": "XX路XX号XX大厦XX栋XX",
    },
    "Receiver": {
        "Name": "王小蒙",
        "Tel": "029-77777777",
        "Mobile": "18610000000",
        "Company": "公司名",
        "PostCode": "654321",
        "Country": "中国",
        "Province": "广东省",
        "City": "广州市",
        "Area": "天河区",
        "Address": "XX路XX号XX大厦XX栋XX",
    },
    "Cargo": {
        "Weight": 1.2,
        "Space_X": 20.5,
        "Space_Y": 15,
        "Space_Z": 10,
        "Count": 2,
        "DetailList": [{"Name": "一千零一夜钻石包", "Count": 1}, {"Name": "爱马仕柏金钻石包", "Count": 1}],
    },
    "Insured": {"UseInsured": 1, "InsuredValue": 10000},
    "Service": {"ServiceType": 0, "ServiceName": "标准快递"},
}
CANCEL_WAYBILL = {
    "ToUserName": "gh_abcdefg",
    "FromUserName": "oABCD",
    "CreateTime": 1533042556,
    "MsgType": "event",
    "Event": "cancel_waybill",
    "BizID": "xyz",
    "BizPwd": "xyz123",
    "ShopAppID": "wxABCD",
    "OrderID": "012345678901234567890123456789",
    "WayBillID": "123456789",
}
CHECK_BIZ = {
    "ToUserName": "gh_abcdefg",
    "FromUserName": "oABCD",
    "CreateTime": 1533042556,
    "MsgType": "event",
    "Event": "check_biz",
    "BizID": "xyz",
    "BizPwd": "xyz123",
    "ShopAppID": "wxABCD",
    "ShopName": "商户名称",
}
GET_QUOTA = {**CHECK_BIZ, "Event": "get_quota"}
NOTIFY_QUERY = {
    "ToUserName": "gh_ea48699fb159",
    "FromUserName": "oHt_80DRclK4qjKfdYnPg6RxxsNI",
    "MsgType": "event",
    "Event": "waybill_notify_query",
    "CreateTime": 1600152165,
    "WaybillId": "557007127498128",
    "SenderPhone": "13763357711",
    "ReceiverPhone": "13763357711",
}


def event(template: dict[str, Any], **changes: Any) -> dict[str, Any]:
    fields = copy.deepcopy(template)
    fields.update(changes)
    return fields


def push_settings(**more: Any) -> dict[str, Any]:
    """The test settings' WXLOGISTICS with our push settings, and ``more``."""
    from tests import settings as test_settings

    return {**test_settings.WXLOGISTICS, "PUSH_TOKEN": TOKEN, "ENCODING_AES_KEY": KEY, "APPID": APPID, **more}


class WeChat:
    """Signs and sends pushes as WeChat does, and reads our replies."""

    def __init__(self, client: Client, *, token: str = TOKEN, key: str = KEY, appid: str = APPID) -> None:
        self.client = client
        self.crypto = crypto.PushCrypto(token, key, appid)
        self.timestamp = str(NOW)
        self.nonce = "1514711492"

    def body_and_query(
        self, fields: dict[str, Any], fmt: str = "json", safe: bool = True
    ) -> tuple[bytes, dict]:
        message = wire.dump_body(fields, fmt)  # type: ignore[arg-type]
        if not safe:
            query = {
                "signature": crypto.signature(self.crypto.token, self.timestamp, self.nonce),
                "timestamp": self.timestamp,
                "nonce": self.nonce,
                "openid": "oABCD",
            }
            return message, query
        sealed = self.crypto.encrypt(message, timestamp=self.timestamp, nonce=self.nonce)
        envelope = {"ToUserName": fields.get("ToUserName", "gh_abcdefg"), "Encrypt": sealed.encrypt}
        return wire.dump_body(envelope, fmt), {**sealed.push_query(), "openid": "oABCD"}  # type: ignore[arg-type]

    def post(self, body: bytes, query: dict[str, str], fmt: str = "json") -> Any:
        content_type = "application/json" if fmt == "json" else "text/xml"
        return self.client.post(f"{URL}?{urlencode(query)}", data=body, content_type=content_type)

    def send(self, fields: dict[str, Any], fmt: str = "json", safe: bool = True) -> Any:
        body, query = self.body_and_query(fields, fmt, safe)
        return self.post(body, query, fmt)

    def reply(self, response: Any, safe: bool = True) -> dict[str, Any]:
        """The reply's fields, decrypted and verified in safe mode."""
        assert response.status_code == 200, response.content
        fmt, fields = wire.parse_body(response.content)
        if safe:
            assert set(fields) == {"Encrypt", "MsgSignature", "TimeStamp", "Nonce"}
            inner_fmt, fields = wire.parse_body(self.crypto.open_reply(fields))
            assert inner_fmt == fmt
        return fields

    def ask(self, fields: dict[str, Any], fmt: str = "json", safe: bool = True) -> dict[str, Any]:
        return self.reply(self.send(fields, fmt, safe), safe)

"""Push bodies in XML and JSON: read into dicts, written back, and every malformed shape refused."""

from __future__ import annotations

import pytest

from django_wxlogistics.events import wire
from django_wxlogistics.events.wire import MalformedBody

ADD_WAYBILL_XML = """<xml>
  <ToUserName><![CDATA[gh_abcdefg]]></ToUserName>
  <CreateTime>1533042556</CreateTime>
  <Event><![CDATA[add_waybill]]></Event>
  <Token>1234ABC234523451</Token>
  <Sender><Name><![CDATA[张三]]></Name><Mobile><![CDATA[18666666666]]></Mobile></Sender>
  <Cargo>
    <Weight>1.2</Weight>
    <DetailList><Name><![CDATA[一千零一夜钻石包]]></Name><Count>1</Count></DetailList>
    <DetailList><Name><![CDATA[爱马仕柏金钻石包]]></Name><Count>1</Count></DetailList>
  </Cargo>
</xml>""".encode()

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<xml><Event>&lol3;</Event></xml>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE xml [<!ENTITY secret SYSTEM "file:///etc/passwd">]><xml><Event>&secret;</Event></xml>"""
DTD_ONLY = b'<?xml version="1.0"?><!DOCTYPE xml SYSTEM "http://example.com/x.dtd"><xml><Event>a</Event></xml>'


def test_xml_becomes_nested_dicts_and_lists():
    fmt, fields = wire.parse_body(ADD_WAYBILL_XML)
    assert fmt == "xml"
    assert fields["Event"] == "add_waybill"
    assert fields["CreateTime"] == "1533042556"
    assert fields["Sender"] == {"Name": "张三", "Mobile": "18666666666"}
    assert [d["Name"] for d in fields["Cargo"]["DetailList"]] == ["一千零一夜钻石包", "爱马仕柏金钻石包"]


def test_json_is_read_as_is():
    fmt, fields = wire.parse_body(
        b' \n{"Event": "add_waybill", "CreateTime": 1533042556, "Cargo": {"Count": 2}}'
    )
    assert fmt == "json"
    assert fields == {"Event": "add_waybill", "CreateTime": 1533042556, "Cargo": {"Count": 2}}


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_round_trip(fmt):
    fields = {
        "ToUserName": "oABCD",
        "ResultCode": 0,
        "ResultMsg": "a ]]> inside <b>&amp;</b>",
        "Path": [{"ActionType": 100001, "ActionMsg": "已揽收"}, {"ActionType": 300003, "ActionMsg": "签收"}],
    }
    body = wire.dump_body(fields, fmt)
    _, back = wire.parse_body(body)
    if fmt == "xml":  # numbers come back as text
        fields = {
            **fields,
            "ResultCode": "0",
            "Path": [
                {"ActionType": "100001", "ActionMsg": "已揽收"},
                {"ActionType": "300003", "ActionMsg": "签收"},
            ],
        }
    assert back == fields


def test_xml_numbers_are_written_bare_and_text_in_cdata():
    assert wire.dump_body({"ResultCode": 0, "ResultMsg": "ok"}, "xml") == (
        b"<xml><ResultCode>0</ResultCode><ResultMsg><![CDATA[ok]]></ResultMsg></xml>"
    )


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (BILLION_LAUGHS, "DTD"),
        (EXTERNAL_ENTITY, "DTD"),
        (DTD_ONLY, "DTD"),
        (b"<xml><Event>unclosed</xml>", "not well-formed"),
        (b"<xml>" + b"<a>" * 40 + b"</a>" * 40 + b"</xml>", "deeper than 32"),
        (b'{"a": ' * 40 + b"1" + b"}" * 40, "deeper than 32"),
        (b"[" * 100000 + b"]" * 100000, "neither XML nor a JSON object"),
        (b"{" + b'"a":[' * 50000, "not valid JSON|deeper than 32"),
        (b'{"a": NaN}', "NaN"),
        (b'{"a": 1', "not valid JSON"),
        (b'{"a": "\xff"}', "not UTF-8"),
        (b"", "neither XML nor a JSON object"),
        (b"Event=add_waybill", "neither XML nor a JSON object"),
    ],
)
def test_malformed_bodies_are_refused(body, why):
    with pytest.raises(MalformedBody, match=why):
        wire.parse_body(body)

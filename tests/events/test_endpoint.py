"""The events endpoint as WeChat meets it: URL verification, both modes, and every push it refuses."""

from __future__ import annotations

import json
import logging
from urllib.parse import urlencode

import pytest
from django.contrib.auth.models import User
from django.test import Client

from django_wxlogistics.enums import PushVerdict
from django_wxlogistics.events import crypto, inbound, wire
from django_wxlogistics.events.crypto import PushCipher, PushCrypto
from django_wxlogistics.models import InboundEvent, Waybill
from tests.events import test_crypto as vectors
from tests.events.pushes import ADD_WAYBILL, KEY, NOW, TOKEN, URL, WeChat, event, push_settings
from tests.events.test_wire import BILLION_LAUGHS, EXTERNAL_ENTITY

pytestmark = pytest.mark.django_db


def stored() -> InboundEvent:
    return InboundEvent.objects.get()


def nothing_processed() -> bool:
    return not Waybill.objects.exists()


class TestOfficialVectors:
    def test_url_verification_answers_the_echostr(self, client, settings, monkeypatch):
        settings.WXLOGISTICS = push_settings(PUSH_TOKEN="AAAAA")
        monkeypatch.setattr(inbound, "clock", lambda: 1714036504.0)
        query = {**vectors.VERIFY, "signature": vectors.VERIFY_SIGNATURE, "echostr": "4375120948345356249"}
        del query["token"]
        response = client.get(URL, query)
        assert response.status_code == 200
        assert response.content == b"4375120948345356249"
        assert response["Content-Type"].startswith("text/plain")
        assert (stored().method, stored().verdict) == ("GET", PushVerdict.OK)

    def test_url_verification_with_a_wrong_signature_is_refused(self, client, settings, monkeypatch):
        settings.WXLOGISTICS = push_settings(PUSH_TOKEN="AAAAB")
        monkeypatch.setattr(inbound, "clock", lambda: 1714036504.0)
        query = {"timestamp": "1714036504", "nonce": "1514711492", "echostr": "42"}
        response = client.get(URL, {**query, "signature": vectors.VERIFY_SIGNATURE})
        assert response.status_code == 403
        assert b"42" not in response.content
        assert stored().verdict == PushVerdict.BAD_SIGNATURE

    def test_the_json_safe_mode_vector_is_verified_decrypted_and_answered_encrypted(
        self, client, settings, monkeypatch
    ):
        # PowerWeChat could not decrypt JSON safe-mode pushes at all.
        settings.WXLOGISTICS = push_settings(
            PUSH_TOKEN="AAAAA", ENCODING_AES_KEY=vectors.SAFE_KEY, APPID=vectors.SAFE_APPID
        )
        monkeypatch.setattr(inbound, "clock", lambda: float(vectors.SAFE_TIMESTAMP))
        query = {
            "signature": crypto.signature("AAAAA", vectors.SAFE_TIMESTAMP, vectors.SAFE_NONCE),
            "timestamp": vectors.SAFE_TIMESTAMP,
            "nonce": vectors.SAFE_NONCE,
            "openid": "o9AgO5Kd5ggOC-bXrbNODIiE3bGY",
            "encrypt_type": "aes",
            "msg_signature": vectors.SAFE_MSG_SIGNATURE,
        }
        body = json.dumps({"ToUserName": "gh_97417a04a28d", "Encrypt": vectors.SAFE_ENCRYPT})
        response = client.post(f"{URL}?{urlencode(query)}", data=body, content_type="application/json")
        assert response.status_code == 200
        envelope = json.loads(response.content)
        reply = json.loads(PushCrypto("AAAAA", vectors.SAFE_KEY, vectors.SAFE_APPID).open_reply(envelope))
        # debug_demo is no provider event: answered, with a ResultCode that says so.
        assert reply["ResultCode"] == -1 and "debug_demo" in reply["ResultMsg"]
        assert (reply["ToUserName"], reply["FromUserName"]) == (
            "o9AgO5Kd5ggOC-bXrbNODIiE3bGY",
            "gh_97417a04a28d",
        )
        row = stored()
        assert (row.verdict, row.event, row.body_format, row.safe_mode) == (
            PushVerdict.UNKNOWN_EVENT,
            "debug_demo",
            "json",
            True,
        )
        assert row.payload["debug_str"] == "hello world"


class TestTheFourSDKMistakes:
    def test_safe_mode_checks_msg_signature_over_encrypt_not_the_urls_signature(self, wechat):
        # medivhzhan/weapp and wechatpy users: a valid URL signature is not enough in safe mode.
        body, query = wechat.body_and_query(event(ADD_WAYBILL))
        assert wechat.post(body, {k: v for k, v in query.items() if k != "msg_signature"}).status_code == 403
        other = wechat.crypto.encrypt(wire.dump_body(event(ADD_WAYBILL, OrderID="forged"), "json"))
        swapped = json.dumps({"ToUserName": "gh_abcdefg", "Encrypt": other.encrypt}).encode()
        assert wechat.post(swapped, query).status_code == 403  # msg_signature of another Encrypt
        assert nothing_processed()
        assert set(InboundEvent.objects.values_list("verdict", flat=True)) == {PushVerdict.BAD_SIGNATURE}

    def test_safe_mode_checks_the_appid_after_decrypting(self, wechat):
        # medivhzhan/weapp never looked at the AppID: a push for another Mini Program is refused.
        stranger = WeChat(wechat.client, appid="wxsomebodyelse01")
        response = stranger.send(event(ADD_WAYBILL))
        assert response.status_code == 403
        assert nothing_processed()
        assert stored().verdict == PushVerdict.BAD_APPID

    @pytest.mark.parametrize("fmt", ["json", "xml"])
    def test_safe_mode_verifies_before_decrypting(self, wechat, monkeypatch, fmt):
        # WxJava decrypted JSON safe-mode pushes without verifying them.
        opened = []
        monkeypatch.setattr(PushCipher, "open", lambda self, encrypt: opened.append(encrypt))
        body, query = wechat.body_and_query(event(ADD_WAYBILL), fmt)
        response = wechat.post(body, {**query, "msg_signature": "0" * 40}, fmt)
        assert response.status_code == 403
        assert opened == []
        assert nothing_processed()

    @pytest.mark.parametrize("fmt", ["json", "xml"])
    def test_safe_mode_pushes_are_decrypted_in_both_formats(self, wechat, fmt):
        reply = wechat.ask(event(ADD_WAYBILL), fmt)
        assert str(reply["ResultCode"]) == "0"
        assert Waybill.objects.get().token == ADD_WAYBILL["Token"]


class TestRefusals:
    def test_a_plain_push_with_a_wrong_signature(self, wechat):
        body, query = wechat.body_and_query(event(ADD_WAYBILL), safe=False)
        response = wechat.post(body, {**query, "signature": crypto.signature("wrong", NOW, "1")})
        assert response.status_code == 403
        assert nothing_processed() and stored().verdict == PushVerdict.BAD_SIGNATURE

    @pytest.mark.parametrize("missing", ["signature", "timestamp", "nonce"])
    def test_a_plain_push_without_its_parameters(self, wechat, missing):
        body, query = wechat.body_and_query(event(ADD_WAYBILL), safe=False)
        del query[missing]
        assert wechat.post(body, query).status_code == 403
        assert nothing_processed() and stored().verdict == PushVerdict.BAD_SIGNATURE

    @pytest.mark.parametrize(("offset", "status"), [(-301, 403), (301, 403), (-299, 200), (299, 200)])
    def test_the_replay_window(self, wechat, monkeypatch, offset, status):
        monkeypatch.setattr(inbound, "clock", lambda: float(NOW + offset))
        assert wechat.send(event(ADD_WAYBILL)).status_code == status
        if status == 403:
            assert nothing_processed() and stored().verdict == PushVerdict.STALE_TIMESTAMP

    def test_the_replay_window_is_a_setting(self, wechat, settings, monkeypatch):
        monkeypatch.setattr(inbound, "clock", lambda: float(NOW + 3600))
        settings.WXLOGISTICS = push_settings(PUSH_MAX_AGE=7200)
        assert wechat.send(event(ADD_WAYBILL)).status_code == 200
        settings.WXLOGISTICS = push_settings(PUSH_MAX_AGE=None)
        monkeypatch.setattr(inbound, "clock", lambda: float(NOW + 10**7))
        assert wechat.send(event(ADD_WAYBILL, OrderID="2")).status_code == 200

    def test_a_timestamp_that_is_no_number(self, wechat):
        wechat.timestamp = "soon"
        assert wechat.send(event(ADD_WAYBILL)).status_code == 403
        assert stored().verdict == PushVerdict.STALE_TIMESTAMP

    @pytest.mark.parametrize(
        ("body", "fmt"),
        [
            (b"<xml><Event>add_waybill</Event>", "xml"),
            (b'{"Event": "add_waybill"', "json"),
            (b'["add_waybill"]', "json"),
            (BILLION_LAUGHS, "xml"),
            (EXTERNAL_ENTITY, "xml"),
            (b"Event=add_waybill", "json"),
            (b"", "json"),
        ],
    )
    def test_a_malformed_plain_body(self, wechat, body, fmt):
        _, query = wechat.body_and_query(event(ADD_WAYBILL), safe=False)
        response = wechat.post(body, query, fmt)
        assert response.status_code == 400
        assert nothing_processed() and stored().verdict == PushVerdict.MALFORMED

    def test_a_malformed_body_inside_a_valid_encryption(self, wechat):
        sealed = wechat.crypto.encrypt(BILLION_LAUGHS, timestamp=NOW, nonce="7")
        body = wire.dump_body({"ToUserName": "gh", "Encrypt": sealed.encrypt}, "xml")
        assert wechat.post(body, sealed.push_query(), "xml").status_code == 400
        assert nothing_processed() and stored().verdict == PushVerdict.MALFORMED

    def test_a_safe_mode_body_without_encrypt(self, wechat):
        _, query = wechat.body_and_query(event(ADD_WAYBILL))
        assert wechat.post(json.dumps(ADD_WAYBILL).encode(), query).status_code == 400
        assert nothing_processed() and stored().verdict == PushVerdict.MALFORMED

    def test_a_signed_encrypt_that_does_not_decrypt(self, wechat):
        garbage = "QUFBQUFBQUFBQUFBQUFBQQ=="  # one AES block of "A"s: no valid padding
        query = {
            "timestamp": str(NOW),
            "nonce": "1",
            "encrypt_type": "aes",
            "msg_signature": crypto.msg_signature(TOKEN, str(NOW), "1", garbage),
        }
        response = wechat.post(json.dumps({"Encrypt": garbage}).encode(), query)
        assert response.status_code == 400
        assert stored().verdict == PushVerdict.UNDECRYPTABLE

    def test_an_unknown_encrypt_type(self, wechat):
        body, query = wechat.body_and_query(event(ADD_WAYBILL))
        assert wechat.post(body, {**query, "encrypt_type": "des"}).status_code == 400

    def test_a_body_over_the_size_cap_is_not_read(self, wechat, settings):
        settings.WXLOGISTICS = push_settings(PUSH_MAX_BYTES=2048)
        body, query = wechat.body_and_query(event(ADD_WAYBILL, Remark="x" * 4000))
        response = wechat.post(body, query)
        assert response.status_code == 400
        row = stored()
        assert (row.verdict, row.sealed_body, row.body_size) == (PushVerdict.TOO_LARGE, "", len(body))
        assert nothing_processed()

    def test_a_body_at_the_size_cap_is_read(self, wechat, settings):
        body, query = wechat.body_and_query(event(ADD_WAYBILL))
        settings.WXLOGISTICS = push_settings(PUSH_MAX_BYTES=len(body))
        assert wechat.post(body, query).status_code == 200
        settings.WXLOGISTICS = push_settings(PUSH_MAX_BYTES=len(body) - 1)
        assert wechat.post(body, query).status_code == 400

    def test_without_a_push_token_nothing_is_trusted(self, wechat, settings):
        settings.WXLOGISTICS = push_settings(PUSH_TOKEN="")
        assert wechat.send(event(ADD_WAYBILL)).status_code == 403
        assert nothing_processed() and stored().verdict == PushVerdict.NOT_CONFIGURED

    def test_safe_mode_without_an_aes_key(self, wechat, settings):
        settings.WXLOGISTICS = push_settings(ENCODING_AES_KEY="")
        assert wechat.send(event(ADD_WAYBILL)).status_code == 403
        assert stored().verdict == PushVerdict.NOT_CONFIGURED

    def test_other_methods(self, wechat):
        assert wechat.client.put(URL).status_code == 405


class TestAnswers:
    @pytest.mark.parametrize("fmt", ["xml", "json"])
    def test_a_plain_push_is_answered_plain_in_its_format(self, wechat, fmt):
        response = wechat.send(event(ADD_WAYBILL), fmt, safe=False)
        assert response["Content-Type"] == inbound.CONTENT_TYPES[fmt]
        assert wire.detect_format(response.content) == fmt
        reply = wechat.reply(response, safe=False)
        assert reply["Token"] == ADD_WAYBILL["Token"]  # echoed, as the event's reply requires

    @pytest.mark.parametrize("fmt", ["xml", "json"])
    def test_a_safe_push_is_answered_encrypted_and_signed(self, wechat, fmt):
        response = wechat.send(event(ADD_WAYBILL), fmt)
        assert ADD_WAYBILL["Token"].encode() not in response.content
        fmt_back, envelope = wire.parse_body(response.content)
        assert fmt_back == fmt
        assert str(envelope["TimeStamp"]) == str(NOW)
        assert envelope["MsgSignature"] == crypto.msg_signature(
            TOKEN, str(NOW), envelope["Nonce"], envelope["Encrypt"]
        )
        assert wechat.reply(response)["Token"] == ADD_WAYBILL["Token"]

    def test_csrf_is_not_asked_of_wechat(self, db, settings, push_clock):
        settings.WXLOGISTICS = push_settings()
        wechat = WeChat(Client(enforce_csrf_checks=True))
        assert str(wechat.ask(event(ADD_WAYBILL))["ResultCode"]) == "0"

    def test_csrf_is_still_asked_elsewhere(self, db):
        user = User.objects.create_superuser("staff", "staff@example.com", "pw")
        client = Client(enforce_csrf_checks=True)
        client.force_login(user)
        response = client.post("/admin/auth/user/add/", {"username": "x"})
        assert response.status_code == 403


class TestHandlerFailures:
    def test_a_crashing_handler_is_answered_minus_one_stored_and_logged_without_secrets(
        self, wechat, settings, caplog
    ):
        settings.WXLOGISTICS = push_settings(
            EVENT_HANDLERS={"add_waybill": "tests.events.handlers.crash_with_the_token"}
        )
        with caplog.at_level(logging.ERROR, logger="django_wxlogistics"):
            reply = wechat.ask(event(ADD_WAYBILL))
        assert str(reply["ResultCode"]) == "-1"
        row = stored()
        assert row.verdict == PushVerdict.HANDLER_ERROR
        assert "RuntimeError" in row.error and ADD_WAYBILL["Token"] not in row.error
        assert "crash_with_the_token" in caplog.text
        assert ADD_WAYBILL["Token"] not in caplog.text and ADD_WAYBILL["BizPwd"] not in caplog.text
        assert nothing_processed()

    def test_a_handler_that_returns_something_else(self, wechat, settings):
        settings.WXLOGISTICS = push_settings(
            EVENT_HANDLERS={"add_waybill": "tests.events.handlers.answer_42"}
        )
        assert str(wechat.ask(event(ADD_WAYBILL))["ResultCode"]) == "-1"
        assert "EventResult" in stored().error

    def test_an_unimportable_handler_is_a_handler_error_not_a_500(self, wechat, settings):
        settings.WXLOGISTICS = push_settings(EVENT_HANDLERS={"add_waybill": "tests.events.handlers.nothing"})
        assert str(wechat.ask(event(ADD_WAYBILL))["ResultCode"]) == "-1"
        assert "cannot be imported" in stored().error

    def test_a_broken_setting_outside_any_handler_is_a_503_without_the_body(self, wechat, settings, caplog):
        settings.WXLOGISTICS = push_settings(PUSH_MAX_BYTES="lots")
        settings.DEBUG = True
        with caplog.at_level(logging.ERROR, logger="django_wxlogistics"):
            response = wechat.send(event(ADD_WAYBILL), safe=False)
        assert response.status_code == 503
        assert ADD_WAYBILL["Token"].encode() not in response.content
        assert "PUSH_MAX_BYTES" in caplog.text


class TestWhatIsStored:
    @pytest.mark.parametrize("safe", [True, False])
    def test_every_column_but_the_sealed_body_is_free_of_secrets_and_whole_contacts(self, wechat, safe):
        wechat.ask(event(ADD_WAYBILL), "xml", safe)
        row = InboundEvent.objects.values().get()
        text = json.dumps(
            {k: v for k, v in row.items() if k != "sealed_body"}, default=str, ensure_ascii=False
        )
        for secret in (ADD_WAYBILL["Token"], ADD_WAYBILL["BizPwd"], "18666666666", "王小蒙", KEY, TOKEN):
            assert secret not in text
        assert ADD_WAYBILL["Token"] not in row["sealed_body"]
        assert row["payload"]["Sender"]["Mobile"] == "186****6666"
        assert row["payload"]["Cargo"]["DetailList"][0]["Name"] == "一千零一夜钻石包"  # not a person
        assert row["headers"]["content_type"] == "text/xml"
        assert row["query"]["timestamp"] == str(NOW)
        assert row["waybill_id"] == Waybill.objects.get().pk
        assert (row["event"], row["biz_id"], row["order_id"]) == (
            "add_waybill",
            "xyz",
            ADD_WAYBILL["OrderID"],
        )

    def test_a_refused_push_is_stored_too(self, wechat):
        body, query = wechat.body_and_query(event(ADD_WAYBILL))
        wechat.post(body, {**query, "msg_signature": "0" * 40})
        row = stored()
        assert row.body_size == len(body) and row.sealed_body.startswith("v1:")
        assert row.processed_count == 1 and row.status_code == 403

    def test_text_no_column_can_hold_is_stored_replaced(self, wechat):
        wechat.ask(event(ADD_WAYBILL, Remark="a\x00b\ud800c"), safe=False)
        assert stored().payload["Remark"] == "a\ufffdb\ufffdc"

"""The push cryptography against WeChat's published vectors, and every way a body can be wrong."""

from __future__ import annotations

import base64
import json
import struct

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from django_wxlogistics.events import crypto
from django_wxlogistics.events.crypto import (
    AppIdMismatch,
    InvalidAESKey,
    PushCipher,
    PushCrypto,
    SignatureMismatch,
    UndecryptableMessage,
)

# WeChat's message-push page: URL verification, Token AAAAA.
VERIFY = {"token": "AAAAA", "timestamp": "1714036504", "nonce": "1514711492"}
VERIFY_SIGNATURE = "f464b24fc39322e44b38aa78f5edd27bd1441696"

# WeChat's message-push page: safe mode, JSON.
SAFE_KEY = "A" * 43
SAFE_APPID = "wxba5fad812f8e6fb9"
SAFE_TIMESTAMP = "1714112445"
SAFE_NONCE = "415670741"
SAFE_MSG_SIGNATURE = "046e02f8204d34f8ba5fa3b1db94908f3df2e9b3"
SAFE_ENCRYPT = (
    "+qdx1OKCy+5JPCBFWw70tm0fJGb2Jmeia4FCB7kao+/Q5c/ohsOzQHi8khUOb05JCpj0JB4RvQMkUyus8TPxLKJGQqcvZqzDpVzazhZv6"
    "JsXUnnR8XGT740XgXZUXQ7vJVnAG+tE8NUd4yFyjPy7GgiaviNrlCTj+l5kdfMuFUPpRSrfMZuMcp3Fn2Pede2IuQrKEYwKSqFIZoNqJ"
    "4M8EajAsjLY2km32IIjdf8YL/P50F7mStwntrA2cPDrM1kb6mOcfBgRtWygb3VIYnSeOBrebufAlr7F9mFUPAJGj04="
)
KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"


def _raw_encrypt(plaintext: bytes, encoding_aes_key: str = SAFE_KEY, pad: bytes | None = None) -> str:
    """AES-CBC with WeChat's key and IV over ``plaintext`` + ``pad`` (PKCS#7 to 32 unless given)."""
    key = base64.b64decode(encoding_aes_key + "=")
    padded = plaintext + (pad if pad is not None else crypto.pkcs7_pad(plaintext)[len(plaintext) :])
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(padded) + encryptor.finalize()).decode()


def test_the_official_signature_vector():
    assert crypto.signature(**VERIFY) == VERIFY_SIGNATURE
    PushCrypto("AAAAA").verify(VERIFY_SIGNATURE, VERIFY["timestamp"], VERIFY["nonce"])


def test_the_official_safe_mode_vector_decrypts_to_the_debug_demo_event():
    push = PushCrypto("AAAAA", SAFE_KEY, SAFE_APPID)
    assert crypto.msg_signature("AAAAA", SAFE_TIMESTAMP, SAFE_NONCE, SAFE_ENCRYPT) == SAFE_MSG_SIGNATURE
    message = json.loads(push.decrypt(SAFE_MSG_SIGNATURE, SAFE_TIMESTAMP, SAFE_NONCE, SAFE_ENCRYPT))
    assert message["Event"] == "debug_demo"
    assert message["debug_str"] == "hello world"


def test_the_plain_signature_is_not_accepted_as_msg_signature():
    # The mistake of SDKs that check ``signature`` in safe mode: it does not cover Encrypt.
    push = PushCrypto("AAAAA", SAFE_KEY, SAFE_APPID)
    plain = crypto.signature("AAAAA", SAFE_TIMESTAMP, SAFE_NONCE)
    with pytest.raises(SignatureMismatch):
        push.decrypt(plain, SAFE_TIMESTAMP, SAFE_NONCE, SAFE_ENCRYPT)


@pytest.mark.parametrize(
    "given",
    [
        "0" * 40,
        VERIFY_SIGNATURE[:-1],
        VERIFY_SIGNATURE + "0",
        "",
        None,
        ["f464b24fc39322e44b38aa78f5edd27bd1441696"],
        "f464b24fc39322e44b38aa78f5edd27bd144169é",
    ],
)
def test_a_wrong_signature_is_refused(given):
    with pytest.raises(SignatureMismatch):
        PushCrypto("AAAAA").verify(given, VERIFY["timestamp"], VERIFY["nonce"])


def test_signatures_are_compared_in_constant_time(monkeypatch):
    seen = []
    real = crypto.hmac.compare_digest
    monkeypatch.setattr(crypto.hmac, "compare_digest", lambda a, b: seen.append((a, b)) or real(a, b))
    assert crypto.signatures_equal(VERIFY_SIGNATURE, VERIFY_SIGNATURE.upper())
    assert seen == [(VERIFY_SIGNATURE.encode(), VERIFY_SIGNATURE.encode())]


@pytest.mark.parametrize("message", ["", "短", "x" * 31, "y" * 32, '{"Event":"add_waybill"}' * 40])
def test_round_trip(message):
    ours = PushCrypto("tok3n", KEY, "wx1234567890abcdef")
    sealed = ours.encrypt(message, timestamp=1700000000, nonce="42")
    assert len(base64.b64decode(sealed.encrypt)) % crypto.PAD_BLOCK == 0
    assert sealed.msg_signature == crypto.msg_signature("tok3n", "1700000000", "42", sealed.encrypt)
    assert ours.decrypt(sealed.msg_signature, "1700000000", "42", sealed.encrypt).decode() == message
    assert ours.open_reply(sealed.reply_fields()).decode() == message
    assert sealed.push_query()["encrypt_type"] == "aes"
    assert sealed.push_query()["signature"] == crypto.signature("tok3n", "1700000000", "42")


def test_each_encryption_has_a_fresh_random_prefix():
    cipher = PushCipher(KEY, "wx1")
    assert cipher.encrypt("same") != cipher.encrypt("same")


def test_a_message_for_another_appid_is_refused():
    theirs = PushCrypto("AAAAA", SAFE_KEY, "wxsomeoneelse00001").encrypt("hello")
    ours = PushCrypto("AAAAA", SAFE_KEY, SAFE_APPID)
    with pytest.raises(AppIdMismatch):
        ours.decrypt(theirs.msg_signature, theirs.timestamp, theirs.nonce, theirs.encrypt)
    # The official vector is for wxba5fad812f8e6fb9 only.
    with pytest.raises(AppIdMismatch):
        PushCrypto("AAAAA", SAFE_KEY, "wxba5fad812f8e6fb8").decrypt(
            SAFE_MSG_SIGNATURE, SAFE_TIMESTAMP, SAFE_NONCE, SAFE_ENCRYPT
        )


def test_a_tampered_encrypt_fails_its_signature_before_any_decryption(monkeypatch):
    raw = bytearray(base64.b64decode(SAFE_ENCRYPT))
    raw[5] ^= 1
    tampered = base64.b64encode(bytes(raw)).decode()
    opened = []
    monkeypatch.setattr(PushCipher, "open", lambda self, e: opened.append(e))
    with pytest.raises(SignatureMismatch):
        PushCrypto("AAAAA", SAFE_KEY, SAFE_APPID).decrypt(
            SAFE_MSG_SIGNATURE, SAFE_TIMESTAMP, SAFE_NONCE, tampered
        )
    assert opened == []


def _framed(message: bytes, appid: bytes = SAFE_APPID.encode(), length: int | None = None) -> bytes:
    return b"r" * 16 + struct.pack(">I", len(message) if length is None else length) + message + appid


@pytest.mark.parametrize(
    ("encrypt", "why"),
    [
        ("not base64!", "not base64"),
        (base64.b64encode(b"x" * 20).decode(), "whole number of AES blocks"),
        ("", "whole number of AES blocks"),
        (_raw_encrypt(b"y" * 32, pad=b""), "padding"),  # last byte 'y' (121) is no pad
        (_raw_encrypt(b"z" * 31, pad=b"\x00"), "padding"),
        (_raw_encrypt(b"z" * 30, pad=b"\x01\x02"), "padding"),
        (_raw_encrypt(b"z" * 16, pad=bytes([48]) * 16), "padding"),  # more than 32
        (_raw_encrypt(b"short"), "shorter than its header"),
        (_raw_encrypt(_framed(b"hello", length=500)), "length field"),
    ],
)
def test_an_undecryptable_encrypt_is_refused(encrypt, why):
    with pytest.raises(UndecryptableMessage, match=why):
        PushCipher(SAFE_KEY, SAFE_APPID).decrypt(encrypt)


def test_a_length_field_too_short_leaves_the_appid_wrong():
    with pytest.raises(AppIdMismatch):
        PushCipher(SAFE_KEY, SAFE_APPID).decrypt(_raw_encrypt(_framed(b"hello", length=3)))


def test_hand_framed_plaintext_decrypts():
    assert PushCipher(SAFE_KEY, SAFE_APPID).decrypt(_raw_encrypt(_framed("你好".encode()))) == "你好".encode()


@pytest.mark.parametrize(
    ("key", "why"),
    [("A" * 42, "43 characters"), ("A" * 44, "43 characters"), ("A" * 42 + "!", "letters, digits")],
)
def test_an_encoding_aes_key_of_the_wrong_shape_is_refused(key, why):
    with pytest.raises(InvalidAESKey, match=why):
        PushCipher(key, SAFE_APPID)


def test_no_secret_in_reprs():
    push = PushCrypto("tok3n-secret", KEY, "wx1")
    assert "tok3n" not in repr(push) and KEY not in repr(push) and KEY not in repr(push.cipher)


def test_the_module_imports_no_django():
    import subprocess
    import sys

    code = (
        "import sys, django_wxlogistics.events.crypto, django_wxlogistics.events.wire;"
        "print('django' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"

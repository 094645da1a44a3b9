"""WeChat's message-push cryptography in plain Python: signatures, AES safe mode, signed replies.

No Django here: the sandbox, which plays WeChat's side and must not import Django, uses this
module to sign and encrypt the pushes it sends and to check the replies it gets.

* ``signature = sha1("".join(sorted([token, timestamp, nonce])))``: URL verification and
  plain-mode pushes.
* ``msg_signature = sha1("".join(sorted([token, timestamp, nonce, Encrypt])))``: safe mode
  (``encrypt_type=aes``); there the body's ``Encrypt`` is what is signed, not the URL.
* ``Encrypt`` = base64(AES-256-CBC(plaintext)) with key = base64decode(EncodingAESKey + "="),
  IV = key[:16], PKCS#7 padding to 32-byte blocks, and plaintext = 16 random bytes + the
  message's length (4 bytes, big-endian) + the message + the AppID it is meant for.

Signatures are compared in constant time, and a body is decrypted only once its signature
is verified, so a wrong padding cannot be used as an oracle.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import struct
import time
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

#: WeChat pads to 32-byte blocks (AES itself works on 16).
PAD_BLOCK = 32
#: An EncodingAESKey is 43 characters of base64 (32 bytes once "=" is added).
ENCODING_AES_KEY_LENGTH = 43
_RANDOM_PREFIX = 16
_LENGTH = struct.Struct(">I")


class PushCryptoError(ValueError):
    """A push or reply that cannot be trusted or read; the message says why, never a secret."""


class SignatureMismatch(PushCryptoError):
    """The signature (or msg_signature) is not the one our Token gives."""


class AppIdMismatch(PushCryptoError):
    """The message decrypted, but it was encrypted for another AppID."""


class UndecryptableMessage(PushCryptoError):
    """``Encrypt`` is signed correctly but is not base64, whole AES blocks, padding or framing."""


class InvalidAESKey(PushCryptoError):
    """The EncodingAESKey is not 43 characters of base64 for 32 bytes."""


def signature(token: str, timestamp: str, nonce: str, *more: str) -> str:
    """SHA-1 (hex) of the sorted, joined parts: ``signature``, and with Encrypt ``msg_signature``."""
    parts = sorted([str(token), str(timestamp), str(nonce), *(str(m) for m in more)])
    return hashlib.sha1("".join(parts).encode("utf-8")).hexdigest()  # noqa: S324 (WeChat's algorithm)


def msg_signature(token: str, timestamp: str, nonce: str, encrypt: str) -> str:
    """The safe-mode signature: over Token, timestamp, nonce and the body's ``Encrypt``."""
    return signature(token, timestamp, nonce, encrypt)


def signatures_equal(expected: str, given: object) -> bool:
    """Constant-time comparison; anything but ASCII text is simply not equal."""
    if not isinstance(given, str):
        return False
    try:
        given_bytes = given.lower().encode("ascii")
    except UnicodeEncodeError:
        return False
    return hmac.compare_digest(expected.encode("ascii"), given_bytes)


def decode_aes_key(encoding_aes_key: str) -> bytes:
    """The 32-byte AES key of an EncodingAESKey; InvalidAESKey says what is wrong with it."""
    if not isinstance(encoding_aes_key, str) or len(encoding_aes_key) != ENCODING_AES_KEY_LENGTH:
        length = len(encoding_aes_key) if isinstance(encoding_aes_key, str) else 0
        raise InvalidAESKey(
            f"The EncodingAESKey must have {ENCODING_AES_KEY_LENGTH} characters; this one has {length}."
        )
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except (binascii.Error, ValueError):
        raise InvalidAESKey("The EncodingAESKey must use only letters, digits, '+' and '/'.") from None
    if len(key) != 32:  # pragma: no cover - 43 base64 characters always give 32 bytes
        raise InvalidAESKey("The EncodingAESKey does not decode to 32 bytes.")
    return key


def new_nonce() -> str:
    """A random nonce, digits as WeChat sends them."""
    return str(secrets.randbelow(10**10))


def pkcs7_pad(data: bytes, block: int = PAD_BLOCK) -> bytes:
    pad = block - len(data) % block
    return data + bytes([pad]) * pad


def pkcs7_unpad(data: bytes, block: int = PAD_BLOCK) -> bytes:
    """``data`` without its padding; UndecryptableMessage when the padding is not PKCS#7."""
    if not data:
        raise UndecryptableMessage("The decrypted message is empty.")
    pad = data[-1]
    if not 1 <= pad <= block or pad > len(data) or data[-pad:] != bytes([pad]) * pad:
        raise UndecryptableMessage("The decrypted message has no valid PKCS#7 padding.")
    return data[:-pad]


class PushCipher:
    """AES-256-CBC as WeChat's safe mode uses it, for one EncodingAESKey and one AppID."""

    def __init__(self, encoding_aes_key: str, appid: str) -> None:
        self._key = decode_aes_key(encoding_aes_key)
        self.appid = appid

    def __repr__(self) -> str:
        return f"<PushCipher appid={self.appid!r}>"  # never the key

    def _cipher(self) -> Cipher:
        return Cipher(algorithms.AES(self._key), modes.CBC(self._key[:16]))

    def encrypt(self, message: bytes | str, *, random_prefix: bytes | None = None) -> str:
        """``Encrypt`` for ``message``, addressed to our AppID."""
        if isinstance(message, str):
            message = message.encode("utf-8")
        prefix = secrets.token_bytes(_RANDOM_PREFIX) if random_prefix is None else random_prefix
        if len(prefix) != _RANDOM_PREFIX:
            raise ValueError(f"random_prefix must have {_RANDOM_PREFIX} bytes")
        plaintext = prefix + _LENGTH.pack(len(message)) + message + self.appid.encode("utf-8")
        encryptor = self._cipher().encryptor()
        ciphertext = encryptor.update(pkcs7_pad(plaintext)) + encryptor.finalize()
        return base64.b64encode(ciphertext).decode("ascii")

    def open(self, encrypt: str) -> tuple[bytes, str]:
        """The message and the AppID it names, without judging the AppID (see :meth:`decrypt`)."""
        try:
            ciphertext = base64.b64decode(encrypt, validate=True)
        except (binascii.Error, ValueError, TypeError):
            raise UndecryptableMessage("Encrypt is not base64.") from None
        if not ciphertext or len(ciphertext) % 16:
            raise UndecryptableMessage("Encrypt is not a whole number of AES blocks.")
        decryptor = self._cipher().decryptor()
        content = pkcs7_unpad(decryptor.update(ciphertext) + decryptor.finalize())
        header = _RANDOM_PREFIX + _LENGTH.size
        if len(content) < header:
            raise UndecryptableMessage("The decrypted message is shorter than its header.")
        (length,) = _LENGTH.unpack_from(content, _RANDOM_PREFIX)
        if header + length > len(content):
            raise UndecryptableMessage("The decrypted message's length field exceeds the message.")
        try:
            appid = content[header + length :].decode("utf-8")
        except UnicodeDecodeError:
            raise UndecryptableMessage("The decrypted message's AppID is not text.") from None
        return content[header : header + length], appid

    def decrypt(self, encrypt: str) -> bytes:
        """The message in ``Encrypt``; AppIdMismatch unless it was encrypted for our AppID."""
        message, appid = self.open(encrypt)
        if not hmac.compare_digest(appid.encode("utf-8"), self.appid.encode("utf-8")):
            raise AppIdMismatch("The message was encrypted for another AppID.")
        return message


@dataclass(frozen=True)
class SignedEncrypted:
    """An encrypted message with its signature: a safe-mode push, or our reply to one."""

    encrypt: str
    msg_signature: str
    timestamp: str
    nonce: str
    #: the plain ``signature`` over Token, timestamp and nonce (a push's URL carries it too)
    signature: str

    def reply_fields(self) -> dict[str, str]:
        """The fields of a safe-mode reply body: Encrypt, MsgSignature, TimeStamp, Nonce."""
        return {
            "Encrypt": self.encrypt,
            "MsgSignature": self.msg_signature,
            "TimeStamp": self.timestamp,
            "Nonce": self.nonce,
        }

    def push_query(self) -> dict[str, str]:
        """The query string WeChat puts on a safe-mode push's URL."""
        return {
            "signature": self.signature,
            "timestamp": self.timestamp,
            "nonce": self.nonce,
            "encrypt_type": "aes",
            "msg_signature": self.msg_signature,
        }


class PushCrypto:
    """One party's side of message push: our Token, and our EncodingAESKey and AppID if set.

    ``PushCrypto(token)`` is enough for plain mode; safe mode needs ``encoding_aes_key`` and
    ``appid``. The same object signs and encrypts (WeChat's side, or our replies) and
    verifies and decrypts (our side, or a reply received).
    """

    def __init__(self, token: str, encoding_aes_key: str = "", appid: str = "") -> None:
        self.token = token
        self.cipher = PushCipher(encoding_aes_key, appid) if encoding_aes_key else None

    def __repr__(self) -> str:
        return f"<PushCrypto safe_mode={self.cipher is not None}>"  # never the Token

    def _require_cipher(self) -> PushCipher:
        if self.cipher is None:
            raise InvalidAESKey("Safe mode needs an EncodingAESKey.")
        return self.cipher

    def verify(self, given_signature: object, timestamp: str, nonce: str) -> None:
        """URL verification and plain mode; SignatureMismatch if ``given_signature`` is wrong."""
        if not signatures_equal(signature(self.token, timestamp, nonce), given_signature):
            raise SignatureMismatch("The signature does not match the push Token.")

    def verify_encrypted(self, given_msg_signature: object, timestamp: str, nonce: str, encrypt: str) -> None:
        """Safe mode: ``msg_signature`` over Encrypt (never the URL's ``signature``)."""
        expected = msg_signature(self.token, timestamp, nonce, encrypt)
        if not signatures_equal(expected, given_msg_signature):
            raise SignatureMismatch("The msg_signature does not match the push Token and Encrypt.")

    def decrypt(self, given_msg_signature: object, timestamp: str, nonce: str, encrypt: str) -> bytes:
        """Verify ``msg_signature`` first, then decrypt and check the AppID."""
        cipher = self._require_cipher()
        self.verify_encrypted(given_msg_signature, timestamp, nonce, encrypt)
        return cipher.decrypt(encrypt)

    def encrypt(
        self, message: bytes | str, timestamp: str | int | None = None, nonce: str | None = None
    ) -> SignedEncrypted:
        """Encrypt and sign ``message`` (a push as WeChat sends it, or a safe-mode reply)."""
        encrypt = self._require_cipher().encrypt(message)
        timestamp = str(int(time.time()) if timestamp is None else timestamp)
        nonce = new_nonce() if nonce is None else nonce
        return SignedEncrypted(
            encrypt=encrypt,
            msg_signature=msg_signature(self.token, timestamp, nonce, encrypt),
            timestamp=timestamp,
            nonce=nonce,
            signature=signature(self.token, timestamp, nonce),
        )

    def open_reply(self, fields: Mapping[str, object]) -> bytes:
        """The message of a safe-mode reply (Encrypt, MsgSignature, TimeStamp, Nonce), verified."""
        encrypt, given, timestamp, nonce = (
            fields.get(name) for name in ("Encrypt", "MsgSignature", "TimeStamp", "Nonce")
        )
        if not all(
            isinstance(v, (str, int)) and not isinstance(v, bool) for v in (encrypt, timestamp, nonce)
        ):
            raise UndecryptableMessage("The reply lacks Encrypt, TimeStamp or Nonce.")
        return self.decrypt(given, str(timestamp), str(nonce), str(encrypt))

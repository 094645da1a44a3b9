"""How a push body is kept at rest: sealed (AES-GCM) under a key derived from ``SECRET_KEY``.

The body as received may hold the waybill's Token and the contacts in the clear (plain mode),
or everything under the EncodingAESKey (safe mode). Sealing makes both as safe at rest as
``SECRET_KEY`` is, and keeps the body whole for "process again". A body sealed under a key
now in ``SECRET_KEY_FALLBACKS`` still opens; one sealed under a key since dropped does not.
"""

from __future__ import annotations

import base64
import binascii
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.utils.crypto import salted_hmac

_PREFIX = "v1:"
_SALT = "django_wxlogistics.events.sealed_body"
_ASSOCIATED = b"django_wxlogistics inbound event body"


class SealError(ValueError):
    """A sealed body that cannot be opened (SECRET_KEY changed, or the text is damaged)."""


def _key(secret: str | bytes) -> bytes:
    return salted_hmac(_SALT, "aes-gcm", secret=secret, algorithm="sha256").digest()


def seal(body: bytes) -> str:
    nonce = os.urandom(12)
    sealed = AESGCM(_key(settings.SECRET_KEY)).encrypt(nonce, body, _ASSOCIATED)
    return _PREFIX + base64.b64encode(nonce + sealed).decode("ascii")


def unseal(text: str) -> bytes:
    if not text.startswith(_PREFIX):
        raise SealError("The stored body is not sealed by this version.")
    try:
        raw = base64.b64decode(text[len(_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise SealError("The stored body is damaged.") from None
    nonce, sealed = raw[:12], raw[12:]
    for secret in (settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", ())):
        try:
            return AESGCM(_key(secret)).decrypt(nonce, sealed, _ASSOCIATED)
        except InvalidTag:
            continue
    raise SealError("The stored body was sealed under a SECRET_KEY this project no longer has.")

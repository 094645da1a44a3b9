"""What of a push may be stored in the clear and shown: secrets removed, contacts masked.

A push carries the waybill's Token and the merchant's BizPwd (secrets: never shown, logged or
stored in the clear) and the sender's and receiver's names, phones and addresses (personal
data: masked as the admin masks contacts). :func:`redacted_view` is what the stored delivery
shows; :func:`storable` makes any text safe for the database (no NUL, no lone surrogate,
cut to size).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..masking import encodable, mask_address, mask_name, mask_phone
from ..redaction import PLACEHOLDER

#: Fields whose values are secrets, in any object of a push or reply (compared lower case).
SECRET_FIELDS = frozenset({"token", "bizpwd", "accountpwd", "encrypt"})
#: Fields holding personal data, and how each is masked (compared lower case).
PERSONAL_FIELDS = {
    "name": mask_name,
    "tel": mask_phone,
    "mobile": mask_phone,
    "address": mask_address,
    "senderphone": mask_phone,
    "receiverphone": mask_phone,
    "pickupcourierphone": mask_phone,
    "deliverycourierphone": mask_phone,
    "pickupcouriername": mask_name,
    "deliverycouriername": mask_name,
}
#: Objects whose ``Name`` is a person's (a cargo item's ``Name`` is not).
PEOPLE = frozenset({"sender", "receiver"})
#: The longest text kept of one value.
MAX_TEXT = 1000
_MAX_ITEMS = 200


def storable(text: Any, limit: int = MAX_TEXT) -> str:
    """``text`` as a string any database column can hold, cut to ``limit`` characters."""
    return encodable(str(text)).replace("\x00", "\ufffd")[:limit]


def redacted_view(fields: Mapping[str, Any]) -> dict[str, Any]:
    """``fields`` with every secret replaced and every contact masked, ready to store and show."""
    return _redact_mapping(fields, parent="")


def _redact_mapping(fields: Mapping[str, Any], parent: str) -> dict[str, Any]:
    view: dict[str, Any] = {}
    for key, value in list(fields.items())[:_MAX_ITEMS]:
        name = storable(key, 64)
        view[name] = _redact_value(name.lower(), value, parent)
    return view


def _redact_value(name: str, value: Any, parent: str) -> Any:
    if name in SECRET_FIELDS:
        return PLACEHOLDER if value not in (None, "") else value
    if isinstance(value, Mapping):
        return _redact_mapping(value, parent=name)
    if isinstance(value, list):
        return [_redact_value(name, item, parent) for item in value[:_MAX_ITEMS]]
    if isinstance(value, (bool, int, float)) or value is None:
        return value
    text = storable(value)
    mask = PERSONAL_FIELDS.get(name)
    if mask is not None and text and (name != "name" or parent in PEOPLE):
        return mask(text)
    return text

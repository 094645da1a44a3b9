"""Masking hides something of every non-empty name, phone and address, whatever its length or script."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from django_wxlogistics.contacts import Contact, Party
from django_wxlogistics.masking import mask_address, mask_name, mask_phone

MASKS: dict[str, Callable[[str], str]] = {"name": mask_name, "phone": mask_phone, "address": mask_address}

#: Characters of every kind a contact may hold; "*" is the mask itself and left out.
SAMPLES = [
    "王",
    "a",
    "7",
    "😀",  # outside the Basic Multilingual Plane: one character, two UTF-16 units
    "👨‍👩‍👧",  # a ZWJ sequence: several characters, one glyph
    "é",  # e and a combining accent
    "-",
    "+",
    "\u3000",  # the ideographic space
]
ANY_TEXT = st.text(
    alphabet=st.characters(exclude_characters="*", exclude_categories=["Cs"])
    | st.characters(categories=["Cs"]),
    min_size=1,
    max_size=40,
)


def shown(value: str) -> int:
    """How many characters a reader can take from the text: all but whitespace and masks."""
    return sum(1 for ch in value if not ch.isspace() and ch != "*")


def assert_hides_something(value: str, masked: str) -> None:
    assert masked != value
    assert "*" in masked
    # UTF-8 can carry it: a lone surrogate never reaches an answer.
    masked.encode("utf-8")
    if value.strip():  # it hides something a reader could have read, not only whitespace
        assert shown(masked) < shown(value), (value, masked)


@pytest.mark.parametrize("kind", MASKS)
@pytest.mark.parametrize("sample", SAMPLES)
@pytest.mark.parametrize("length", [1, 2, 3, 4, 5, 6, 7, 8, 11, 12, 13, 20, 50])
def test_every_length_hides_something(kind: str, sample: str, length: int) -> None:
    value = sample * length
    assert_hides_something(value, MASKS[kind](value))


@pytest.mark.parametrize("kind", MASKS)
@pytest.mark.parametrize("value", [" ", "  ", "\t", "\u3000", " \n "])
def test_whitespace_only_is_masked_too(kind: str, value: str) -> None:
    masked = MASKS[kind](value)
    assert masked and set(masked) == {"*"}


@pytest.mark.parametrize("kind", MASKS)
@pytest.mark.parametrize("value", ["王 ", " 王", " 王 ", "王\u3000", "广东省广州市 ", " 1", "1 "])
def test_surrounding_whitespace_does_not_make_a_value_seem_longer(kind: str, value: str) -> None:
    # "王 " masked as "王*" would hide only the space.
    assert_hides_something(value, MASKS[kind](value))


@pytest.mark.parametrize("kind", MASKS)
def test_empty_stays_empty(kind: str) -> None:
    assert MASKS[kind]("") == ""


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("王", "*"),
        ("王小", "王*"),
        ("王小萌", "王**"),
        ("Jim", "J**"),
        (" 王 ", "*"),
        ("😀", "*"),
        ("😀😀", "😀*"),
    ],
)
def test_mask_name(value: str, masked: str) -> None:
    assert mask_name(value) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [("1", "*"), ("12", "*2"), ("123", "**3"), ("1234", "**34"), ("无", "*"), ("n/a", "***"), ("+86", "+*6")],
)
def test_short_and_digitless_phones(value: str, masked: str) -> None:
    assert mask_phone(value) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [("北", "*"), ("广州市", "***"), ("广东省广州市", "******"), ("广东省广州市天", "广东省****")],
)
def test_short_addresses(value: str, masked: str) -> None:
    assert mask_address(value) == masked


@settings(max_examples=400, deadline=None)
@given(kind=st.sampled_from(sorted(MASKS)), value=ANY_TEXT)
def test_any_text_hides_something(kind: str, value: str) -> None:
    assert_hides_something(value, MASKS[kind](value))


@settings(max_examples=200, deadline=None)
@given(digits=st.text(alphabet="0123456789", min_size=1, max_size=20), sep=st.sampled_from(["", "-", " "]))
def test_any_number_keeps_fewer_digits_than_it_has(digits: str, sep: str) -> None:
    value = sep.join([digits[:3], digits[3:]]) if len(digits) > 3 else digits
    masked = mask_phone(value)
    kept = sum(ch.isdigit() for ch in masked)
    assert kept < len(digits), (value, masked)
    if not digits.startswith("00"):  # a country code (0086…) is shown as written
        hidden = 3 if len(digits) >= 10 else (len(digits) + 1) // 2
        assert len(digits) - kept >= hidden, (value, masked)


@settings(max_examples=200, deadline=None)
@given(fields=st.fixed_dictionaries({f: ANY_TEXT for f in ("name", "tel", "mobile", "address")}))
def test_a_masked_contact_hides_something_of_every_field(fields: dict[str, str]) -> None:
    party = Party.from_api(fields)
    contact = Contact("SF1", sender=party, receiver=Party.from_api([fields])).masked()
    for masked_party in (contact.sender, contact.receiver):
        for field, masked in masked_party.as_dict().items():
            assert_hides_something(getattr(party, field), masked)


def test_lone_surrogates_from_wechat_become_replacement_characters() -> None:
    # JSON may carry half of a surrogate pair ("\ud83d"); UTF-8 cannot.
    party = Party.from_api({"name": "王\ud83d", "address": "广州\udc00市"})
    assert party.name == "王\ufffd" and party.address == "广州\ufffd市"
    party.name.encode("utf-8")

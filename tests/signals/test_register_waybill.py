"""services.register_waybill: for shops that receive the waybill Token in their own code."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings

from django_wxlogistics.exceptions import ConfigurationError
from django_wxlogistics.models import Waybill
from django_wxlogistics.services import InvalidWaybill, register_waybill
from django_wxlogistics.signals import waybill_registered

pytestmark = pytest.mark.django_db


@pytest.fixture
def registered():
    heard: list[dict] = []

    def receiver(sender, **kwargs):
        heard.append(kwargs)

    waybill_registered.connect(receiver)
    yield heard
    waybill_registered.disconnect(receiver)


def test_registers_the_waybill_of_an_order(order, registered):
    waybill = register_waybill(order, "SF123", "wb-token")
    waybill.refresh_from_db()
    assert (waybill.order_id, waybill.token) == (order.number, "wb-token")  # ORDER_ID_ATTR = "number"
    assert registered == [{"signal": waybill_registered, "waybill": waybill, "order": order, "created": True}]


def test_registering_again_updates_the_order_and_token(order, registered):
    register_waybill("SO-OLD", "SF123", "old-token")
    waybill = register_waybill(order, "SF123", "new-token")
    assert Waybill.objects.count() == 1
    waybill.refresh_from_db()
    assert (waybill.order_id, waybill.token) == (order.number, "new-token")
    assert [h["created"] for h in registered] == [True, False]


def test_an_order_id_can_be_given_directly(db):
    assert register_waybill(42, "SF1", "t").order_id == "42"
    assert register_waybill("SO-9", "SF2", "t").order_id == "SO-9"


@override_settings(WXLOGISTICS={"ORDER_ID_ATTR": "pk"})
def test_the_primary_key_by_default(order):
    assert register_waybill(order, "SF1", "t").order_id == str(order.pk)


@pytest.mark.parametrize(
    ("order_id", "waybill_id", "token", "field", "message"),
    [
        ("SO1", "", "secret-wb-token", "waybill_id", "must have 1 to 64 characters"),
        ("SO1", "x" * 65, "secret-wb-token", "waybill_id", "must have 1 to 64 characters"),
        ("SO1", "SF 1", "secret-wb-token", "waybill_id", "Use only letters, digits"),
        ("SO1", "SF\x001", "secret-wb-token", "waybill_id", "Use only letters, digits"),
        ("SO1", None, "secret-wb-token", "waybill_id", "must be text"),
        ("SO1", "SF1", None, "token", "must be text"),
        ("SO1", "SF1", "s" * 257, "token", "the most is 256"),
        ("SO1", "SF1", "secret\x00wb-token", "token", "NUL characters"),
        ("   ", "SF1", "secret-wb-token", "order_id", "only spaces"),
        ("", "SF1", "secret-wb-token", "order_id", "only spaces"),
        ("S" * 65, "SF1", "secret-wb-token", "order_id", "the most is 64"),
        ("SO\x001", "SF1", "secret-wb-token", "order_id", "NUL characters"),
        ("SO\ud800", "SF1", "secret-wb-token", "order_id", "UTF-8"),
    ],
)
def test_bad_arguments_say_what_to_fix(db, order_id, waybill_id, token, field, message):
    with pytest.raises(InvalidWaybill) as excinfo:
        register_waybill(order_id, waybill_id, token)
    # A ValidationError naming the field, and the ValueError the function has always raised.
    assert isinstance(excinfo.value, ValidationError) and isinstance(excinfo.value, ValueError)
    assert list(excinfo.value.message_dict) == [field]
    assert message in excinfo.value.message_dict[field][0]
    if token:
        assert token not in str(excinfo.value)
    assert not Waybill.objects.exists()


def test_an_order_without_the_id_attribute_names_the_setting(db):
    with pytest.raises(ConfigurationError, match=r"WXLOGISTICS\['ORDER_ID_ATTR'\] is 'number'"):
        register_waybill(object(), "SF1", "t")

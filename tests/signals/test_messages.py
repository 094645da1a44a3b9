"""Message templates: safe rendering, start-up checks, and the runtime fallback."""

from __future__ import annotations

import logging
import re
import string
import sys

import pytest
from django.core.checks import run_checks
from django.test import override_settings
from hypothesis import example, given, settings
from hypothesis import strategies as st

from django_wxlogistics.enums import ACTION_MSG_MAX_LENGTH, ActionType
from django_wxlogistics.models import TraceEvent
from django_wxlogistics.signals import order_status_changed
from django_wxlogistics.trace_messages import (
    DEFAULT_MESSAGES,
    RefusedPlaceholderError,
    StatusAction,
    TemplateFormatter,
    UnknownPlaceholderError,
    default_message,
    render_message,
    split_field_name,
    truncate,
)
from example_project.shop.models import Order

BASE = {"APPID": "wxtest", "APPSECRET": "s", "ORDER_ID_ATTR": "number"}


def settings_with(template, **extra):
    return override_settings(
        WXLOGISTICS={
            **BASE,
            "STATUS_ACTIONS": {"shipped": {"action_type": 100001, "message": template}},
            **extra,
        }
    )


def integration_ids(messages):
    """The ids of this part's checks (E030-E039, W030-W039), in order."""
    return [m.id for m in messages if m.id and re.fullmatch(r"wxlogistics\.[EW]03\d", m.id)]


def check_ids(template, **extra):
    with settings_with(template, **extra):
        return integration_ids(run_checks())


def render(template, order=None, status="shipped"):
    order = order or Order(number="SO1", courier_name="邓丽君", courier_phone="18666666666")
    waybill = type("W", (), {"waybill_id": "SF1", "order_id": "SO1", "token": "secret-token"})()
    return TemplateFormatter().format(template, order=order, waybill=waybill, status=status)


class TestTemplateFormatter:
    def test_names_and_attributes(self):
        assert render("{order.courier_name} [{order.courier_phone}] {waybill.waybill_id} {status}") == (
            "邓丽君 [18666666666] SF1 shipped"
        )

    def test_format_specs_and_conversions_work(self):
        assert render("{status:>9}|{status!r}") == "  shipped|'shipped'"

    @pytest.mark.parametrize(
        "template",
        [
            "{order._state}",
            "{order.__class__.__init__.__globals__}",
            "{order.save}",
            "{waybill.token}",
            "{order.user_password}",
            "{status.upper}",
        ],
    )
    def test_refuses_what_a_message_must_not_show(self, template):
        with pytest.raises(RefusedPlaceholderError):
            render(template)

    def test_refuses_indexing(self):
        with pytest.raises(RefusedPlaceholderError, match="indexing"):
            render("{order.courier_name[0]}")

    @pytest.mark.parametrize("template", ["{}", "{0}", "{settings}", "{orderx.number}"])
    def test_refuses_unknown_names(self, template):
        with pytest.raises(UnknownPlaceholderError):
            render(template)

    def test_refuses_huge_widths(self):
        with pytest.raises(ValueError, match="more than"):
            render("{status:>999999999}")


def _str_format_split(field_name: str):
    """What str.format itself reads, by CPython's own parser: the reference, in tests only."""
    first, rest = string._string.formatter_field_name_split(field_name)  # type: ignore[attr-defined]
    return first, list(rest)


FIELD_NAME_PARTS = st.sampled_from(
    ["order", "waybill", "_x", "a", "0", "12", "٣", "²", ".", "[", "]", "ß", " "]
)


@settings(max_examples=1500, deadline=None)
@given(field_name=st.lists(FIELD_NAME_PARTS, max_size=8).map("".join) | st.text(max_size=10))
@example(field_name="order.items[0].name[key.with.dots]")
@example(field_name="9" * 30 + ".x")
@example(field_name="order[" + "9" * 30 + "]")
@example(field_name=str(sys.maxsize) + "x")
@example(field_name="order[0]x")
@example(field_name="order[]")
@example(field_name="order.")
@example(field_name="order[0")
def test_field_names_are_split_as_str_format_splits_them(field_name):
    try:
        expected = _str_format_split(field_name)
    except ValueError as exc:
        with pytest.raises(ValueError) as raised:
            split_field_name(field_name)
        assert str(raised.value) == str(exc)
    else:
        assert split_field_name(field_name) == expected


def test_truncate_cuts_cleanly():
    assert truncate("  short  ") == "short"
    cut = truncate("字" * (ACTION_MSG_MAX_LENGTH + 50))
    assert len(cut) == ACTION_MSG_MAX_LENGTH
    assert cut.endswith("…")


def test_every_action_type_has_a_default_message():
    assert set(DEFAULT_MESSAGES) == set(ActionType)
    for action_type in ActionType:
        assert 0 < len(default_message(action_type)) <= ACTION_MSG_MAX_LENGTH


class TestChecks:
    def test_a_good_template_passes(self):
        assert (
            check_ids("快递员 {order.courier_name} [{order.courier_phone}] 派送 {waybill.waybill_id}") == []
        )

    def test_syntax_error(self):
        with settings_with("Courier {order.courier_name"):
            (error,) = [m for m in run_checks() if m.id == "wxlogistics.E031"]
        assert "['shipped']" in error.msg
        assert error.hint

    def test_bad_conversion_is_a_syntax_error(self):
        assert check_ids("{status!x}") == ["wxlogistics.E031"]

    def test_unknown_placeholder(self):
        with settings_with("Courier {courier} is coming"):
            (error,) = [m for m in run_checks() if m.id == "wxlogistics.E032"]
        assert "{courier}" in error.msg
        assert "{order}, {waybill}, {status}" in error.hint

    def test_nested_placeholders_are_checked_too(self):
        assert check_ids("{status:{width}}") == ["wxlogistics.E032"]

    @pytest.mark.parametrize("template", ["{order._state.db}", "{waybill.token}", "{order.number[0]}"])
    def test_refused_placeholder(self, template):
        assert check_ids(template) == ["wxlogistics.E033"]

    def test_unknown_order_attribute_with_order_model(self):
        assert check_ids("{order.courier_phon}", ORDER_MODEL="shop.Order") == ["wxlogistics.W030"]
        assert check_ids("{order.courier_phon}") == []  # the order's class is unknown without ORDER_MODEL

    def test_malformed_entries(self):
        with override_settings(
            WXLOGISTICS={
                **BASE,
                "STATUS_ACTIONS": {
                    "shipped": {"action_type": 100001, "mesage": "typo"},
                    "delivered": {"action_type": 300003, "message": ""},
                },
            }
        ):
            ids = integration_ids(run_checks())
        assert ids == ["wxlogistics.E030", "wxlogistics.E030"]

    def test_overlong_text(self):
        assert check_ids("x" * (ACTION_MSG_MAX_LENGTH + 1)) == ["wxlogistics.W032"]


@pytest.mark.django_db
class TestRuntimeFallback:
    def send(self, order):
        order_status_changed.send(sender=Order, order=order, old_status="paid", new_status="shipped")

    @pytest.fixture
    def order(self, waybills, order):
        return order

    def test_an_attribute_error_falls_back_to_the_default_with_a_warning(self, order, caplog):
        with settings_with("Courier {order.courier_phon}"):
            self.send(order)
        assert set(TraceEvent.objects.values_list("action_msg", flat=True)) == {
            "Your parcel has been picked up by the courier."
        }
        warning = next(r for r in caplog.records if r.levelno == logging.WARNING)
        assert "AttributeError" in warning.getMessage()
        assert "default message is used" in warning.getMessage()

    def test_a_refused_placeholder_falls_back(self, order, caplog):
        with settings_with("{waybill.token}"):
            self.send(order)
        assert TraceEvent.objects.count() == 2
        for waybill in order_waybills(order):
            assert waybill.token not in caplog.text
            assert waybill.events.get().action_msg == "Your parcel has been picked up by the courier."

    def test_an_empty_rendering_falls_back(self, order, caplog):
        order.courier_name = " "
        with settings_with("{order.courier_name}"):
            self.send(order)
        assert (
            TraceEvent.objects.filter(action_msg="Your parcel has been picked up by the courier.").count()
            == 2
        )
        assert "rendered empty text" in caplog.text

    def test_a_long_rendering_is_cut_not_lost(self, order):
        order.customer_name = "长" * 1000
        with settings_with("{order.customer_name}"):
            self.send(order)
        msgs = set(TraceEvent.objects.values_list("action_msg", flat=True))
        assert len(msgs) == 1
        (msg,) = msgs
        assert len(msg) == ACTION_MSG_MAX_LENGTH
        assert msg.endswith("…")


def order_waybills(order):
    from django_wxlogistics.models import Waybill

    return Waybill.objects.filter(order_id=order.number)


def test_render_message_without_a_template_is_the_default():
    action = StatusAction("shipped", ActionType.SIGNED)
    assert (
        render_message(action, order=None, waybill=None) == "Your parcel has been delivered and signed for."
    )

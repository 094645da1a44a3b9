"""Serializers: thin over the models; trace events are validated by the services layer.

A waybill's ``token`` is write-only: it is never in a response, an error body or the
browsable API's re-rendered form.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.fields import empty

from ..enums import ACTION_MSG_MAX_LENGTH, ActionType, EventState, ShippingCall
from ..models import Payment, ShippingInfo, TraceEvent, Waybill
from ..models.outbox import SHOWN_FIELDS
from ..services import (
    ORDER_ID_MAX_LENGTH,
    TOKEN_MAX_LENGTH,
    WAYBILL_ID_MAX_LENGTH,
    WAYBILL_ID_PATTERN,
    clean_trace_event,
    clean_waybill,
    record_trace_event,
)
from .framework import ISODates, ISODateTimeField
from .openapi import extend_schema_field
from .permissions import AnswerAsAllowed


def _from_a_form(field: serializers.Field) -> bool:
    """Form and multipart bodies carry only text; JSON carries types, which must match."""
    return isinstance(getattr(field.root, "initial_data", None), QueryDict)


class TextField(serializers.CharField):
    """A CharField that refuses numbers and booleans instead of turning them into text, and
    keeps the text as given (limits apply to what the client sent, as the schema says)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**{"trim_whitespace": False, **kwargs})

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class CheckedTextField(TextField):
    """Text whose rules ``clean_waybill`` checks in ``validate()``, as for ``register_waybill``.

    Only the type is checked here; the schema states the rules (``extend_schema_field``).
    """

    def run_validation(self, data: Any = empty) -> Any:
        if data == "":  # clean_waybill says why, in the same words as for Python callers
            return data
        return super().run_validation(data)


@extend_schema_field(
    {
        "type": "string",
        "pattern": WAYBILL_ID_PATTERN.replace("\\Z", "$"),
        "maxLength": WAYBILL_ID_MAX_LENGTH,
        "minLength": 1,
    }
)
class WaybillIdField(CheckedTextField):
    pass


@extend_schema_field({"type": "string", "maxLength": ORDER_ID_MAX_LENGTH, "minLength": 1})
class OrderIdField(CheckedTextField):
    pass


@extend_schema_field({"type": "string", "writeOnly": True, "maxLength": TOKEN_MAX_LENGTH})
class TokenField(CheckedTextField):
    pass


class DeliverySerializer(serializers.Serializer):
    """How many of a waybill's trace events stand in each state."""

    pending = serializers.IntegerField(help_text=_("Waiting to be pushed (or being retried)."))
    sending = serializers.IntegerField(help_text=_("Being pushed by a worker now."))
    sent = serializers.IntegerField(help_text=_("Accepted by WeChat."))
    failed = serializers.IntegerField(help_text=_("Given up on; see last_errcode and retry them."))


class WaybillSerializer(AnswerAsAllowed, ISODates, serializers.ModelSerializer):
    brief_fields = ("waybill_id",)
    waybill_id = WaybillIdField(
        help_text=_("The waybill's ID at WeChat: letters, digits, '_', '.' and '-'. Cannot be changed."),
    )
    order_id = OrderIdField(
        help_text=_("The shop's order this parcel belongs to."),
    )
    token = TokenField(
        write_only=True,
        required=False,
        allow_blank=True,
        style={"input_type": "password"},
        help_text=_(
            "The Token of WeChat's order placement event, needed to read contacts. Write-only: "
            "never returned; see has_token. An empty string removes it."
        ),
    )
    has_token = serializers.BooleanField(read_only=True, help_text=_("Whether a token is set."))
    latest_action_type_label = serializers.CharField(
        source="get_latest_action_type_display", read_only=True, allow_null=True
    )
    delivery = serializers.SerializerMethodField()

    class Meta:
        model = Waybill
        fields = [
            "waybill_id",
            "order_id",
            "token",
            "has_token",
            "latest_action_type",
            "latest_action_type_label",
            "delivery",
            "biz_id",
            "wechat_order_id",
            "cancelled_at",
            "created_at",
            "updated_at",
        ]
        # What WeChat's order placement and cancellation events set: shown, never written here.
        read_only_fields = [
            "latest_action_type",
            "biz_id",
            "wechat_order_id",
            "cancelled_at",
            "created_at",
            "updated_at",
        ]
        extra_kwargs = {
            "biz_id": {
                "help_text": _(
                    "The merchant's BizID in WeChat's order placement event; empty for a waybill "
                    "registered another way."
                )
            },
            "wechat_order_id": {
                "help_text": _(
                    "WeChat's OrderID in its order placement event; empty for a waybill registered "
                    "another way."
                )
            },
            "cancelled_at": {
                "help_text": _("When WeChat cancelled the order (cancel_waybill); null while it stands.")
            },
        }

    def validate_waybill_id(self, value: str) -> str:
        if self.instance is not None and value != self.instance.waybill_id:
            raise serializers.ValidationError(
                _("A waybill's ID cannot be changed; create a new waybill instead.")
            )
        if self.instance is None and Waybill.objects.filter(waybill_id=value).exists():
            raise serializers.ValidationError(_("A waybill with this ID exists already."))
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        try:
            clean_waybill(**attrs)  # the fields sent: a PATCH checks only what it changes
        except DjangoValidationError as exc:
            raise serializers.ValidationError(serializers.as_serializer_error(exc)) from exc
        return attrs

    @extend_schema_field(DeliverySerializer)
    def get_delivery(self, waybill: Waybill) -> dict[str, int]:
        # Annotated by the view's queryset in the same query; a new waybill has no events.
        return {state: getattr(waybill, f"{state}_count", 0) for state in EventState.values}

    def get_initial(self) -> Any:
        # The browsable API re-renders a rejected form from this: never echo the token.
        initial = super().get_initial()
        if isinstance(initial, Mapping) and "token" in initial:
            initial = {**initial, "token": ""}
        return initial

    def create(self, validated_data: dict[str, Any]) -> Waybill:
        try:
            with transaction.atomic():
                return super().create(validated_data)
        except IntegrityError as exc:
            # Two requests created the same waybill_id at once; the loser gets a 400.
            raise serializers.ValidationError(
                {"waybill_id": [_("A waybill with this ID exists already.")]}
            ) from exc


@extend_schema_field({"type": "integer", "enum": ActionType.values})
class ActionTypeField(serializers.IntegerField):
    """One of the nine action types; the range is checked by ``clean_trace_event``."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, (bool, float)) or (isinstance(data, str) and not _from_a_form(self)):
            self.fail("invalid")
        return super().to_internal_value(data)


@extend_schema_field({"type": "string", "minLength": 1, "maxLength": ACTION_MSG_MAX_LENGTH})
class ActionMessageField(TextField):
    """Emptiness and length are checked by ``clean_trace_event``, as for Python callers."""

    def run_validation(self, data: Any = empty) -> Any:
        if data == "":  # clean_trace_event says why, in the same words as for Python callers
            return data
        return super().run_validation(data)


class TraceEventSerializer(AnswerAsAllowed, ISODates, serializers.ModelSerializer):
    brief_fields = ("id", "state")
    action_type = ActionTypeField(
        help_text=_("WeChat's action type: 100001 picked up … 400002 delayed (see the enum).")
    )
    action_type_label = serializers.CharField(source="get_action_type_display", read_only=True)
    action_msg = ActionMessageField(help_text=_("The text the customer sees on WeChat."))
    action_time = ISODateTimeField(
        required=False,
        help_text=_("When it happened (ISO 8601 with a time zone); now if left out. At most an hour ahead."),
    )

    class Meta:
        model = TraceEvent
        fields = [
            "id",
            "action_type",
            "action_type_label",
            "action_msg",
            "action_time",
            *SHOWN_FIELDS,
        ]
        read_only_fields = SHOWN_FIELDS

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        try:
            action_type, action_msg, action_time = clean_trace_event(
                attrs.get("action_type"), attrs.get("action_msg"), attrs.get("action_time")
            )
        except DjangoValidationError as exc:
            raise serializers.ValidationError(serializers.as_serializer_error(exc)) from exc
        return {"action_type": action_type, "action_msg": action_msg, "action_time": action_time}

    def create(self, validated_data: dict[str, Any]) -> TraceEvent:
        return record_trace_event(self.context["waybill"], **validated_data)


class PartySerializer(serializers.Serializer):
    name = serializers.CharField()
    tel = serializers.CharField(help_text=_("Landline number; masked as 020-****8888."))
    mobile = serializers.CharField(help_text=_("Mobile number; masked as 186****6666."))
    address = serializers.CharField(help_text=_("Province, city, district and street."))


class ContactSerializer(serializers.Serializer):
    waybill_id = serializers.CharField()
    sender = PartySerializer()
    receiver = PartySerializer()
    masked = serializers.BooleanField(
        help_text=_("true unless the user holds django_wxlogistics.view_contact.")
    )


#: What the API shows of a shipping-information call; never its request body, which holds the
#: payer's openid (the admin leaves it out too).
_SHIPPING_INFO_FIELDS = [
    "id",
    "call",
    "call_label",
    *SHOWN_FIELDS,
]
_SHIPPING_INFO_HELP = {
    "call": {
        "help_text": _(
            "Which call to WeChat: upload (upload_shipping_info), reupload (its one change), "
            "confirm_receipt (notify_confirm_receive) or trace_waybill (the tracking component)."
        )
    },
    "attempts": {"help_text": _("How many times it was sent to WeChat.")},
    "next_attempt_at": {"help_text": _("When a pending call is sent (again).")},
    "last_errcode": {
        "help_text": _("WeChat's errcode to the last attempt that failed; null when WeChat did not answer.")
    },
    "last_errmsg": {
        "help_text": _("WeChat's answer to the last attempt that failed, with what to do about it (English).")
    },
    "sent_at": {"help_text": _("When WeChat took it.")},
}


def _state_field() -> serializers.ChoiceField:
    # Declared: DRF would give the model's default to a field of a conditional UniqueConstraint.
    return serializers.ChoiceField(
        choices=EventState.choices,
        read_only=True,
        help_text=_("pending, sending, sent (WeChat took it) or failed (see last_errcode)."),
    )


def _payment_key_field(source: str) -> serializers.CharField:
    return serializers.CharField(
        source=source,
        read_only=True,
        help_text=_("The payment as WeChat knows it: its transaction_id, or mchid/out_trade_no."),
    )


@extend_schema_field({"type": "string", "enum": [*ShippingCall.values, ""]})
class LatestCallField(serializers.CharField):
    """``latest_call``: one of the calls, or empty; described without an enum of its own, which
    would name the calls' choices a second time."""


class PaymentCallSerializer(ISODates, serializers.ModelSerializer):
    """One shipping-information call of a payment, as the payment lists them."""

    call_label = serializers.CharField(source="get_call_display", read_only=True)
    state = _state_field()

    class Meta:
        model = ShippingInfo
        fields = _SHIPPING_INFO_FIELDS
        read_only_fields = _SHIPPING_INFO_FIELDS
        extra_kwargs = _SHIPPING_INFO_HELP


class ShippingInfoSerializer(AnswerAsAllowed, PaymentCallSerializer):
    """A shipping-information call for a payment, with its state and WeChat's answer."""

    brief_fields = ("id", "state")
    payment_key = _payment_key_field("payment.__str__")

    class Meta(PaymentCallSerializer.Meta):
        fields = ["id", "order_id", "payment", "payment_key", *_SHIPPING_INFO_FIELDS[1:]]
        read_only_fields = fields
        extra_kwargs = {
            **_SHIPPING_INFO_HELP,
            "order_id": {"help_text": _("The shop's order the payment paid for.")},
            "payment": {"help_text": _("The payment's id (see payments/).")},
        }


class PaymentSerializer(ISODates, serializers.ModelSerializer):
    """A WeChat Pay payment of one of the shop's orders, with its shipping-information calls."""

    key = _payment_key_field("__str__")
    latest_call = LatestCallField(
        read_only=True,
        help_text=_(
            "The latest call WeChat took (upload, reupload, confirm_receipt, trace_waybill); "
            "empty before any."
        ),
    )
    latest_call_label = serializers.CharField(source="get_latest_call_display", read_only=True)
    shipping_info = PaymentCallSerializer(
        source="shipping_infos",
        many=True,
        read_only=True,
        help_text=_("Its shipping-information calls, in the order they reach WeChat."),
    )

    class Meta:
        model = Payment
        fields = [
            "id",
            "order_id",
            "key",
            "transaction_id",
            "mchid",
            "out_trade_no",
            "latest_call",
            "latest_call_label",
            "shipping_info",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "order_id": {"help_text": _("The shop's order this payment paid for.")},
            "transaction_id": {
                "help_text": _("WeChat Pay's transaction_id; empty when mchid and out_trade_no name it.")
            },
            "mchid": {
                "help_text": _("The merchant number, with out_trade_no; empty when transaction_id names it.")
            },
            "out_trade_no": {"help_text": _("The merchant's trade number, with mchid.")},
        }


class ParcelContactSerializer(serializers.Serializer):
    consignor_contact = serializers.CharField(help_text=_("The sender's phone, masked as 189****1234."))
    receiver_contact = serializers.CharField(help_text=_("The receiver's phone, masked as 189****1234."))


class ShippedParcelSerializer(serializers.Serializer):
    tracking_no = serializers.CharField()
    express_company = serializers.CharField(help_text=_("The carrier's code (see carriers/)."))
    item_desc = serializers.CharField()
    upload_time = serializers.DateTimeField(allow_null=True)
    contact = ParcelContactSerializer()


class WeChatOrderSerializer(serializers.Serializer):
    """What WeChat says of a payment now (get_order); the payer's openid and phones masked."""

    order_state = serializers.IntegerField(
        help_text=_(
            "WeChat's order_state as it came: 1 awaiting shipment, 2 shipped, 3 receipt confirmed, "
            "4 completed, 5 refunded, 6 funds awaiting settlement; any other number is kept."
        )
    )
    order_state_label = serializers.CharField(help_text=_("The state's name in the request's language."))
    order_state_known = serializers.BooleanField(
        help_text=_("Whether WeChat's documentation lists the state.")
    )
    transaction_id = serializers.CharField()
    merchant_id = serializers.CharField()
    sub_merchant_id = serializers.CharField()
    merchant_trade_no = serializers.CharField()
    description = serializers.CharField()
    paid_amount = serializers.IntegerField(help_text=_("In fen."))
    pay_time = serializers.DateTimeField(allow_null=True)
    trade_create_time = serializers.DateTimeField(allow_null=True)
    upload_time = serializers.DateTimeField(
        allow_null=True, help_text=_("The latest shipping WeChat recorded; null before any.")
    )
    openid_masked = serializers.CharField(help_text=_("The payer's openid, masked as oPa****0001."))
    in_complaint = serializers.BooleanField()
    logistics_type = serializers.IntegerField(allow_null=True)
    logistics_type_label = serializers.CharField()
    delivery_mode = serializers.IntegerField(allow_null=True)
    delivery_mode_label = serializers.CharField()
    finish_shipping = serializers.BooleanField()
    finish_shipping_count = serializers.IntegerField()
    shipping = ShippedParcelSerializer(many=True, help_text=_("The parcels WeChat recorded."))


class CarrierSerializer(serializers.Serializer):
    delivery_id = serializers.CharField(
        help_text=_("The carrier's code: what express_company and delivery_id take, e.g. ZTO.")
    )
    delivery_name = serializers.CharField(help_text=_("The carrier's name."))


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text=_("What went wrong and what to do about it."))
    errcode = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text=_("WeChat's errcode, when WeChat answered with one; else null."),
    )
    errmsg = serializers.CharField(
        required=False,
        allow_null=True,
        help_text=_(
            "Lookups at WeChat only: the technical description of the failure, in English, with "
            "WeChat's own errmsg when it sent one; null when the error was on this server."
        ),
    )

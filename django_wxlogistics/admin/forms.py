"""Forms of the admin: the waybill form with its write-only token, and the trace event action form."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.admin.widgets import AdminSplitDateTime
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..enums import ACTION_MSG_MAX_LENGTH, ActionType
from ..models import Waybill
from ..services import clean_trace_event, clean_waybill


class WaybillForm(forms.ModelForm):
    """The model's ``token`` never reaches the page: ``new_token`` replaces it when filled in."""

    new_token = forms.CharField(
        label=_("New token"),
        required=False,
        max_length=Waybill._meta.get_field("token").max_length,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=_(
            "The Token from WeChat's order placement event for this waybill. "
            "It is never shown; leave the field empty to keep the current one."
        ),
    )

    class Meta:
        model = Waybill
        # "token" itself is left out: the page must never carry it.
        fields = ["waybill_id", "order_id"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        # The rules of register_waybill and the API, for the fields that passed their own checks.
        given: dict[str, Any] = {
            name: cleaned[name] for name in ("waybill_id", "order_id") if name in cleaned
        }
        if cleaned.get("new_token"):
            given["token"] = cleaned["new_token"]
        try:
            clean_waybill(**given)
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                self.add_error("new_token" if field == "token" else field, messages)
        return cleaned

    def save(self, commit: bool = True) -> Waybill:
        if self.cleaned_data.get("new_token"):
            self.instance.token = self.cleaned_data["new_token"]
        return super().save(commit=commit)


class TraceEventActionForm(forms.Form):
    """The intermediate page of the "add a trace event" action."""

    action = forms.CharField(widget=forms.HiddenInput)
    select_across = forms.BooleanField(required=False, widget=forms.HiddenInput)
    action_type = forms.TypedChoiceField(label=_("action type"), choices=ActionType.choices, coerce=int)
    action_msg = forms.CharField(
        label=_("message"),
        max_length=ACTION_MSG_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=_("Shown to the customer in WeChat."),
    )
    action_time = forms.SplitDateTimeField(
        label=_("action time"),
        required=False,
        widget=AdminSplitDateTime,
        help_text=_("Leave empty for now."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["action"].initial = "add_trace_event"
        self.fields["action_time"].initial = timezone.localtime().replace(microsecond=0)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        try:
            action_type, action_msg, action_time = clean_trace_event(
                cleaned.get("action_type"), cleaned.get("action_msg"), cleaned.get("action_time")
            )
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                if field not in self.errors:  # a field's own error says it first
                    self.add_error(field if field in self.fields else None, messages)
            return cleaned
        cleaned.update(action_type=action_type, action_msg=action_msg, action_time=action_time)
        return cleaned

"""Whether the message templates in ``STATUS_ACTIONS`` can be rendered safely: E030-E033, W030, W032."""

from __future__ import annotations

import string
from collections.abc import Mapping
from typing import Any

from django.core.checks import CheckMessage, Error, Warning

from ..conf import wx_settings
from ..enums import ACTION_MSG_MAX_LENGTH
from ..orders import order_model
from ..trace_messages import (
    TEMPLATE_NAMES,
    RefusedPlaceholderError,
    TemplateSyntaxError,
    UnknownPlaceholderError,
    check_field_name,
    template_fields,
)


def check_message_templates() -> list[CheckMessage]:
    """System checks E030–E033, W030, W032 for the templates in ``STATUS_ACTIONS``."""
    # As written: the templates are checked even beside an action type E005 refuses.
    actions = wx_settings.raw("STATUS_ACTIONS")
    if not isinstance(actions, Mapping):
        return []  # E005 reports it
    model = order_model()
    messages: list[CheckMessage] = []
    for status, value in actions.items():
        where = f"WXLOGISTICS['STATUS_ACTIONS'][{status!r}]"
        if not isinstance(value, Mapping):
            continue
        unknown = sorted(set(value) - {"action_type", "message"})
        if unknown:  # a missing action_type is E005's
            messages.append(
                Error(
                    f"{where} has keys {sorted(value)}; it needs 'action_type' and may have 'message'.",
                    hint='Write {"action_type": 300002, "message": "..."} or just the action type.',
                    id="wxlogistics.E030",
                )
            )
        template = value.get("message")
        if template is None:
            continue
        if not isinstance(template, str) or not template.strip():
            messages.append(
                Error(
                    f"{where}['message'] must be a non-empty string, not {template!r}.",
                    hint="Write a template such as 'Courier {order.courier_name} is on the way', "
                    "or remove 'message' to use the default message.",
                    id="wxlogistics.E030",
                )
            )
            continue
        messages += _check_template(where, template, model)
    return messages


def _check_template(where: str, template: str, model: Any) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    names = ", ".join("{" + n + "}" for n in TEMPLATE_NAMES)
    try:
        fields = list(template_fields(template))
    except TemplateSyntaxError as exc:
        return [
            Error(
                f"{where}['message'] is not a valid template: {exc}",
                hint=f"Placeholders are {names}, with attributes like {{order.number}}.",
                id="wxlogistics.E031",
            )
        ]
    for field_name, _conversion, _spec in fields:
        try:
            first, attributes = check_field_name(field_name)
        except TemplateSyntaxError as exc:
            messages.append(Error(f"{where}['message']: {exc}", hint=f"Use {names}.", id="wxlogistics.E031"))
            continue
        except UnknownPlaceholderError as exc:
            messages.append(Error(f"{where}['message']: {exc}", hint=f"Use {names}.", id="wxlogistics.E032"))
            continue
        except RefusedPlaceholderError as exc:
            messages.append(
                Error(
                    f"{where}['message']: {exc}",
                    hint="Show plain public attributes, e.g. {order.courier_phone}; add a property to "
                    "your order model for anything computed.",
                    id="wxlogistics.E033",
                )
            )
            continue
        if first == "order" and attributes and model is not None and not hasattr(model, attributes[0]):
            messages.append(
                Warning(
                    f"{where}['message'] uses {{{field_name}}}, but {model._meta.label} has no "
                    f"attribute {attributes[0]!r}.",
                    hint="Check the spelling; until fixed, the default message is sent.",
                    id="wxlogistics.W030",
                )
            )
    literal = "".join(part[0] for part in string.Formatter().parse(template))
    if len(literal) > ACTION_MSG_MAX_LENGTH:
        messages.append(
            Warning(
                f"{where}['message'] has {len(literal)} characters of text; messages are cut at "
                f"{ACTION_MSG_MAX_LENGTH}.",
                hint="Shorten the template: the customer reads it on a phone.",
                id="wxlogistics.W032",
            )
        )
    return messages

"""The text the customer reads on WeChat: default messages and the shop's templates.

A template in ``WXLOGISTICS["STATUS_ACTIONS"]`` is a ``str.format`` string with three
names: ``{order}``, ``{waybill}`` and ``{status}``, e.g.
``"Courier {order.courier_name} [{order.courier_phone}] is delivering your parcel"``.

Format strings can walk attributes, which is an injection risk
(https://docs.python.org/3/library/string.html#format-string-syntax), so templates are
rendered by :class:`TemplateFormatter`: attribute access only, never ``_private``
attributes, methods, indexing or names that look secret; the waybill shows only its
``waybill_id`` and ``order_id``. Messages are rendered in the shop's ``LANGUAGE_CODE``
(the customer reads them, not the staff member who changed the order).
"""

from __future__ import annotations

import re
import string
import sys
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from .conf import wx_settings
from .enums import ACTION_MSG_MAX_LENGTH, ActionType
from .redaction import get_logger

logger = get_logger(__name__)

#: What the customer reads when the shop gives no template for a status.
DEFAULT_MESSAGES: dict[ActionType, Promise] = {
    ActionType.PICKED_UP: _("Your parcel has been picked up by the courier."),
    ActionType.PICKUP_FAILED: _(
        "The courier could not pick up your parcel; another pick-up is being arranged."
    ),
    ActionType.ASSIGNING_COURIER: _("A courier is being assigned to your parcel."),
    ActionType.IN_TRANSIT: _("Your parcel is on its way."),
    ActionType.OUT_FOR_DELIVERY: _("Your parcel is out for delivery."),
    ActionType.SIGNED: _("Your parcel has been delivered and signed for."),
    ActionType.SIGNING_FAILED: _("Your parcel could not be signed for; the courier will contact you."),
    ActionType.CANCELLED: _("Your order has been cancelled."),
    ActionType.DELAYED: _("Your order is delayed. Sorry for the wait."),
}

#: The names a template may use.
TEMPLATE_NAMES = ("order", "waybill", "status")
#: The only attributes of ``{waybill}`` a template may show (never its secret ``token``).
WAYBILL_ATTRIBUTES = ("waybill_id", "order_id")
#: Attribute names refused anywhere in a template: their values must not reach a customer.
SECRET_NAME = re.compile(r"token|secret|password|passwd", re.IGNORECASE)
ELLIPSIS = "…"


class TemplateError(ValueError):
    """A message template cannot be rendered safely; the message says what to change."""


class TemplateSyntaxError(TemplateError):
    """The template is not a valid format string."""


class UnknownPlaceholderError(TemplateError):
    """The template names something other than ``order``, ``waybill`` or ``status``."""


class RefusedPlaceholderError(TemplateError):
    """The template reaches for something a message must not show."""


@dataclass(frozen=True)
class StatusAction:
    """What one order status becomes: an action type and, optionally, a message template."""

    status: Any
    action_type: ActionType
    template: str | None = None


def status_action(status: Any) -> StatusAction | None:
    """The mapping of ``status`` in ``STATUS_ACTIONS``; None for a status not listed there."""
    actions = wx_settings.STATUS_ACTIONS
    key: Any = status
    if key not in actions and not isinstance(status, str):
        key = str(status)  # integer statuses written as string keys
    if key not in actions:
        return None
    value = actions[key]
    if isinstance(value, Mapping):
        template = value.get("message") or None
        return StatusAction(status, ActionType(int(value["action_type"])), template)
    return StatusAction(status, ActionType(int(value)))


def default_message(action_type: ActionType | int) -> str:
    """The default message of an action type, in the shop's ``LANGUAGE_CODE``."""
    with translation.override(settings.LANGUAGE_CODE):
        return str(DEFAULT_MESSAGES[ActionType(action_type)])


def truncate(text: str, limit: int = ACTION_MSG_MAX_LENGTH) -> str:
    """``text`` cut to ``limit`` characters, ending with an ellipsis when cut."""
    text = text.strip()
    if len(text) <= limit:
        return text
    return text[: limit - len(ELLIPSIS)].rstrip() + ELLIPSIS


def check_field_name(field_name: str) -> tuple[str, list[str]]:
    """Split a placeholder (``order.courier_phone``) into its name and attributes.

    Raises a TemplateError subclass when the placeholder is not allowed.
    """
    if field_name == "" or field_name.isdigit():
        raise UnknownPlaceholderError(
            f"Positional placeholder {{{field_name}}}: name what to show, "
            f"one of {', '.join('{' + n + '}' for n in TEMPLATE_NAMES)}."
        )
    try:
        first, rest = _split_field_name(field_name)
    except ValueError as exc:
        raise TemplateSyntaxError(f"Placeholder {{{field_name}}} is malformed: {exc}.") from None
    if first not in TEMPLATE_NAMES:
        raise UnknownPlaceholderError(
            f"Unknown placeholder {{{field_name}}}: a template can use "
            f"{', '.join('{' + n + '}' for n in TEMPLATE_NAMES)}."
        )
    attributes: list[str] = []
    for is_attribute, key in rest:
        if not is_attribute:
            raise RefusedPlaceholderError(
                f"Placeholder {{{field_name}}} uses indexing ([...]); templates may use attributes only."
            )
        assert isinstance(key, str)
        if key.startswith("_"):
            raise RefusedPlaceholderError(
                f"Placeholder {{{field_name}}} reaches a private attribute ({key}); "
                "templates may use public attributes only."
            )
        if SECRET_NAME.search(key):
            raise RefusedPlaceholderError(
                f"Placeholder {{{field_name}}} names {key!r}, which looks secret; "
                "a message is shown to the customer."
            )
        attributes.append(key)
    if first == "status" and attributes:
        raise RefusedPlaceholderError(f"Placeholder {{{field_name}}}: write {{status}}, without attributes.")
    if first == "waybill" and (
        len(attributes) > 1 or (attributes and attributes[0] not in WAYBILL_ATTRIBUTES)
    ):
        allowed = ", ".join(f"{{waybill.{a}}}" for a in WAYBILL_ATTRIBUTES)
        raise RefusedPlaceholderError(
            f"Placeholder {{{field_name}}}: a waybill shows only {{waybill}}, {allowed}."
        )
    return first, attributes


def _split_field_name(field_name: str) -> tuple[str, Iterable[tuple[bool, Any]]]:
    first, rest = split_field_name(field_name)
    return str(first), rest


def split_field_name(field_name: str) -> tuple[str | int, list[tuple[bool, str | int]]]:
    """A replacement field's name read as ``str.format`` reads it: ``order.items[0]`` →
    ``("order", [(True, "items"), (False, 0)])``; a malformed name raises the ValueError
    ``str.format`` raises, with the same words."""
    first_end = _name_end(field_name, 0)
    first_text = field_name[:first_end]
    index = _index(first_text)
    rest: list[tuple[bool, str | int]] = []
    position = first_end
    while position < len(field_name):
        separator = field_name[position]
        position += 1
        key: str | int
        if separator == ".":
            end = _name_end(field_name, position)
            text = key = field_name[position:end]
            position = end
            is_attribute = True
        elif separator == "[":
            end = field_name.find("]", position)
            if end < 0:
                raise ValueError("Missing ']' in format string")
            text = field_name[position:end]
            key = text if (number := _index(text)) is None else number
            position = end + 1
            is_attribute = False
        else:
            raise ValueError("Only '.' or '[' may follow ']' in format field specifier")
        if not text:
            raise ValueError("Empty attribute in format string")
        rest.append((is_attribute, key))
    return (first_text if index is None else index), rest


def _name_end(field_name: str, start: int) -> int:
    """Where a name that begins at ``start`` ends: at the next ``.`` or ``[``, or the end."""
    ends = [i for i in (field_name.find(".", start), field_name.find("[", start)) if i >= 0]
    return min(ends, default=len(field_name))


def _index(text: str) -> int | None:
    """``text`` as an index when all of it is decimal digits, as ``str.format`` reads one."""
    if not text:
        return None
    value = 0
    for char in text:
        digit = unicodedata.decimal(char, None)
        if digit is None:
            return None
        if value > (sys.maxsize - digit) // 10:
            raise ValueError("Too many decimal digits in format string")
        value = value * 10 + digit
    return value


_SPEC_NUMBER = re.compile(r"\d+")


class TemplateFormatter(string.Formatter):
    """``str.format`` limited to the template names, public non-callable attributes, no indexing."""

    def get_field(self, field_name: str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> tuple[Any, str]:
        first, attributes = check_field_name(field_name)
        value = kwargs[first]
        for attribute in attributes:
            value = getattr(value, attribute)
            if callable(value):
                raise RefusedPlaceholderError(
                    f"Placeholder {{{field_name}}} is a method; templates may use attributes only."
                )
        return value, first

    def convert_field(self, value: Any, conversion: str | None) -> Any:
        if isinstance(value, Promise):
            value = str(value)  # lazy translations, rendered in the active (shop's) language
        return super().convert_field(value, conversion)

    def format_field(self, value: Any, format_spec: str) -> Any:
        # A width or precision such as {status:>999999999} would build a huge string first.
        if any(int(n) > ACTION_MSG_MAX_LENGTH for n in _SPEC_NUMBER.findall(format_spec)):
            raise TemplateError(
                f"Format spec {format_spec!r} asks for more than {ACTION_MSG_MAX_LENGTH} characters."
            )
        return super().format_field(value, format_spec)


_formatter = TemplateFormatter()


def render_message(action: StatusAction, *, order: Any, waybill: Any) -> str:
    """The message for one waybill: the template rendered, or the default message.

    Never raises for a bad template: it logs a warning and uses the default, so the
    event is not lost. The result is at most ``ACTION_MSG_MAX_LENGTH`` characters.
    """
    fallback = default_message(action.action_type)
    if action.template is None:
        return truncate(fallback)
    with translation.override(settings.LANGUAGE_CODE):
        try:
            text = _formatter.format(action.template, order=order, waybill=waybill, status=action.status)
        except Exception as exc:  # any template error: the default message, not a lost event
            logger.warning(
                "The message template of status %r could not be rendered for waybill %s (%s: %s); "
                "the default message is used instead. Fix WXLOGISTICS['STATUS_ACTIONS'][%r]['message'].",
                action.status,
                getattr(waybill, "waybill_id", waybill),
                type(exc).__name__,
                exc,
                action.status,
            )
            return truncate(fallback)
    if not text.strip():
        logger.warning(
            "The message template of status %r rendered empty text for waybill %s; "
            "the default message is used instead.",
            action.status,
            getattr(waybill, "waybill_id", waybill),
        )
        return truncate(fallback)
    return truncate(text)


def template_fields(template: str) -> Iterator[tuple[str, str | None, str]]:
    """Each placeholder of ``template`` as (field_name, conversion, format_spec), nested ones too.

    Raises TemplateSyntaxError for a malformed template.
    """
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise TemplateSyntaxError(f"{exc}. Write a literal brace as {{{{ or }}}}.") from None
    for _literal, field_name, format_spec, conversion in parsed:
        if field_name is None:
            continue
        if conversion not in (None, "r", "s", "a"):
            raise TemplateSyntaxError(
                f"Placeholder {{{field_name}!{conversion}}}: use !s, !r or !a, or none."
            )
        yield field_name, conversion, format_spec or ""
        if format_spec and "{" in format_spec:
            yield from template_fields(format_spec)

"""Which model fields hold secrets, and whether a query lookup reaches one.

A secret (the waybill token, the access token) is declared where it is stored, with
:class:`SecretCharField`. The admin (:class:`~django_wxlogistics.admin.base.GuardedModelAdmin`)
and the API (:class:`~django_wxlogistics.api.filters.SecretFieldGuard`) ask
:func:`secret_in_lookup` about every query parameter, so a secret field added later is
refused by construction: no one can filter, order, search or count by it, and a right guess
gets the same answer as a wrong one. :func:`django_wxlogistics.checks.secrets.check_secret_fields`
(``wxlogistics.E050``) reports an admin or API view configured to search, filter or order on one.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models.constants import LOOKUP_SEP


class SecretCharField(models.CharField):
    """A text column holding a secret: written and used, never shown, filtered, ordered or searched on."""

    secret = True

    def deconstruct(self) -> Any:
        name, _path, args, kwargs = super().deconstruct()
        # A plain CharField to migrations: being secret is about who may query it, not the schema.
        return name, "django.db.models.CharField", args, kwargs


def is_secret(field: Any) -> bool:
    return bool(getattr(field, "secret", False))


def secret_fields(model: type[models.Model]) -> set[str]:
    """The names of ``model``'s own secret fields."""
    return {field.name for field in model._meta.get_fields() if is_secret(field)}


def secret_values(*instances: models.Model | None) -> list[str]:
    """The values of the secret fields of ``instances`` (e.g. a trace event and its waybill)."""
    return [
        value
        for instance in instances
        if instance is not None
        for field in instance._meta.concrete_fields
        if is_secret(field) and isinstance(value := getattr(instance, field.attname, None), str) and value
    ]


def secret_in_lookup(model: type[models.Model], lookup: str) -> models.Field | None:
    """The secret field that ``lookup`` selects or orders by, following relations, or None.

    ``lookup`` is a query-string name or an ordering term: ``token__startswith``,
    ``waybill__token``, ``-token``. Parts that are no field (transforms, lookups, unknown
    names) end the walk: what follows them cannot reach another field.
    """
    opts = model._meta
    for part in lookup.strip().lstrip("-+").split(LOOKUP_SEP):
        if part == "pk":
            part = opts.pk.name if opts.pk else part
        try:
            field = opts.get_field(part)
        except FieldDoesNotExist:
            return None
        if is_secret(field):
            return field  # type: ignore[return-value]
        related = field.related_model if field.is_relation else None
        if related is None or isinstance(related, str):
            return None
        opts = related._meta
    return None


def describe(field: models.Field) -> str:
    """``Waybill.token``: how messages name a secret field."""
    return f"{getattr(field.model, '__name__', '?')}.{field.name}"

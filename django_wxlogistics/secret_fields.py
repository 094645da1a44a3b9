"""Which model fields hold secrets, and whether a query lookup reaches one.

A secret (the waybill token, the access token) is declared where it is stored, with
:class:`SecretCharField`. The admin (:class:`~django_wxlogistics.admin.base.GuardedModelAdmin`)
and the API (:class:`~django_wxlogistics.api.filters.SecretFieldGuard`) ask
:func:`secret_in_lookup` about every query parameter, so a secret field added later is
refused by construction: no one can filter, order, search or count by it, and a right guess
gets the same answer as a wrong one. :func:`check_secret_fields` (``wxlogistics.E050``)
reports an admin or API view configured to search, filter or order on one.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from django.core.checks import CheckMessage, Error
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


# --- the configuration check ------------------------------------------------------------------


def _names(items: Iterable[Any]) -> Iterator[str]:
    for item in items or ():
        if isinstance(item, str):
            yield item.lstrip("^=@")  # search_fields prefixes
        elif isinstance(item, (list, tuple)) and item and isinstance(item[0], str):
            yield item[0]  # list_filter's (field, FilterClass)
        elif hasattr(item, "resolve_expression"):
            name = getattr(getattr(item, "expression", item), "name", None)  # F("x").desc()
            if isinstance(name, str):
                yield name


def _admin_uses(model_admin: Any) -> Iterator[tuple[str, str]]:
    for option in ("search_fields", "list_filter", "ordering", "sortable_by"):
        for name in _names(getattr(model_admin, option, None) or ()):
            yield option, name
    if model_admin.date_hierarchy:
        yield "date_hierarchy", model_admin.date_hierarchy
    for column in model_admin.list_display:
        attr = column if callable(column) else getattr(model_admin, column, None)
        for name in _names([getattr(attr, "admin_order_field", None)]):
            yield "list_display", name


def _view_uses(view: Any) -> Iterator[tuple[str, str]]:
    for option in ("search_fields", "ordering_fields", "ordering"):
        value = getattr(view, option, None)
        for name in _names([value] if isinstance(value, str) else value or ()):
            yield option, name
    filterset = getattr(view, "filterset_class", None)
    if filterset is None:
        return
    for name, declared in filterset.base_filters.items():
        if getattr(declared, "method", None) is None:  # a method filter names no field of its own
            yield f"{filterset.__name__}.{name}", declared.field_name


def check_secret_fields(
    sites: Iterable[Any] | None = None, views: Iterable[Any] | None = None
) -> list[CheckMessage]:
    """``wxlogistics.E050``: an admin or API view that would search, filter or order on a secret."""
    from django.contrib.admin.sites import all_sites

    from .admin.base import GuardedModelAdmin
    from .api.views import TraceEventViewSet, WaybillViewSet

    messages: list[CheckMessage] = []
    for site in all_sites if sites is None else sites:
        for model, model_admin in site._registry.items():
            where = f"{type(model_admin).__module__}.{type(model_admin).__qualname__}"
            for option, name in _admin_uses(model_admin):
                field = secret_in_lookup(model, name)
                if field is not None:
                    messages.append(
                        Error(
                            f"{where} uses the secret field {describe(field)} in {option} ({name!r}): "
                            "anyone who may see the list could guess the secret from the answers.",
                            hint=f"Remove {name!r} from {option}.",
                            obj=model_admin,
                            id="wxlogistics.E050",
                        )
                    )
            if secret_fields(model) and not isinstance(model_admin, GuardedModelAdmin):
                messages.append(
                    Error(
                        f"{where} is the admin of {model.__name__}, which has secret fields "
                        f"({', '.join(sorted(secret_fields(model)))}), but lets the query string "
                        "filter on them.",
                        hint="Derive it from django_wxlogistics.admin.GuardedModelAdmin.",
                        obj=model_admin,
                        id="wxlogistics.E050",
                    )
                )
    for view in (WaybillViewSet, TraceEventViewSet) if views is None else views:
        model = view.serializer_class.Meta.model
        for option, name in _view_uses(view):
            field = secret_in_lookup(model, name)
            if field is not None:
                messages.append(
                    Error(
                        f"{view.__module__}.{view.__qualname__} uses the secret field {describe(field)} "
                        f"in {option} ({name!r}).",
                        hint=f"Remove {name!r} from {option}.",
                        obj=view,
                        id="wxlogistics.E050",
                    )
                )
    return messages

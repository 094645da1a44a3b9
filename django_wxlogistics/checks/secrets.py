"""Whether any admin or API view would search, filter or order on a secret field: E050."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from django.apps import apps
from django.core.checks import CheckMessage, Error

from ..secret_fields import describe, secret_fields, secret_in_lookup


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
    return _check_admin_sites(sites) + _check_api_views(views)


def _check_admin_sites(sites: Iterable[Any] | None) -> list[CheckMessage]:
    if sites is None:
        if not apps.is_installed("django.contrib.admin"):
            return []  # a host project without the admin has no admin view to check
        from django.contrib.admin.sites import all_sites

        sites = all_sites
    # The admin is loaded once the app registry is ready, not when the checks are imported.
    from ..admin.base import GuardedModelAdmin

    messages: list[CheckMessage] = []
    for site in sites:
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
    return messages


def _check_api_views(views: Iterable[Any] | None) -> list[CheckMessage]:
    from ..api.views import TraceEventViewSet, WaybillViewSet

    messages: list[CheckMessage] = []
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

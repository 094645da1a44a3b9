"""drf-spectacular when it is installed (the ``openapi`` extra), no-op stand-ins when not.

The API works the same either way; only ``api/schema/`` needs drf-spectacular.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F")

try:
    from drf_spectacular.openapi import AutoSchema
    from drf_spectacular.types import OpenApiTypes
    from drf_spectacular.utils import (
        OpenApiExample,
        OpenApiParameter,
        OpenApiResponse,
        extend_schema,
        extend_schema_field,
        extend_schema_view,
    )
    from drf_spectacular.views import SpectacularAPIView

    HAS_SPECTACULAR = True
except ImportError:  # pragma: no cover - exercised by the no-extra install
    HAS_SPECTACULAR = False
    AutoSchema = None  # type: ignore[assignment,misc]
    SpectacularAPIView = None  # type: ignore[assignment,misc]
    OpenApiTypes = None  # type: ignore[assignment,misc]

    def _passthrough(*args: Any, **kwargs: Any) -> Callable[[F], F]:
        def decorate(target: F) -> F:
            return target

        return decorate

    extend_schema = _passthrough
    extend_schema_field = _passthrough
    extend_schema_view = _passthrough

    class OpenApiResponse:  # type: ignore[no-redef]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            pass

    class OpenApiExample:  # type: ignore[no-redef]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            pass

    class OpenApiParameter:  # type: ignore[no-redef]
        PATH = "path"
        QUERY = "query"

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            pass


def view_schema() -> Any:
    """A drf-spectacular AutoSchema for our views whatever the host's DEFAULT_SCHEMA_CLASS."""
    return _APISchema() if HAS_SPECTACULAR else None


if HAS_SPECTACULAR:

    class _APISchema(AutoSchema):
        """Stable operation ids and tags, wherever the shop mounts the API."""

        def get_tags(self) -> list[str]:
            return [str(getattr(self.view, "schema_tag", "wxlogistics"))]

        def get_operation_id(self) -> str:
            prefix = getattr(self.view, "schema_tag", "wxlogistics").replace(" ", "_")
            return f"{prefix}_{getattr(self.view, 'action', None) or self.method.lower()}"


def only_this_api(endpoints: list[tuple[Any, ...]], **kwargs: Any) -> list[tuple[Any, ...]]:
    """drf-spectacular preprocessing hook: keep the endpoints of this API, drop the host's."""
    return [endpoint for endpoint in endpoints if _is_ours(endpoint[3])]


def _is_ours(callback: Any) -> bool:
    view_class = getattr(callback, "cls", None)
    return bool(view_class and view_class.__module__ == "django_wxlogistics.api.views")


__all__ = [
    "HAS_SPECTACULAR",
    "AutoSchema",
    "OpenApiExample",
    "OpenApiParameter",
    "OpenApiResponse",
    "OpenApiTypes",
    "SpectacularAPIView",
    "extend_schema",
    "extend_schema_field",
    "extend_schema_view",
    "only_this_api",
    "view_schema",
]

"""drf-spectacular when it is installed (the ``openapi`` extra), no-op stand-ins when not; and
``api/schema/``, the API's OpenAPI 3 schema.

The API works the same either way; only the schema needs drf-spectacular. Whatever the host's
``DEFAULT_SCHEMA_CLASS``, the API's views are described by drf-spectacular's AutoSchema, and
the schema is served to those the API's permission classes let in.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from rest_framework import status
from rest_framework.authentication import BaseAuthentication
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import BasePermission
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.versioning import BaseVersioning
from rest_framework.views import APIView, exception_handler

from ..models import Waybill
from .framework import FormatNegotiation, HostIndependent
from .permissions import api_permission_classes

F = TypeVar("F")

try:
    from drf_spectacular.drainage import isolate_view_method
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.openapi import AutoSchema
    from drf_spectacular.plumbing import get_class
    from drf_spectacular.types import OpenApiTypes
    from drf_spectacular.utils import (
        OpenApiExample,
        OpenApiParameter,
        OpenApiResponse,
        extend_schema_field,
    )
    from drf_spectacular.utils import extend_schema as _extend_schema
    from drf_spectacular.utils import extend_schema_view as _extend_schema_view
    from drf_spectacular.views import SpectacularAPIView
    from rest_framework.schemas.openapi import AutoSchema as DRFAutoSchema

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


class _SchemaAccess:
    """Who may read the schema: whom the API lets in, authenticated as the API authenticates."""

    authentication_classes: Sequence[type[BaseAuthentication]] = APIView.authentication_classes
    content_negotiation_class: type[BaseContentNegotiation] = FormatNegotiation
    versioning_class: type[BaseVersioning] | None = None

    def get_permissions(self) -> list[BasePermission]:
        return [permission() for permission in api_permission_classes()]

    def get_queryset(self) -> QuerySet[Waybill]:
        # Model permissions by default: reading the schema needs what listing waybills needs.
        return Waybill.objects.all()

    def get_exception_handler(self) -> Any:
        return exception_handler


if HAS_SPECTACULAR:

    class _APISchema(AutoSchema):
        """Stable operation ids and tags, wherever the shop mounts the API."""

        def get_tags(self) -> list[str]:
            return [str(getattr(self.view, "schema_tag", "wxlogistics"))]

        def get_operation_id(self) -> str:
            prefix = getattr(self.view, "schema_tag", "wxlogistics").replace(" ", "_")
            return f"{prefix}_{getattr(self.view, 'action', None) or self.method.lower()}"

        # DRF's own generator (``generateschema``, ``get_schema_view``), which a host on DRF's
        # DEFAULT_SCHEMA_CLASS may run over its whole URLconf, asks in DRF's terms: answer in them.

        def get_operation(
            self,
            path: str,
            path_regex: str | None = None,
            path_prefix: str | None = None,
            method: str | None = None,
            registry: Any = None,
        ) -> Any:
            if registry is None:  # DRF's call: get_operation(path, method)
                return self._drf_schema().get_operation(path, str(path_regex))
            return super().get_operation(path, str(path_regex), str(path_prefix), str(method), registry)

        def get_components(self, path: str, method: str) -> Any:
            return self._drf_schema().get_components(path, method)

        def _drf_schema(self) -> DRFAutoSchema:
            # As drf-spectacular marks it: a view without request or URL kwargs.
            self.view.swagger_fake_view = True  # type: ignore[attr-defined]
            schema = _DRFSchema(tags=self.get_tags())
            schema.view = self.view
            return schema

    class _DRFSchema(DRFAutoSchema):
        def get_serializer(self, path: str, method: str) -> Any:
            # No request and no URL kwargs: the serializer, without the view's context for it.
            return self.view.get_serializer_class()()  # type: ignore[attr-defined]

        def get_filter_parameters(self, path: str, method: str) -> list[dict[str, Any]]:
            # django-filter's backend no longer describes itself to DRF's generator.
            if not self.allows_filters(path, method):
                return []
            backends = [backend() for backend in self.view.filter_backends]  # type: ignore[attr-defined]
            return [
                parameter
                for backend in backends
                if hasattr(backend, "get_schema_operation_parameters")
                for parameter in backend.get_schema_operation_parameters(self.view)
            ]

    # drf-spectacular builds the schema of a decorated method on the host's DEFAULT_SCHEMA_CLASS
    # unless the method names one, and DRF's own AutoSchema there makes every operation a
    # TypeError. So each decorated method names its view's schema first.

    def extend_schema(*args: Any, **kwargs: Any) -> Callable[[F], F]:
        decorate: Any = _extend_schema(*args, **kwargs)

        def on(target: Any) -> Any:
            if inspect.isclass(target):
                # Its schema would become the view's, which DRF's own generator cannot ask.
                raise TypeError("Decorate the view's methods, or use extend_schema_view.")
            _name_schema(target, _APISchema)
            return decorate(target)

        return on

    def extend_schema_view(**kwargs: Any) -> Callable[[F], F]:
        decorate: Any = _extend_schema_view(**kwargs)

        def on(view: Any) -> Any:
            base = get_class(view.schema)
            for name in kwargs:
                if callable(getattr(view, name, None)):
                    # Inherited methods (list, create …) first get a copy of their own.
                    _name_schema(isolate_view_method(view, name), base)
            return decorate(view)

        return on

    def _name_schema(method: Any, schema_class: type) -> None:
        named = getattr(method, "kwargs", None)
        if named is None:
            method.kwargs = named = {}
        named.setdefault("schema", schema_class)

    class SchemaView(_SchemaAccess, SpectacularAPIView):
        """``api/schema/``: the OpenAPI 3 schema of this API alone.

        Access, content and form are the API's own: not drf-spectacular's ``SERVE_*`` or
        path settings, nor the host's REST_FRAMEWORK defaults.
        """

        generator_class = SchemaGenerator
        serve_public = True
        urlconf = None

        @property
        def custom_settings(self) -> dict[str, Any]:  # type: ignore[override]
            return {
                "TITLE": "django-wxlogistics API",
                "DESCRIPTION": str(
                    _("Waybills, their trace events on the way to WeChat, and live contacts.")
                ),
                "VERSION": "1",
                "PREPROCESSING_HOOKS": ["django_wxlogistics.api.openapi.only_this_api"],
                "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums"],
                # Request bodies get their own components, without the read-only fields.
                "COMPONENT_SPLIT_REQUEST": True,
                "COMPONENT_SPLIT_PATCH": True,
                "COMPONENT_NO_READ_ONLY_REQUIRED": False,
                "CAMELIZE_NAMES": False,
                "SCHEMA_PATH_PREFIX": None,
                "SCHEMA_PATH_PREFIX_TRIM": False,
                "SCHEMA_PATH_PREFIX_INSERT": "",
            }

        def handle_exception(self, exc: Exception) -> Response:
            response = super().handle_exception(exc)
            # A refusal is JSON, as everywhere in the API, not an OpenAPI document.
            self.request.accepted_renderer = JSONRenderer()
            self.request.accepted_media_type = JSONRenderer.media_type
            return response

else:

    class SchemaView(_SchemaAccess, HostIndependent, APIView):  # type: ignore[no-redef]
        """``api/schema/`` without drf-spectacular: a 404 that says what is missing."""

        def get(self, request: Request) -> Response:
            return Response(
                {
                    "detail": _(
                        "This server has no OpenAPI schema: it needs drf-spectacular "
                        '(pip install "django-wxlogistics[openapi]").'
                    ),
                    "errcode": None,
                },
                status=status.HTTP_404_NOT_FOUND,
            )


#: ``api/schema/``: this API's OpenAPI 3 schema, or a 404 saying it needs drf-spectacular.
schema_view = SchemaView.as_view()


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
    "SchemaView",
    "SpectacularAPIView",
    "extend_schema",
    "extend_schema_field",
    "extend_schema_view",
    "only_this_api",
    "schema_view",
    "view_schema",
]

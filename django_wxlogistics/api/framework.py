"""What this API fixes of Django REST framework's settings, so a host's ``REST_FRAMEWORK`` cannot
change what it answers.

The host still chooses how users authenticate (``DEFAULT_AUTHENTICATION_CLASSES``), its
throttles and ``PAGE_SIZE``. Renderers, parsers, versioning, ``?format=``, the exception
handler and date-time formats are this API's own, as docs/api.md describes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from django.db import models
from rest_framework import ISO_8601, serializers
from rest_framework.negotiation import BaseContentNegotiation, DefaultContentNegotiation
from rest_framework.parsers import BaseParser, FormParser, MultiPartParser
from rest_framework.renderers import BaseRenderer, BrowsableAPIRenderer, JSONRenderer
from rest_framework.settings import api_settings
from rest_framework.versioning import BaseVersioning
from rest_framework.views import exception_handler

from .parsers import JSONParser

#: The query parameter that picks a renderer, e.g. ``api/schema/?format=json``.
FORMAT_PARAM = "format"


class _FormatSettings:
    URL_FORMAT_OVERRIDE = FORMAT_PARAM


class FormatNegotiation(DefaultContentNegotiation):
    """DRF's negotiation, with ``?format=`` whatever the host's ``URL_FORMAT_OVERRIDE``."""

    settings = _FormatSettings()  # type: ignore[assignment]


def renderer_classes() -> list[type[BaseRenderer]]:
    """JSON first; the browsable API only where the host's renderers have it (a host may turn it off)."""
    host: Sequence[Any] = api_settings.DEFAULT_RENDERER_CLASSES  # imported classes, though typed as str
    browsable = [r for r in host if issubclass(r, BrowsableAPIRenderer)]
    return [JSONRenderer, *browsable[:1]]


class HostIndependent:
    """Mixed into every view of the API, ahead of DRF's ``APIView``."""

    parser_classes: Sequence[type[BaseParser]] = (JSONParser, FormParser, MultiPartParser)
    content_negotiation_class: type[BaseContentNegotiation] = FormatNegotiation
    # The API is not versioned: a host's versioning class would 404 every URL it cannot match.
    versioning_class: type[BaseVersioning] | None = None

    def get_renderers(self) -> list[BaseRenderer]:
        return [renderer() for renderer in renderer_classes()]

    def get_exception_handler(self) -> Any:
        # A host's handler may reshape or drop (-> 500) the documented error bodies.
        return exception_handler


class ISODateTimeField(serializers.DateTimeField):
    """ISO 8601 in and out, whatever the host's ``DATETIME_FORMAT`` and ``DATETIME_INPUT_FORMATS``."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**{"format": ISO_8601, "input_formats": [ISO_8601], **kwargs})


# Mixed into a ModelSerializer: its model's date-times are ISODateTimeField. No docstring, which
# drf-spectacular would take for the description of every serializer that has none.
class ISODates:
    serializer_field_mapping: ClassVar[dict[type[models.Field[Any, Any]], type[serializers.Field]]] = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateTimeField: ISODateTimeField,
    }

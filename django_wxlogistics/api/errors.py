"""Error bodies of the API: ``{"detail": ..., "errcode": ...}``, with ``"errmsg"`` for lookups at
WeChat (contacts, a payment, the carriers), and how they are documented."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext_lazy as _
from rest_framework import status
from rest_framework.response import Response

from .. import exceptions
from ..contact_errors import contact_error_detail, contact_error_message
from ..models import Waybill
from ..services import wechat_order_error_message
from ..throttling import too_many_lookups_message, too_many_wechat_lookups_message
from .openapi import OpenApiResponse
from .serializers import ErrorSerializer

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

VALIDATION = OpenApiResponse(
    response={
        "type": "object",
        "additionalProperties": {
            "anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "string"}]
        },
    },
    description=_("Validation failed: each field names what to fix (or `detail`: the body is not JSON)."),
)
DENIED = OpenApiResponse(ErrorSerializer, description=_("Not logged in, or lacking the model permission."))
NOT_FOUND = OpenApiResponse(ErrorSerializer, description=_("No such waybill (or event, or page)."))


def documented(*codes: int) -> dict[int, Any]:
    """The common error answers of an operation, for ``extend_schema(responses=...)``."""
    known = {400: VALIDATION, 401: DENIED, 403: DENIED, 404: NOT_FOUND}
    return {code: known[code] for code in codes}


def problem(code: int, detail: StrOrPromise, errcode: int | None = None, **extra: Any) -> Response:
    return Response({"detail": detail, "errcode": errcode, **extra}, status=code)


def contact_error(exc: Exception, waybill: Waybill) -> Response:
    """A failed contact lookup as a 4xx/5xx a client can act on.

    ``detail`` is all in the request's language and keeps WeChat's errcode; ``errmsg`` holds
    the client's English description (WeChat's own errmsg among it), or null for an error of
    this server, whose text stays in the log. Neither ever holds a secret.
    """
    errcode = getattr(exc, "errcode", None)
    errmsg = contact_error_detail(exc, waybill.token) or None
    if isinstance(exc, exceptions.WaybillNotFound):
        return problem(
            status.HTTP_404_NOT_FOUND,
            _("WeChat does not know waybill %(waybill_id)s (errcode %(errcode)s). Check the waybill ID.")
            % {"waybill_id": waybill.waybill_id, "errcode": errcode},
            errcode,
            errmsg=errmsg,
        )
    if isinstance(exc, exceptions.InvalidWaybillToken):
        return problem(
            status.HTTP_409_CONFLICT,
            _(
                "WeChat refused this waybill's token (errcode %(errcode)s). Set the Token of WeChat's "
                'order placement event: PATCH this waybill with {"token": "…"}.'
            )
            % {"errcode": errcode},
            errcode,
            errmsg=errmsg,
        )
    if isinstance(exc, exceptions.ConfigurationError):
        return problem(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            _("Contacts are unavailable until the settings are fixed: %(error)s")
            % {"error": exc.setting_name},
            errmsg=errmsg,
        )
    if isinstance(exc, exceptions.WeChatError):
        return problem(
            status.HTTP_502_BAD_GATEWAY,
            _("WeChat could not show the contacts: %(error)s") % {"error": contact_error_message(exc)},
            errcode,
            errmsg=errmsg,
        )
    return problem(
        status.HTTP_502_BAD_GATEWAY,
        _(
            "The contacts are unavailable: an unexpected error occurred on this server while "
            "fetching them. It has been logged; try again in a moment."
        ),
        errmsg=None,
    )


def too_many_lookups(wait: int) -> Response:
    """429: the user's contact lookups are used up for now (``CONTACT_RATE``); ``Retry-After`` says when."""
    response = problem(status.HTTP_429_TOO_MANY_REQUESTS, too_many_lookups_message(wait))
    response["Retry-After"] = str(wait)
    return response


def wechat_lookup_error(exc: Exception) -> Response:
    """WeChat's view of a payment, or its carriers, could not be had: a 4xx/5xx a person can act on.

    ``detail`` is in the request's language with WeChat's errcode; ``errmsg`` the client's English
    description, or null for an error of this server. Neither ever holds a secret.
    """
    errcode = getattr(exc, "errcode", None)
    errmsg = contact_error_detail(exc) or None
    detail: StrOrPromise = wechat_order_error_message(exc)
    code: int
    if isinstance(exc, exceptions.PaymentNotYetKnown):
        code = status.HTTP_404_NOT_FOUND
    elif isinstance(exc, exceptions.InvalidRequestData):
        code = status.HTTP_409_CONFLICT
    elif isinstance(exc, exceptions.ConfigurationError):
        code = status.HTTP_503_SERVICE_UNAVAILABLE
    else:  # WeChat's other errors, or this server's
        code = status.HTTP_502_BAD_GATEWAY
    if not isinstance(exc, (exceptions.WeChatError, exceptions.ConfigurationError)):
        detail = _(
            "WeChat's answer is unavailable: an unexpected error occurred on this server while asking "
            "for it. It has been logged; try again in a moment."
        )
    return problem(code, detail, errcode, errmsg=errmsg)


def too_many_wechat_lookups(wait: int) -> Response:
    """429: the user's lookups at WeChat are used up for now (``CONTACT_RATE``); ``Retry-After`` says when."""
    response = problem(status.HTTP_429_TOO_MANY_REQUESTS, too_many_wechat_lookups_message(wait))
    response["Retry-After"] = str(wait)
    return response

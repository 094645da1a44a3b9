"""Who may use the API: Django model permissions by default, or the shop's own classes.

``WXLOGISTICS["API_PERMISSION_CLASSES"]`` (dotted paths) replaces the default; ``None``
means :class:`ModelPermissions`. Read on each request, so ``override_settings`` works.
"""

from __future__ import annotations

from typing import Any

from django.utils.module_loading import import_string
from rest_framework.permissions import BasePermission, DjangoModelPermissions
from rest_framework.request import Request
from rest_framework.views import APIView

from ..conf import wx_settings

VIEW_PERM = "%(app_label)s.view_%(model_name)s"


class ModelPermissions(DjangoModelPermissions):
    """``DjangoModelPermissions`` that also guards reads: GET and HEAD need ``view_<model>``.

    A view may name other permissions for one of its actions in ``action_permissions``
    (e.g. retrying an event needs ``change_traceevent``, though it is a POST).
    """

    perms_map = {**DjangoModelPermissions.perms_map, "GET": [VIEW_PERM], "HEAD": [VIEW_PERM]}

    def has_permission(self, request: Request, view: APIView) -> bool:
        action = getattr(view, "action", None)
        required = getattr(view, "action_permissions", {}).get(action)
        if required is None:
            return super().has_permission(request, view)
        if not request.user or not request.user.is_authenticated:
            return False
        model = self._queryset(view).model
        names = {"app_label": model._meta.app_label, "model_name": model._meta.model_name}
        return request.user.has_perms([perm % names for perm in required])


def api_permission_classes() -> list[type[BasePermission]]:
    """The permission classes the API's views use now."""
    configured = wx_settings.API_PERMISSION_CLASSES
    if configured is None:
        return [ModelPermissions]
    return [_resolve(item) for item in configured]


def _resolve(item: Any) -> type[BasePermission]:
    return import_string(item) if isinstance(item, str) else item

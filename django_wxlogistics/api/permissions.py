"""Who may use the API: Django model permissions by default, or the shop's own classes.

``WXLOGISTICS["API_PERMISSION_CLASSES"]`` (dotted paths) replaces the default; ``None``
means :class:`ModelPermissions`. Read on each request, so ``override_settings`` works.
An answer to a write shows the object only to users who may read it (:class:`AnswerAsAllowed`).
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework.permissions import SAFE_METHODS, BasePermission, DjangoModelPermissions
from rest_framework.request import Request, clone_request
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


def may_read(request: Request, view: APIView, obj: Any = None) -> bool:
    """Whether the API's permission classes would let this user read ``obj`` (a GET of it),
    whatever the request is: a write answers in full only to those who may read the answer."""
    reading = clone_request(request, "GET")
    action = getattr(view, "action", None)
    view.action = "retrieve"  # type: ignore[attr-defined]  # the read, not the write's action_permissions
    try:
        return all(
            permission.has_permission(reading, view)
            and (obj is None or permission.has_object_permission(reading, view, obj))
            for permission in view.get_permissions()
        )
    finally:
        view.action = action  # type: ignore[attr-defined]


# A serializer whose answer to a write (create, update, retry) holds only ``brief_fields`` when
# the user may not read the object. A comment, not a docstring: the schema would show it.
class AnswerAsAllowed(serializers.Serializer):
    brief_fields: tuple[str, ...] = ()

    def to_representation(self, instance: Any) -> Any:
        data = super().to_representation(instance)
        request, view = self.context.get("request"), self.context.get("view")
        if (
            request is None
            or view is None
            or request.method in SAFE_METHODS
            or may_read(request, view, instance)
        ):
            return data
        return {name: data[name] for name in self.brief_fields}


def api_permission_classes() -> list[type[BasePermission]]:
    """The permission classes the API's views use now."""
    configured = wx_settings.API_PERMISSION_CLASSES  # imported when read
    if configured is None:
        return [ModelPermissions]
    return list(configured)

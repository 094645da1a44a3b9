"""Retrying one failed call from the page of its waybill or payment: the checks, the retry, the message."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse

from ..models.outbox import OutboxItem

Item = TypeVar("Item", bound=OutboxItem)


def retry_one(
    model_admin: admin.ModelAdmin[Any],
    request: HttpRequest,
    object_id: str,
    *,
    not_found: str,
    may_retry: Callable[[HttpRequest], bool],
    items: type[Item],
    parent: str,
    item_id: int,
    retry: Callable[[QuerySet[Item]], int],
    retried: Callable[[Item], str],
    not_retried: Callable[[Item], str],
) -> HttpResponse:
    """POST: retry the call ``item_id`` of ``items`` whose ``parent`` is the object ``object_id``,
    if it failed (``retry`` says how many it took back), and go back to the object's page."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    obj = model_admin.get_object(request, unquote(object_id))
    if obj is None:
        raise Http404(not_found)
    if not may_retry(request):
        raise PermissionDenied
    item = get_object_or_404(items, pk=item_id, **{parent: obj})
    if retry(items._default_manager.filter(pk=item.pk)):
        model_admin.message_user(request, retried(item), messages.SUCCESS)
    else:
        model_admin.message_user(request, not_retried(item), messages.WARNING)
    opts = model_admin.opts
    return HttpResponseRedirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]))

"""The base of every admin of the package: no query parameter reaches a secret field."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from ..secret_fields import secret_in_lookup


class GuardedModelAdmin(admin.ModelAdmin):
    """A ModelAdmin whose list refuses lookups on secret fields, also through relations.

    Django answers a refused lookup with a 400 (``DisallowedModelAdminLookup``), the same for
    a right guess and a wrong one, so the list's count cannot be used to guess a secret.
    """

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest) -> bool:
        if secret_in_lookup(self.model, lookup) is not None:
            return False
        return super().lookup_allowed(lookup, value, request)

    def to_field_allowed(self, request: HttpRequest, to_field: str) -> bool:
        # A popup's ``_to_field`` puts that field's value in the page.
        if secret_in_lookup(self.model, to_field) is not None:
            return False
        return super().to_field_allowed(request, to_field)

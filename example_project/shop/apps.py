"""The example shop's app: its name in the admin, and, in a process of ``make demo``, the waybills
registered in the demo's sandbox."""

import os

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ShopConfig(AppConfig):
    name = "example_project.shop"
    label = "shop"
    verbose_name = _("Shop")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import demo

        sandbox_url = os.environ.get(demo.SANDBOX_ENV)
        if sandbox_url:  # a process started by `make demo`
            demo.connect(sandbox_url)

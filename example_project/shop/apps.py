import os

from django.apps import AppConfig


class ShopConfig(AppConfig):
    name = "example_project.shop"
    label = "shop"
    verbose_name = "Shop"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import demo

        sandbox_url = os.environ.get(demo.SANDBOX_ENV)
        if sandbox_url:  # a process started by `make demo`
            demo.connect(sandbox_url)

"""How the app starts: its name, and what ready() wires up (checks, tasks, receivers, log filters)."""

from django.apps import AppConfig
from django.core.checks import Tags, register
from django.utils.translation import gettext_lazy as _


class WXLogisticsConfig(AppConfig):
    name = "django_wxlogistics"
    verbose_name = _("WeChat logistics")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import tasks  # noqa: F401  (registers the Celery tasks, which nudges publish by name)
        from .checks import check_push_routes, check_secrets, check_settings
        from .checks.broker import check_broker
        from .receivers import connect_receivers
        from .redaction import install_log_filters

        register(check_settings, Tags.compatibility)
        register(check_broker, Tags.compatibility)
        register(check_secrets, Tags.admin, Tags.security)
        register(check_push_routes, Tags.urls)
        connect_receivers()
        install_log_filters()  # urllib3 logs each URL, access token included, at DEBUG

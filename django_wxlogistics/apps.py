from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WXLogisticsConfig(AppConfig):
    name = "django_wxlogistics"
    verbose_name = _("WeChat logistics")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks)
        from .receivers import connect_receivers
        from .redaction import install_log_filters

        connect_receivers()
        install_log_filters()  # urllib3 logs each URL, access token included, at DEBUG

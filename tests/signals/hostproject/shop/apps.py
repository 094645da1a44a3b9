from django.apps import AppConfig


class HostShopConfig(AppConfig):
    name = "tests.signals.hostproject.shop"
    label = "hostshop"
    default_auto_field = "django.db.models.BigAutoField"

"""Settings of the host project: django-wxlogistics is configured here and nowhere else."""

import os

import dj_database_url

SECRET_KEY = "host-project-not-secret"
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "rest_framework",
    "django_wxlogistics",
    "tests.signals.hostproject.shop",
]
DATABASES = {"default": dj_database_url.parse(os.environ["WXL_HOST_DATABASE_URL"])}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
LANGUAGE_CODE = "en"
CELERY_BROKER_URL = "memory://"

WXLOGISTICS = {
    "APPID": "wxhost000000001",
    "APPSECRET": "host-secret",
    "API_BASE_URL": "http://127.0.0.1:9",
    "ORDER_ID_ATTR": "reference",
    "ORDER_MODEL": "hostshop.Purchase",
    "STATUS_FIELD": "state",
    "LISTEN_TO": ["tests.signals.hostproject.shop.signals.purchase_state_changed"],
    "STATUS_ACTIONS": {
        "dispatched": {"action_type": 100001, "message": "Parcel {waybill.waybill_id} of {order}: {status}"},
        "out": {"action_type": 300002, "message": "Courier [{order.courier_phone}] is on the way"},
        "handed_over": 300003,
    },
}

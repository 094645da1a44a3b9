"""Settings of the example shop.

By default: SQLite and a Celery broker that needs no server (kombu's filesystem
transport), both under ``.demo/``. ``DATABASE_URL`` and ``CELERY_BROKER_URL`` switch to
PostgreSQL and Redis/RabbitMQ, e.g.::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/shop CELERY_BROKER_URL=redis://127.0.0.1:6379/0
"""

import os
from pathlib import Path

import dj_database_url

from django_wxlogistics.beat import wxlogistics_beat_schedule

BASE_DIR = Path(__file__).resolve().parent.parent
STATE_DIR = Path(os.environ.get("DEMO_STATE_DIR", BASE_DIR / ".demo"))
STATE_DIR.mkdir(exist_ok=True)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "example-shop-not-secret")  # demo only
DEBUG = os.environ.get("DJANGO_DEBUG", "1") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's assets served locally, no CDN
    "django_wxlogistics",
    "example_project.shop",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "example_project.urls"
WSGI_APPLICATION = "example_project.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "example_project" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{STATE_DIR / 'shop.sqlite3'}", conn_max_age=60, conn_health_checks=True
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The shop's web process and the Celery worker write to one SQLite file. A transaction that
    # reads and then writes would meet "database is locked" at once when the other writes:
    # IMMEDIATE takes the write lock at BEGIN, and waits for it (timeout) instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {}).update({"transaction_mode": "IMMEDIATE", "timeout": 20})
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
LOGIN_URL = "admin:login"

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.BasicAuthentication",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "django-wxlogistics API",
    "DESCRIPTION": "Waybills, their trace events on the way to WeChat, and live contacts.",
    "VERSION": "1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- django-wxlogistics -------------------------------------------------------------
SANDBOX_URL = os.environ.get("WXLOGISTICS_API_BASE_URL", "http://127.0.0.1:8900")
WXLOGISTICS = {
    "APPID": os.environ.get("WX_APPID", "wxdemo0000000001"),
    "APPSECRET": os.environ.get("WX_APPSECRET", "demo-secret"),  # demo only
    "API_BASE_URL": SANDBOX_URL,
    # WeChat's console: the events URL's Token and EncodingAESKey (the sandbox uses the same).
    "PUSH_TOKEN": os.environ.get("WX_PUSH_TOKEN", "wxlogisticsdemo"),  # demo only
    "ENCODING_AES_KEY": os.environ.get(
        "WX_ENCODING_AES_KEY", "DemoEncodingAESKey0000000000000000000000000"
    ),  # demo only
    # Each order WeChat places (add_waybill) becomes a paid Order, its waybill numbered "SF…".
    "WAYBILL_ORDER_HANDLER": "example_project.shop.wechat_orders.order_from_wechat",
    "WAYBILL_ID_GENERATOR": "example_project.shop.wechat_orders.demo_waybill_id",
    "ORDER_ID_ATTR": "number",
    "STATUS_ACTIONS": {
        "shipped": 100001,
        "in_transit": 200001,
        "out_for_delivery": {
            "action_type": 300002,
            "message": "快递员 {order.courier_name} [{order.courier_phone}] 正在派送您的包裹",
        },
        "delivered": 300003,
        "delivery_failed": 300004,
        "cancelled": 400001,
        "delayed": 400002,
    },
    # WeChat Pay's shipping information, from the same status changes: a paid order marked
    # shipped has its shipment uploaded (upload_shipping_info), marked delivered its receipt
    # confirmed (notify_confirm_receive). The default SHIPPING_ADAPTER reads the payment and the
    # parcel from the Order's fields (wechat_transaction_id, payer_openid, tracking_number, …);
    # an order with no wechat_transaction_id was not paid with WeChat Pay and is left alone.
    "SHIPPING_ACTIONS": {"shipped": "upload", "delivered": "confirm_receipt"},
    # Parcel tracking in the mini program: the upload of a shipped order is followed by
    # trace_waybill for its parcel, and the waybill_token WeChat answers is kept for the mini
    # program (services.waybill_tokens). The default TRACKING_ADAPTER reads the Order's
    # receiver_phone (whole), goods and order_detail_path.
    "TRACK_WAYBILLS": True,
}

# --- Celery (the standard Django way: CELERY_-prefixed settings) ---------------------
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL == "filesystem://":
    _queue = STATE_DIR / "broker"
    for _folder in ("out", "processed", "control"):
        (_queue / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue / "out"),
        "data_folder_out": str(_queue / "out"),
        "processed_folder": str(_queue / "processed"),
        "control_folder": str(_queue / "control"),
        "store_processed": False,
    }
else:
    # Longer than any retry backoff, so a message is never delivered twice for waiting.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
# Keep the worker's database connection between tasks (conn_max_age above); the delivery
# tasks check it before use.
CELERY_DB_REUSE_MAX = 100
# The delivery tasks are idempotent: let them finish when the broker connection drops.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
CELERY_BEAT_SCHEDULE = {**wxlogistics_beat_schedule()}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"django_wxlogistics": {"handlers": ["console"], "level": "INFO"}},
}

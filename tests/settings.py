"""Test settings: the example shop, on PostgreSQL whenever 127.0.0.1:5432 answers.

``DATABASE_URL`` chooses the database (default ``wxlogistics``, so the tests use
``test_wxlogistics``); SQLite only when no server answers and ``DATABASE_URL`` is unset.
The cache is Redis when ``REDIS_URL`` is set. Under CI=true both are required.
"""

import os
import socket

import dj_database_url

from example_project.settings import *  # noqa: F403
from example_project.settings import STATE_DIR
from example_project.settings import WXLOGISTICS as _EXAMPLE_WXLOGISTICS

CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _postgres_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


# PostgreSQL whenever it is there (always under CI=true: conftest fails loudly without it);
# DATABASE_URL picks the database, e.g. one per developer on a shared server.
if CI or os.environ.get("DATABASE_URL") or _postgres_reachable():
    DATABASES = {
        "default": dj_database_url.parse(
            os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/wxlogistics"),
            conn_max_age=0,
        )
    }
else:
    DATABASES = {
        "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(STATE_DIR / "tests.sqlite3")}
    }

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15" if CI else "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LANGUAGE_CODE = "en"
CELERY_BROKER_URL = "memory://"
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}

# The example shop's order hook, waybill numbers and parcel tracking are its own: the tests see
# the app's defaults (a test that tracks parcels turns TRACK_WAYBILLS on itself).
_SHOP_ONLY = ("WAYBILL_ORDER_HANDLER", "WAYBILL_ID_GENERATOR", "TRACK_WAYBILLS")
WXLOGISTICS = {
    **{k: v for k, v in _EXAMPLE_WXLOGISTICS.items() if k not in _SHOP_ONLY},
    "API_BASE_URL": "http://127.0.0.1:9",
}
LOGGING = {"version": 1, "disable_existing_loggers": False}

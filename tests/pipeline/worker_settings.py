"""Settings of the real processes a failure test starts (workers, beat, the shop).

The test passes the broker, the sandbox and its test database through the environment;
timeouts, lease and backoff are short so that a run takes minutes, not hours.
"""

import os

from django_wxlogistics.beat import wxlogistics_beat_schedule
from tests.settings import *  # noqa: F403
from tests.settings import WXLOGISTICS as _TEST_WXLOGISTICS

# Workers run as in production: no query log, and the database connection kept between tasks.
DEBUG = False
# Workers keep their database connection between tasks, as the docs recommend: Celery
# closes it after every task unless CELERY_DB_REUSE_MAX says otherwise, and the delivery
# tasks check it before use (CONN_HEALTH_CHECKS) so that a broken one is replaced.
DATABASES["default"]["CONN_MAX_AGE"] = int(os.environ.get("WXL_CONN_MAX_AGE", "60"))  # noqa: F405
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True  # noqa: F405
CELERY_DB_REUSE_MAX = int(os.environ.get("WXL_DB_REUSE_MAX", "100"))

CELERY_BROKER_URL = os.environ["WXL_BROKER_URL"]
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
# The delivery tasks are idempotent: a message redelivered after a connection loss finds its
# events claimed or sent. Cancelling them instead would cut calls WeChat may have accepted.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
CELERY_BEAT_SCHEDULE = wxlogistics_beat_schedule(float(os.environ.get("WXL_SWEEP_INTERVAL", "1")))

WXLOGISTICS = {
    **_TEST_WXLOGISTICS,
    "API_BASE_URL": os.environ["WXL_API_BASE_URL"],
    "TIMEOUT": (0.5, 1.0),
    "LEASE_SECONDS": 8,
    "RETRY_BACKOFF_BASE": 0.2,
    "RETRY_BACKOFF_CAP": 2.0,
    "MAX_ATTEMPTS": 100,
    "SWEEP_INTERVAL": float(os.environ.get("WXL_SWEEP_INTERVAL", "1")),
    "PUSH_CONCURRENCY": int(os.environ.get("WXL_PUSH_CONCURRENCY", "8")),
    "PUSH_DRAIN": os.environ.get("WXL_PUSH_DRAIN") == "1",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"django_wxlogistics": {"handlers": ["console"], "level": "WARNING"}},
}

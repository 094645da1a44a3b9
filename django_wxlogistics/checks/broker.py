"""Whether the nudges reach a broker the shop's workers read: W100 (no Celery app), W101 (Celery's
default broker while tasks are not eager).

A project without its Celery app (``yourproject/celery.py`` and the import in ``__init__.py``)
still publishes: Celery makes a stand-in app, which reads none of the ``CELERY_`` settings and
sends every nudge to ``amqp://guest@localhost//``, where no worker of the shop listens. The
events would wait for the sweeper, and without beat for ever.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from celery import current_app
from celery.loaders.default import Loader as StandInLoader
from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage
from kombu import Connection

from .settings import warning

#: What Celery publishes to when no broker is set, as its users usually write it.
CELERY_DEFAULT_BROKER = "amqp://guest@localhost//"


def check_broker(app_configs: Sequence[AppConfig] | None = None, **kwargs: Any) -> list[CheckMessage]:
    """``wxlogistics.W100``/``W101`` (tag ``compatibility``), for the Celery app of this process."""
    return check_celery_app()


def check_celery_app(app: Any = None) -> list[CheckMessage]:
    """W100 when the app nudges would use is Celery's stand-in; else W101 for its default broker."""
    app = current_app._get_current_object() if app is None else app
    project = _project_package()
    if is_stand_in(app):
        return [
            warning(
                100,
                "No Celery app is configured in this project: Celery's stand-in app would send "
                f"each trace event's nudge to {CELERY_DEFAULT_BROKER}, where no worker of yours "
                "listens, and it reads none of the CELERY_ settings.",
                f"Add {project}/celery.py:\n"
                "    import os\n"
                "    from celery import Celery\n"
                f'    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "{project}.settings")\n'
                f'    app = Celery("{project}")\n'
                '    app.config_from_object("django.conf:settings", namespace="CELERY")\n'
                "    app.autodiscover_tasks()\n"
                f"and import it in {project}/__init__.py:\n"
                "    from .celery import app as celery_app\n"
                '    __all__ = ("celery_app",)\n'
                f"then run the worker with: celery -A {project} worker",
            )
        ]
    try:
        eager = bool(app.conf.task_always_eager)
        broker = app.conf.broker_write_url
    except Exception:  # a Celery app this check cannot read: nothing to say about it
        return []
    if eager or not is_default_broker(broker):
        return []
    return [
        warning(
            101,
            f"Celery's broker is its default, {CELERY_DEFAULT_BROKER}"
            f"{' (CELERY_BROKER_URL is not set)' if not broker else ''}, and tasks are not eager: "
            "each trace event's nudge goes to a RabbitMQ on this machine that your workers "
            "may not read.",
            'Set CELERY_BROKER_URL in the settings, e.g. "redis://127.0.0.1:6379/0" (with '
            "django-wxlogistics[redis]), and run the worker with the same settings. If a local "
            'RabbitMQ with its guest user is meant, add "wxlogistics.W101" to SILENCED_SYSTEM_CHECKS.',
        )
    ]


def is_stand_in(app: Any) -> bool:
    """Whether ``app`` is the app Celery makes up when the project created none."""
    return getattr(app, "main", None) == "default" and isinstance(getattr(app, "loader", None), StandInLoader)


def is_default_broker(url: Any) -> bool:
    """Whether ``url`` is unset or names Celery's default: guest on this machine's RabbitMQ, vhost /."""
    if not url:
        return True
    if not isinstance(url, str):
        return False  # a list of fail-over URLs, chosen on purpose
    try:
        given = Connection(url.replace("pyamqp://", "amqp://", 1))
        default = Connection(CELERY_DEFAULT_BROKER)
        return given.as_uri(include_password=True) == default.as_uri(include_password=True)
    except Exception:  # a URL kombu cannot read is not the default; Celery says what is wrong
        return False


def _project_package() -> str:
    """The project's package, from its settings module (``shop.settings`` -> ``shop``)."""
    # Under override_settings the settings object names no module: the environment still does.
    module = (
        getattr(settings, "SETTINGS_MODULE", None)
        or os.environ.get("DJANGO_SETTINGS_MODULE")
        or "yourproject.settings"
    )
    return module.rsplit(".", 1)[0] if "." in module else "yourproject"

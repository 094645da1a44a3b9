"""The Celery beat entry that runs the sweeper; host projects add it in one line::

from django_wxlogistics.beat import wxlogistics_beat_schedule

CELERY_BEAT_SCHEDULE = {**wxlogistics_beat_schedule()}
"""

from __future__ import annotations

from typing import Any

from .conf import DEFAULTS

SWEEP_TASK = "django_wxlogistics.tasks.sweep_due_events"


def wxlogistics_beat_schedule(interval: float | None = None) -> dict[str, dict[str, Any]]:
    """The sweeper every ``interval`` seconds (default: ``WXLOGISTICS["SWEEP_INTERVAL"]``).

    Called from a settings module, where settings are not loaded yet, pass the interval if
    you changed it: ``wxlogistics_beat_schedule(WXLOGISTICS["SWEEP_INTERVAL"])``.

    Sweeps that wait in the queue longer than one interval expire: the next one does the job.
    """
    if interval is None:
        interval = _sweep_interval()
    return {
        "wxlogistics-sweep-due-events": {
            "task": SWEEP_TASK,
            "schedule": float(interval),
            "options": {"expires": float(interval)},
        }
    }


def _sweep_interval() -> float:
    from django.conf import settings

    # While the settings module itself is being imported, settings are not configured yet.
    user = getattr(settings, "WXLOGISTICS", {}) if settings.configured else {}
    return float(user.get("SWEEP_INTERVAL", DEFAULTS["SWEEP_INTERVAL"]))

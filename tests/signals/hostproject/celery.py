"""The host project's Celery app, set up the standard Django way."""

from celery import Celery

app = Celery("hostproject")
app.config_from_object("django.conf:settings", namespace="CELERY")

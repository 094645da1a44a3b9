"""Include under any prefix: ``path("wxlogistics/", include("django_wxlogistics.urls"))``.

``api/`` is the REST API; ``events/`` is where WeChat pushes its events (the URL to give
WeChat's console); ``metrics/`` is the pipeline's health for Prometheus (staff or a bearer
token). URL names live in the ``wxlogistics`` namespace
(e.g. ``reverse("wxlogistics:waybill-detail", args=[waybill_id])``, ``reverse("wxlogistics:events")``).
"""

from django.urls import include, path

from .events.views import push_endpoint
from .metrics import metrics

app_name = "wxlogistics"

urlpatterns = [
    path("api/", include("django_wxlogistics.api.urls")),
    path("events/", push_endpoint, name="events"),
    path("metrics/", metrics, name="metrics"),
]

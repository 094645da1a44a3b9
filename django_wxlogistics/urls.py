"""Include under any prefix: ``path("wxlogistics/", include("django_wxlogistics.urls"))``.

``api/`` is the REST API; URL names live in the ``wxlogistics`` namespace
(e.g. ``reverse("wxlogistics:waybill-detail", args=[waybill_id])``).
"""

from django.urls import include, path

app_name = "wxlogistics"

urlpatterns = [
    path("api/", include("django_wxlogistics.api.urls")),
]

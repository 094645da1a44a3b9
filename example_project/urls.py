from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularSwaggerView

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
    path("wxlogistics/", include("django_wxlogistics.urls")),
    # Swagger UI of the waybill API, served from the schema at wxlogistics/api/schema/.
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="wxlogistics:api-schema"), name="api-docs"),
]

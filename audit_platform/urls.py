"""URL map: admin, health, the REST API under /api/v1/, and its OpenAPI schema and docs."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import TemplateView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from audit_platform.health import healthz

api_v1 = [
    path("", include("apps.tenancy.urls")),
    path("", include("apps.tasks.urls")),
    path("", include("apps.registry.urls")),
    path("", include("apps.reports.urls")),
    path("", include("apps.compliance.urls")),
    path("", include("apps.inference.urls")),
    path("", include("apps.explainability.urls")),
    path("ledger/", include("apps.ledger.urls")),
]

urlpatterns = [
    path("", TemplateView.as_view(template_name="home.html"), name="home"),
    path("admin/", admin.site.urls),
    path("reports/", include("apps.reports.web_urls")),
    path("healthz", healthz, name="healthz"),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
]

# Django's own errors on /api/ paths answer in the API's JSON error shape.
handler400 = "audit_platform.http_errors.bad_request"
handler403 = "audit_platform.http_errors.permission_denied"
handler404 = "audit_platform.http_errors.page_not_found"
handler500 = "audit_platform.http_errors.server_error"

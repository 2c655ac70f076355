"""URL map: the web UI at the root, admin, health, the REST API under /api/v1/, and its
OpenAPI schema and docs.

The docs pages load Swagger UI and ReDoc from our own static files and run under the
site's Content-Security-Policy; who may read them is SPECTACULAR_SETTINGS'
SERVE_PERMISSIONS (API_SCHEMA_PUBLIC in settings)."""

from csp.constants import SELF, UNSAFE_INLINE
from csp.decorators import csp_update
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

from audit_platform.health import healthz

api_v1 = [
    path("", include("apps.tenancy.urls")),
    path("", include("apps.tasks.urls")),
    path("", include("apps.registry.urls")),
    path("", include("apps.reports.urls")),
    path("", include("apps.compliance.urls")),
    path("", include("apps.inference.urls")),
    path("", include("apps.explainability.urls")),
    path("", include("apps.fleet.urls")),
    path("", include("apps.integrations.urls")),
    path("monitoring/", include("apps.monitoring.urls")),
    path("ledger/", include("apps.ledger.urls")),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("apps.web.urls")),
    path("healthz", healthz, name="healthz"),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # Swagger UI's start-up script is fetched from the same URL with ?script (no inline
    # script on the page).
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="schema", template_name="api_docs/swagger_ui.html"
        ),
        name="api-docs",
    ),
    # ReDoc writes its styles into <style> elements as it renders and searches in a
    # worker it starts from a blob: URL; scripts stay our own files only.
    path(
        "api/redoc/",
        csp_update({"style-src": [UNSAFE_INLINE], "worker-src": [SELF, "blob:"]})(
            SpectacularRedocView.as_view(url_name="schema", template_name="api_docs/redoc.html")
        ),
        name="api-redoc",
    ),
]

# Django's own errors on /api/ paths answer in the API's JSON error shape.
handler400 = "audit_platform.http_errors.bad_request"
handler403 = "audit_platform.http_errors.permission_denied"
handler404 = "audit_platform.http_errors.page_not_found"
handler500 = "audit_platform.http_errors.server_error"

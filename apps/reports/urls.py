from django.urls import path

from apps.reports import api

urlpatterns = [
    path("reports/", api.ReportListCreateView.as_view(), name="report-list"),
    path("reports/verify", api.ReportVerifyView.as_view(), name="report-verify"),
    path("reports/<uuid:pk>", api.ReportDetailView.as_view(), name="report-detail"),
    path("reports/<uuid:pk>/pdf", api.ReportDownloadView.as_view(), name="report-download"),
    path("reports/<uuid:pk>/records", api.ReportRecordsView.as_view(), name="report-records"),
]

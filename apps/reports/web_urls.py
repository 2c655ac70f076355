from django.urls import path

from apps.reports import views

urlpatterns = [
    path("", views.report_list_page, name="reports-ui-list"),
    path("<int:pk>/pdf", views.report_pdf_page, name="reports-ui-pdf"),
]

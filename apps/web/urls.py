"""The web UI's routes (namespace "web"). Each area's pages add their paths here."""

from django.urls import path  # noqa: F401 (the areas' routes are added below)

app_name = "web"

urlpatterns: list = []

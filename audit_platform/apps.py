"""The admin's app config: the installation's admin site is ``OperatorAdminSite``."""

from __future__ import annotations

from django.contrib.admin.apps import AdminConfig


class OperatorAdminConfig(AdminConfig):
    """``django.contrib.admin`` with the operators-only site (audit_platform/admin.py)."""

    default_site = "audit_platform.admin.OperatorAdminSite"

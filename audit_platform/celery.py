"""The Celery app. Queues: ``default``, ``reports`` (PDF rendering) and ``gpu``.

With no ``CELERY_BROKER_URL`` the settings make tasks run eagerly in-process.
"""

from __future__ import annotations

import os

from celery import Celery
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "audit_platform.settings")

app = Celery("audit_platform")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = [Queue(name) for name in ("default", "reports", "gpu")]
app.autodiscover_tasks()

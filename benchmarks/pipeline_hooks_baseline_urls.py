"""The bare DRF write of bench_pipeline_hooks.py's baseline, beside the service's routes.

``POST /bench/bare-write`` authenticates the same API key as the service's routes and
writes the request body as one row of its own table (``bench_bare_write``, made by the
benchmark) with no ledger, no validation, no domain model: what any DRF service pays to
take a JSON write.
"""

from __future__ import annotations

import json

from django.db import connection, transaction
from django.urls import path
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from audit_platform.urls import urlpatterns as service_urlpatterns


class BareWrite(APIView):
    """One INSERT of the body, in a transaction, answered 201 with the new id."""

    def post(self, request: Request) -> Response:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO bench_bare_write (body) VALUES (%s) RETURNING id",
                [json.dumps(request.data)],
            )
            (row_id,) = cursor.fetchone()
        return Response({"id": row_id}, status=201)


urlpatterns = [*service_urlpatterns, path("bench/bare-write", BareWrite.as_view())]

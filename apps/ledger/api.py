"""``/api/v1/ledger/...``: checkpoints, keys, entries, proofs, export and verification."""

from __future__ import annotations

import base64
import tempfile
from typing import Any

from django.http import FileResponse, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apps.ledger import selectors, services
from apps.ledger.core.entry import parse_entry
from apps.ledger.models import Entry, Log
from audit_platform.roles import Capability
from audit_platform.views import ScopedGenericAPIView

TEXT = "text/plain; charset=utf-8"


def _text(body: str) -> HttpResponse:
    return HttpResponse(body, content_type=TEXT)


def _b64(hashes: list[bytes]) -> list[str]:
    return [base64.b64encode(h).decode() for h in hashes]


def _query(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    params = serializer_class(data=request.query_params)
    params.is_valid(raise_exception=True)
    return params.validated_data


class LedgerView(ScopedGenericAPIView):
    base_queryset = Log.objects.all()

    @property
    def log(self) -> Log:
        return selectors.log_for(organization=self.principal.organization)


class CheckpointLatestView(LedgerView):
    @extend_schema(responses={(200, "text/plain"): OpenApiTypes.STR})
    def get(self, request: Request) -> HttpResponse:
        return _text(selectors.checkpoint_latest(log=self.log).note)


class CheckpointAtView(LedgerView):
    @extend_schema(responses={(200, "text/plain"): OpenApiTypes.STR})
    def get(self, request: Request, size: int) -> HttpResponse:
        return _text(selectors.checkpoint_at(log=self.log, size=size).note)


class VerifierKeysView(LedgerView):
    @extend_schema(responses={(200, "text/plain"): OpenApiTypes.STR})
    def get(self, request: Request) -> HttpResponse:
        return _text("".join(f"{vkey}\n" for vkey in selectors.verifier_keys(log=self.log)))


class EntryOut(serializers.Serializer):
    seq = serializers.IntegerField()
    leaf_hash = serializers.SerializerMethodField()
    entry_b64 = serializers.SerializerMethodField()
    entry = serializers.SerializerMethodField()

    def get_leaf_hash(self, obj: Entry) -> str:
        return bytes(obj.leaf_hash).hex()

    def get_entry_b64(self, obj: Entry) -> str:
        return base64.b64encode(bytes(obj.body)).decode()

    def get_entry(self, obj: Entry) -> dict[str, Any]:
        return parse_entry(bytes(obj.body))


class EntryFilters(serializers.Serializer):
    start = serializers.IntegerField(min_value=0, required=False)
    end = serializers.IntegerField(min_value=0, required=False)
    type = serializers.CharField(required=False)
    subject_kind = serializers.CharField(required=False)
    subject_id = serializers.CharField(required=False)
    actor_kind = serializers.CharField(required=False)
    actor_id = serializers.CharField(required=False)
    time_from = serializers.DateTimeField(required=False)
    time_to = serializers.DateTimeField(required=False)
    page = serializers.IntegerField(min_value=1, required=False)
    page_size = serializers.IntegerField(min_value=1, required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "start" in attrs and "end" in attrs and attrs["start"] > attrs["end"]:
            raise serializers.ValidationError({"end": ["Must not be smaller than start."]})
        return attrs


class EntryListView(LedgerView):
    list_view = True
    serializer_class = EntryOut

    @extend_schema(parameters=[EntryFilters], responses=EntryOut(many=True))
    def get(self, request: Request) -> Response:
        filters = _query(EntryFilters, request)
        filters.pop("page", None)
        filters.pop("page_size", None)
        entries = selectors.entries_filtered(log=self.log, **filters)
        page = self.paginate_queryset(entries)
        return self.get_paginated_response(EntryOut(page, many=True).data)


class SizeParam(serializers.Serializer):
    size = serializers.IntegerField(min_value=0, required=False)


class EntryProofView(LedgerView):
    @extend_schema(parameters=[SizeParam], responses={(200, "text/plain"): OpenApiTypes.STR})
    def get(self, request: Request, seq: int) -> HttpResponse:
        size = _query(SizeParam, request).get("size")
        return _text(selectors.tlog_proof(log=self.log, seq=seq, size=size))


class InclusionParams(serializers.Serializer):
    index = serializers.IntegerField(min_value=0)
    size = serializers.IntegerField(min_value=1)


class ProofOut(serializers.Serializer):
    proof = serializers.ListField(child=serializers.CharField())


class InclusionProofView(LedgerView):
    @extend_schema(parameters=[InclusionParams], responses=ProofOut)
    def get(self, request: Request) -> Response:
        params = _query(InclusionParams, request)
        proof = selectors.inclusion_proof(log=self.log, index=params["index"], size=params["size"])
        return Response({"proof": _b64(proof)})


class ConsistencyParams(serializers.Serializer):
    old = serializers.IntegerField(
        min_value=1, help_text="Every tree is consistent with the empty one."
    )
    new = serializers.IntegerField(min_value=1)


class ConsistencyProofView(LedgerView):
    @extend_schema(parameters=[ConsistencyParams], responses=ProofOut)
    def get(self, request: Request) -> Response:
        params = _query(ConsistencyParams, request)
        proof = selectors.consistency_proof(
            log=self.log, old_size=params["old"], new_size=params["new"]
        )
        return Response({"proof": _b64(proof)})


class ExportParams(serializers.Serializer):
    size = serializers.IntegerField(min_value=0, required=False)
    all_checkpoints = serializers.BooleanField(required=False, default=False)


class ExportView(LedgerView):
    read_capability = Capability.VERIFY

    @extend_schema(
        parameters=[ExportParams], responses={(200, "application/zip"): OpenApiTypes.BINARY}
    )
    def get(self, request: Request) -> FileResponse:
        from apps.ledger.export import bundle_write

        params = _query(ExportParams, request)
        log = self.log
        spool = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
        size = bundle_write(
            log=log,
            fileobj=spool,
            size=params.get("size"),
            every_checkpoint=params["all_checkpoints"],
        )
        spool.seek(0)
        filename = f"{log.origin.replace('/', '_')}-{size}.zip"
        return FileResponse(
            spool, as_attachment=True, filename=filename, content_type="application/zip"
        )


class VerifyQueuedOut(serializers.Serializer):
    task_id = serializers.UUIDField()
    task_url = serializers.CharField()


class LogVerifyView(LedgerView):
    write_capability = Capability.VERIFY
    answers_with_receipt = False  # it records nothing; the task does

    @extend_schema(request=None, responses={202: VerifyQueuedOut})
    def post(self, request: Request) -> Response:
        record = services.log_verify_request(organization=self.principal.organization)
        return Response(
            {"task_id": str(record.pk), "task_url": f"/api/v1/tasks/{record.pk}"}, status=202
        )

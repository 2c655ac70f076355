"""The shared base of every organization-scoped API view, for every app.

A view derives from ``RecordView`` (one kind of record, scoped through the model's
``organization_path``), or from ``RecordListView``/``RecordDetailView`` for the plain
list and read, or from ``ScopedGenericAPIView`` when it addresses no record kind (the
ledger, the organization itself). All of them answer another organization's object
as 404, and make every write honour ``Idempotency-Key``.

These live in ``audit_platform`` and not in an app, so that every app (the ledger and
the task records included) may import them without importing another app's API. The
idempotency records stay tenancy's (apps/tenancy/idempotency.py): this module only
wires them into the request.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Model, QuerySet
from django.shortcuts import get_object_or_404
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apps.tenancy import idempotency
from audit_platform.permissions import request_principal
from audit_platform.principal import Principal


class OrganizationScopedMixin:
    """Every queryset a view touches goes through ``scoped``, so an object of another
    organization is indistinguishable from one that does not exist (404)."""

    request: Request
    organization_field = "organization"

    @property
    def principal(self) -> Principal:
        return request_principal(self.request)

    def scoped(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(**{self.organization_field: self.principal.organization})


class ScopedGenericAPIView(OrganizationScopedMixin, generics.GenericAPIView):
    """Generic views whose ``get_queryset`` is scoped to the caller's organization, and
    whose writes honour ``Idempotency-Key`` (apps/tenancy/idempotency.py)."""

    base_queryset: QuerySet[Any]
    schema = idempotency.IdempotentAutoSchema()
    # Top-level fields of a write's answer that are shown once and never stored (a
    # secret): a replay of the write leaves them out.
    idempotency_secret_fields: tuple[str, ...] = ()

    def get_queryset(self) -> QuerySet[Any]:
        return self.scoped(self.base_queryset.all())

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        # Taken before authentication, which may parse (and so consume) the raw body.
        keyed_write = idempotency.KeyedWrite.from_request(request)
        super().initial(request, *args, **kwargs)
        if keyed_write is not None:
            keyed_write.wrap_handler(
                view=self, request=request, organization=self.principal.organization
            )


class ScopedPrimaryKey(serializers.PrimaryKeyRelatedField):
    """An id in a request body, looked up only among the caller's organization's
    records (through the model's ``organization_path``): another organization's id
    reads as "does not exist"."""

    def __init__(self, model: type[Model], **kwargs: Any) -> None:
        self.model = model
        # Only the schema generator reads this; lookups go through get_queryset.
        super().__init__(queryset=model.objects.none(), **kwargs)

    def get_queryset(self) -> QuerySet[Any]:
        return in_organization(self.model, self.context["organization"])


def in_organization(model: type[Model], organization: Any) -> QuerySet[Any]:
    """The model's records that belong to ``organization``; each such model names its
    path to the organization in ``organization_path``."""
    return model.objects.filter(**{model.organization_path: organization})


def validated(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    """The request body, validated by ``serializer_class`` with ids scoped to the caller's
    organization."""
    serializer = serializer_class(
        data=request.data, context={"organization": request.auth.organization, "request": request}
    )
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class RecordView(ScopedGenericAPIView):
    """A view of one kind of record (``model``), scoped through its organization_path."""

    model: type[Model]

    def get_queryset(self) -> QuerySet[Any]:
        return self.in_scope(self.model)

    def in_scope(self, model: type[Model]) -> QuerySet[Any]:
        return in_organization(model, self.principal.organization)

    def scoped_get(self, model: type[Model], pk: int) -> Any:
        """A record of the caller's organization, or 404 (also for another's)."""
        return get_object_or_404(self.in_scope(model), pk=pk)


class RecordListView(RecordView):
    """GET lists the records, paginated, filtered by the query parameters in ``filters``
    (parameter -> lookup); subclasses add POST."""

    list_view = True
    out: type[serializers.Serializer]
    filters: dict[str, str] = {}

    def filtered(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        for param, lookup in self.filters.items():
            value = self.request.query_params.get(param)
            if value:
                queryset = queryset.filter(**{lookup: value})
        return queryset

    def get(self, request: Request, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.filtered(self.get_queryset()))
        return self.get_paginated_response(self.out(page, many=True).data)


class RecordDetailView(RecordView):
    out: type[serializers.Serializer]

    def get(self, request: Request, pk: int, **kwargs: Any) -> Response:
        return Response(self.out(self.get_object()).data)


def receipt_response(data: dict[str, Any], receipt: Any, *, status_code: int = 201) -> Response:
    return Response({**data, "ledger": receipt.as_json()}, status=status_code)

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

import re
import uuid
from typing import Any

from django.db.models import Field, IntegerField, Model, QuerySet, UUIDField
from django.shortcuts import get_object_or_404
from rest_framework import exceptions, generics, serializers
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.response import Response

from apps.tenancy import idempotency
from audit_platform.errors import InvalidInput
from audit_platform.parsers import MAX_SAFE_INTEGER, text_problem
from audit_platform.permissions import request_principal
from audit_platform.principal import Principal


def is_json(request: Request) -> bool:
    return request.content_type.split(";")[0].strip().lower() == "application/json"


INTEGER = re.compile(r"[0-9]{1,16}")
MAX_INTEGER = MAX_SAFE_INTEGER


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
        if request.method not in SAFE_METHODS and is_json(request):
            # Parsed now, so that a body the parser refuses (audit_platform/parsers.py)
            # is refused before the view runs, also by a write that reads no body.
            request.data  # noqa: B018
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

    def to_internal_value(self, data: Any) -> Any:
        record = super().to_internal_value(data)
        principal = getattr(self.context.get("request"), "auth", None)
        system_ids = getattr(principal, "system_ids", None)
        if system_ids is not None and not (
            in_organization(self.model, self.context["organization"], system_ids=system_ids)
            .filter(pk=record.pk)
            .exists()
        ):
            raise exceptions.PermissionDenied(
                f"This API key is limited to AI systems {_listed(system_ids)}: "
                f"{self.model._meta.verbose_name} {record.pk} belongs to another system."
            )
        return record


def _listed(ids: frozenset[int]) -> str:
    return ", ".join(str(i) for i in sorted(ids))


def system_path(model: type[Model]) -> str | None:
    """How the model's records lead to their AI system: ``system_path`` when declared,
    otherwise the ``organization_path`` up to its system; None for records that belong
    to no system (artifacts, the organization's task records)."""
    declared = getattr(model, "system_path", None)
    if declared:
        return declared
    path = model.organization_path
    if path.endswith("system__organization"):
        return path.removesuffix("__organization")
    return None


def in_organization(
    model: type[Model], organization: Any, *, system_ids: frozenset[str] | None = None
) -> QuerySet[Any]:
    """The model's records that belong to ``organization``; each such model names its
    path to the organization in ``organization_path``. With ``system_ids`` (an API key
    limited to some AI systems), only the records of those systems: the others read as
    not found."""
    records = model.objects.filter(**{model.organization_path: organization})
    path = system_path(model) if system_ids is not None else None
    if path is not None:
        records = records.filter(**{f"{path}__in": sorted(system_ids or ())})
    return records


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
        principal = self.principal
        return in_organization(model, principal.organization, system_ids=principal.system_ids)

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
        """The queryset narrowed by each filter given, every value checked against its
        field first (a 400 naming the parameter, never a database error)."""
        values: dict[str, Any] = {}
        problems: dict[str, list[str]] = {}
        for param, lookup in self.filters.items():
            raw = self.request.query_params.get(param)
            if not raw:
                continue
            try:
                values[lookup] = filter_value(filter_field(self.model, lookup), raw)
            except InvalidInput as exc:
                problems[param] = [exc.message]
        if problems:
            names = ", ".join(sorted(problems))
            raise InvalidInput(f"Fix the query parameter(s) {names}.", fields=problems)
        return queryset.filter(**values)

    def get(self, request: Request, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.filtered(self.get_queryset()))
        return self.get_paginated_response(self.out(page, many=True).data)


class RecordDetailView(RecordView):
    out: type[serializers.Serializer]

    def get(self, request: Request, pk: int, **kwargs: Any) -> Response:
        return Response(self.out(self.get_object()).data)


def filter_field(model: type[Model], lookup: str) -> Field:
    """The model field a list filter's lookup (``system_id``, ``status``) compares; for
    a foreign key, the field of the key it holds."""
    field = model._meta.get_field(lookup)
    if field.is_relation:
        return field.target_field
    return field


def filter_value(field: Field, raw: str) -> Any:
    """``raw`` (a query parameter) as a value of ``field``, or InvalidInput saying what
    the parameter accepts."""
    problem = text_problem(raw)
    if problem:
        raise InvalidInput(f"The value {problem}.")
    if field.choices:
        allowed = [str(value) for value, _ in field.flatchoices]
        if raw not in allowed:
            raise InvalidInput(f"Use one of: {', '.join(allowed)}.")
        return raw
    if isinstance(field, IntegerField):
        if not INTEGER.fullmatch(raw) or int(raw) > MAX_INTEGER:
            raise InvalidInput(f"Use a whole number from 0 to {MAX_INTEGER}; got {raw[:40]!r}.")
        return int(raw)
    if isinstance(field, UUIDField):
        try:
            return uuid.UUID(raw)
        except ValueError:
            raise InvalidInput(f"Use a record id (a UUID); got {raw[:40]!r}.") from None
    if field.max_length and len(raw) > field.max_length:
        raise InvalidInput(f"Use at most {field.max_length} characters.")
    return raw


def receipt_response(data: dict[str, Any], receipt: Any, *, status_code: int = 201) -> Response:
    return Response({**data, "ledger": receipt.as_json()}, status=status_code)

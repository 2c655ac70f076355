"""The shared base of every organization-scoped API view, and tenancy's own endpoints."""

from __future__ import annotations

from typing import Any

from django.db.models import Model, QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from apps.tenancy import idempotency, services
from apps.tenancy.models import ApiKey, Membership
from apps.tenancy.permissions import request_principal
from audit_platform.api import StrictSerializer
from audit_platform.principal import Principal
from audit_platform.roles import MEMBER_ROLE_CHOICES, Capability, Role


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


class OrganizationOut(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    created_at = serializers.DateTimeField()
    ledger_origin = serializers.CharField(source="ledger_log.origin")


class OrganizationView(OrganizationScopedMixin, generics.GenericAPIView):
    serializer_class = OrganizationOut

    @extend_schema(responses=OrganizationOut)
    def get(self, request: Request) -> Response:
        return Response(OrganizationOut(self.principal.organization).data)


class ApiKeyOut(serializers.ModelSerializer):
    class Meta:
        model = ApiKey
        fields = ["id", "name", "role", "prefix", "created_at", "last_used_at", "revoked_at"]


class ApiKeyIn(StrictSerializer):
    role = serializers.ChoiceField(choices=Role.choices)
    name = serializers.CharField(max_length=200, required=False, default="")


class ApiKeyCreatedOut(ApiKeyOut):
    key = serializers.CharField(help_text="The key itself; shown only in this response.")

    class Meta(ApiKeyOut.Meta):
        fields = [*ApiKeyOut.Meta.fields, "key"]


class ApiKeyListCreateView(ScopedGenericAPIView):
    read_capability = Capability.ADMINISTER
    write_capability = Capability.ADMINISTER
    base_queryset = ApiKey.objects.all()
    serializer_class = ApiKeyOut
    idempotency_secret_fields = ("key",)

    @extend_schema(operation_id="api_keys_list", responses=ApiKeyOut(many=True))
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(ApiKeyOut(page, many=True).data)

    @extend_schema(request=ApiKeyIn, responses={201: ApiKeyCreatedOut})
    def post(self, request: Request) -> Response:
        incoming = ApiKeyIn(data=request.data)
        incoming.is_valid(raise_exception=True)
        api_key, secret, receipt = services.api_key_create(
            organization=self.principal.organization,
            actor=self.principal,
            **incoming.validated_data,
        )
        api_key.key = secret
        return receipt_response(ApiKeyCreatedOut(api_key).data, receipt)


class ApiKeyRevokeView(ScopedGenericAPIView):
    write_capability = Capability.ADMINISTER
    base_queryset = ApiKey.objects.select_related("organization")
    serializer_class = ApiKeyOut

    @extend_schema(request=None, responses={200: ApiKeyOut})
    def post(self, request: Request, pk: int) -> Response:
        api_key = self.get_object()
        receipt = services.api_key_revoke(api_key=api_key, actor=self.principal)
        api_key.refresh_from_db()
        return receipt_response(ApiKeyOut(api_key).data, receipt, status_code=200)


class MembershipOut(serializers.ModelSerializer):
    email = serializers.EmailField(source="user.email")

    class Meta:
        model = Membership
        fields = ["id", "email", "role", "created_at"]


class MembershipIn(StrictSerializer):
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=MEMBER_ROLE_CHOICES)


class MembershipListCreateView(ScopedGenericAPIView):
    write_capability = Capability.ADMINISTER
    base_queryset = Membership.objects.select_related("user")
    serializer_class = MembershipOut

    @extend_schema(operation_id="memberships_list", responses=MembershipOut(many=True))
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(MembershipOut(page, many=True).data)

    @extend_schema(request=MembershipIn, responses={201: MembershipOut})
    def post(self, request: Request) -> Response:
        incoming = MembershipIn(data=request.data)
        incoming.is_valid(raise_exception=True)
        membership, receipt = services.membership_add(
            organization=self.principal.organization,
            actor=self.principal,
            **incoming.validated_data,
        )
        return receipt_response(MembershipOut(membership).data, receipt)


class MembershipDetailView(ScopedGenericAPIView):
    write_capability = Capability.ADMINISTER
    base_queryset = Membership.objects.select_related("user", "organization")
    serializer_class = MembershipOut

    def get(self, request: Request, pk: int) -> Response:
        return Response(MembershipOut(self.get_object()).data)

    @extend_schema(responses={200: None})
    def delete(self, request: Request, pk: int) -> Response:
        membership: Model = self.get_object()
        receipt = services.membership_remove(membership=membership, actor=self.principal)
        return Response({"ledger": receipt.as_json()}, status=status.HTTP_200_OK)

"""Tenancy's own endpoints: the organization, its API keys and memberships. The shared
base views every app uses are in audit_platform/views.py."""

from __future__ import annotations

from django.db.models import Model
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from apps.tenancy import services
from apps.tenancy.models import ApiKey, Membership
from audit_platform.api import StrictSerializer
from audit_platform.roles import MEMBER_ROLE_CHOICES, Capability, Role
from audit_platform.views import OrganizationScopedMixin, ScopedGenericAPIView, receipt_response


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
    list_view = True
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
    list_view = True
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

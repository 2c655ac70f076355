"""Tenancy's own endpoints: the organization, its API keys and memberships. The shared
base views every app uses are in audit_platform/views.py."""

from __future__ import annotations

from typing import Any

from django.db.models import Model
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.tenancy import invitations, services
from apps.tenancy.models import ASSESSMENT_KINDS, ApiKey, Invitation, Membership, Organization
from audit_platform.api import StrictSerializer
from audit_platform.roles import MEMBER_ROLE_CHOICES, Capability, Role
from audit_platform.views import ScopedGenericAPIView, receipt_response


class OrganizationOut(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    created_at = serializers.DateTimeField()
    ledger_origin = serializers.CharField(source="ledger_log.origin")
    unapproved_on_high_risk = serializers.ChoiceField(
        choices=Organization.UnapprovedOnHighRisk.choices,
        help_text="When a system is re-classified high-risk while a version without "
        "approval serves it: stop that deployment and raise an alert (stop, the default), "
        "or only raise the alert (alert).",
    )
    allow_unclassified_activation = serializers.BooleanField(
        help_text="Whether deployments of systems nobody classified yet may serve (default false)."
    )
    required_assessments = serializers.ListField(
        child=serializers.ChoiceField(choices=ASSESSMENT_KINDS),
        help_text="Assessment kinds a model version must have passed (against thresholds "
        "fixed before the run) before the deployment gate lets it serve (default none).",
    )
    require_model_signature = serializers.BooleanField(
        help_text="Whether a model version serves only with a verified OpenSSF Model Signing "
        "signature by a trusted signer (/api/v1/model-signers/; default false)."
    )


class OrganizationPolicyIn(StrictSerializer):
    unapproved_on_high_risk = serializers.ChoiceField(
        choices=Organization.UnapprovedOnHighRisk.choices, required=False
    )
    allow_unclassified_activation = serializers.BooleanField(required=False)
    required_assessments = serializers.ListField(
        child=serializers.ChoiceField(choices=ASSESSMENT_KINDS), required=False
    )
    require_model_signature = serializers.BooleanField(required=False)


class OrganizationView(ScopedGenericAPIView):
    """The caller's organization and its policy settings. Changing the policy takes an
    owner signed in (a person), never a key alone; the change is on the ledger."""

    write_capability = Capability.ADMINISTER
    serializer_class = OrganizationOut
    base_queryset = Organization.objects.all()
    organization_field = "pk"

    @extend_schema(responses=OrganizationOut)
    def get(self, request: Request) -> Response:
        return Response(OrganizationOut(self.principal.organization).data)

    @extend_schema(request=OrganizationPolicyIn, responses=OrganizationOut)
    def patch(self, request: Request) -> Response:
        incoming = OrganizationPolicyIn(data=request.data)
        incoming.is_valid(raise_exception=True)
        organization, receipt = services.organization_policy_update(
            organization=self.principal.organization,
            actor=self.principal,
            **incoming.validated_data,
        )
        return receipt_response(OrganizationOut(organization).data, receipt, status_code=200)


class ApiKeyOut(serializers.ModelSerializer):
    answerable_user_id = serializers.UUIDField(
        source="created_by_id",
        allow_null=True,
        help_text="The person answerable for the key: who created it (user id, as in "
        "/api/v1/memberships/). Kept when that person leaves.",
    )
    replaced_by = serializers.CharField(
        source="replaced_by.prefix",
        default=None,
        allow_null=True,
        help_text="Prefix of the key this one was rotated to, if it was.",
    )

    class Meta:
        model = ApiKey
        fields = [
            "id",
            "name",
            "role",
            "prefix",
            "answerable_user_id",
            "system_ids",
            "expires_at",
            "replaced_by",
            "created_at",
            "last_used_at",
            "revoked_at",
        ]
        extra_kwargs = {
            "system_ids": {"help_text": "The AI systems the key may touch; null: all."},
        }


class ApiKeyIn(StrictSerializer):
    role = serializers.ChoiceField(choices=Role.choices)
    name = serializers.CharField(max_length=200, required=False, default="")
    expires_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        default=None,
        help_text="When the key stops working; leave out for a key that does not expire.",
    )
    system_ids = serializers.ListField(
        child=serializers.UUIDField(),
        required=False,
        allow_null=True,
        default=None,
        max_length=1000,
        help_text="Limit the key to these AI systems: records of other systems read as "
        "not found, and ids of them are refused. Leave out for every system.",
    )


class ApiKeyCreatedOut(ApiKeyOut):
    key = serializers.CharField(help_text="The key itself; shown only in this response.")

    class Meta(ApiKeyOut.Meta):
        fields = [*ApiKeyOut.Meta.fields, "key"]


class ApiKeyListCreateView(ScopedGenericAPIView):
    list_view = True
    read_capability = Capability.ADMINISTER
    write_capability = Capability.ADMINISTER
    base_queryset = ApiKey.objects.select_related("replaced_by")
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
        return _new_secret_response(api_key, secret, receipt)


def _new_secret_response(api_key: ApiKey, secret: str, receipt: Any) -> Response:
    """A key's secret is shown once: no cache, shared or private, may keep the answer."""
    api_key.key = secret
    response = receipt_response(ApiKeyCreatedOut(api_key).data, receipt)
    response["Cache-Control"] = "no-store"
    return response


class ApiKeyRotateView(ScopedGenericAPIView):
    """A new secret for the key, with the same role, name, scope and expiry; the old
    secret keeps working for a grace period (``API_KEY_ROTATION_GRACE_HOURS``, 24 hours
    by default), then stops."""

    write_capability = Capability.ADMINISTER
    base_queryset = ApiKey.objects.select_related("organization")
    serializer_class = ApiKeyCreatedOut
    idempotency_secret_fields = ("key",)

    @extend_schema(request=None, responses={201: ApiKeyCreatedOut})
    def post(self, request: Request, pk: int) -> Response:
        api_key, secret, receipt = services.api_key_rotate(
            api_key=self.get_object(), actor=self.principal
        )
        return _new_secret_response(api_key, secret, receipt)


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
    user_id = serializers.UUIDField(
        help_text="The person's user id, as approvals and API keys name people."
    )

    class Meta:
        model = Membership
        fields = ["id", "user_id", "email", "role", "created_at"]


class MembershipListView(ScopedGenericAPIView):
    """The organization's members. People join only by accepting an invitation
    (/api/v1/invitations/); nobody attaches an existing account directly."""

    list_view = True
    read_capability = Capability.SEE_MEMBERS
    base_queryset = Membership.objects.select_related("user")
    serializer_class = MembershipOut

    @extend_schema(operation_id="memberships_list", responses=MembershipOut(many=True))
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(MembershipOut(page, many=True).data)


class MembershipDetailView(ScopedGenericAPIView):
    read_capability = Capability.SEE_MEMBERS
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


# --- Invitations -----------------------------------------------------------------------


class InvitationOut(serializers.ModelSerializer):
    email = serializers.EmailField(help_text="The address as the owner typed it.")

    class Meta:
        model = Invitation
        fields = ["id", "email", "role", "expires_at", "accepted_at", "revoked_at", "created_at"]


class InvitationIn(StrictSerializer):
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=MEMBER_ROLE_CHOICES)


class InvitationListCreateView(ScopedGenericAPIView):
    """Invitations of the organization. An owner invites an e-mail address to a role;
    the address gets a one-time link (valid ``INVITATION_TTL_HOURS``). The answer is
    the same whether an account of that address exists or not."""

    list_view = True
    read_capability = Capability.ADMINISTER
    write_capability = Capability.ADMINISTER
    base_queryset = Invitation.objects.all()
    serializer_class = InvitationOut

    @extend_schema(operation_id="invitations_list", responses=InvitationOut(many=True))
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(InvitationOut(page, many=True).data)

    @extend_schema(request=InvitationIn, responses={201: InvitationOut})
    def post(self, request: Request) -> Response:
        incoming = InvitationIn(data=request.data)
        incoming.is_valid(raise_exception=True)
        invitation, receipt = invitations.invitation_create(
            organization=self.principal.organization,
            actor=self.principal,
            **incoming.validated_data,
        )
        return receipt_response(InvitationOut(invitation).data, receipt)


class InvitationRevokeView(ScopedGenericAPIView):
    """Revokes an invitation: its link can no longer be accepted."""

    write_capability = Capability.ADMINISTER
    base_queryset = Invitation.objects.all()
    serializer_class = InvitationOut

    @extend_schema(request=None, responses={200: InvitationOut})
    def post(self, request: Request, pk: int) -> Response:
        invitation = self.get_object()
        receipt = invitations.invitation_revoke(invitation=invitation, actor=self.principal)
        invitation.refresh_from_db()
        return receipt_response(InvitationOut(invitation).data, receipt, status_code=200)


class InvitationAcceptIn(StrictSerializer):
    token = serializers.CharField(max_length=200, help_text="From the invitation's link.")
    password = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        style={"input_type": "password"},
        help_text="For a new account. Leave out when signed in to the invited address's account.",
    )


class InvitationAcceptedOut(serializers.Serializer):
    organization = serializers.CharField(help_text="The organization's slug.")
    role = serializers.CharField()
    membership_id = serializers.UUIDField()


class InvitationAcceptView(APIView):
    """Accepts an invitation with the token of its link: with a password for a new
    account, or signed in (a browser session) to the account of the invited address.
    API keys play no part here."""

    authentication_classes = [SessionAuthentication]
    permission_classes = [AllowAny]

    @extend_schema(request=InvitationAcceptIn, responses={201: InvitationAcceptedOut})
    def post(self, request: Request) -> Response:
        incoming = InvitationAcceptIn(data=request.data)
        incoming.is_valid(raise_exception=True)
        membership, receipt = invitations.invitation_accept(
            token=incoming.validated_data["token"],
            user=request.user,
            password=incoming.validated_data["password"] or None,
        )
        body = {
            "organization": membership.organization.slug,
            "role": membership.role,
            "membership_id": str(membership.pk),
        }
        return receipt_response(InvitationAcceptedOut(body).data, receipt)

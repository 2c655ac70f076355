from django.urls import path

from apps.tenancy import api

urlpatterns = [
    path("organization", api.OrganizationView.as_view(), name="organization"),
    path("api-keys/", api.ApiKeyListCreateView.as_view(), name="api-key-list"),
    path("api-keys/<uuid:pk>/revoke", api.ApiKeyRevokeView.as_view(), name="api-key-revoke"),
    path("api-keys/<uuid:pk>/rotate", api.ApiKeyRotateView.as_view(), name="api-key-rotate"),
    path("memberships/", api.MembershipListView.as_view(), name="membership-list"),
    path("invitations/", api.InvitationListCreateView.as_view(), name="invitation-list"),
    path(
        "invitations/<uuid:pk>/revoke", api.InvitationRevokeView.as_view(), name="invitation-revoke"
    ),
    path("invitations/accept", api.InvitationAcceptView.as_view(), name="invitation-accept"),
    path("memberships/<uuid:pk>", api.MembershipDetailView.as_view(), name="membership-detail"),
]

from django.urls import path

from apps.tenancy import api

urlpatterns = [
    path("organization", api.OrganizationView.as_view(), name="organization"),
    path("api-keys/", api.ApiKeyListCreateView.as_view(), name="api-key-list"),
    path("api-keys/<int:pk>/revoke", api.ApiKeyRevokeView.as_view(), name="api-key-revoke"),
    path("api-keys/<int:pk>/rotate", api.ApiKeyRotateView.as_view(), name="api-key-rotate"),
    path("memberships/", api.MembershipListCreateView.as_view(), name="membership-list"),
    path("memberships/<int:pk>", api.MembershipDetailView.as_view(), name="membership-detail"),
]

from django.urls import path

from apps.ledger import api

urlpatterns = [
    path("checkpoint", api.CheckpointLatestView.as_view(), name="ledger-checkpoint"),
    path("checkpoints/<int:size>", api.CheckpointAtView.as_view(), name="ledger-checkpoint-at"),
    path("keys", api.VerifierKeysView.as_view(), name="ledger-keys"),
    path("entries", api.EntryListView.as_view(), name="ledger-entries"),
    path("entries/<int:seq>/proof", api.EntryProofView.as_view(), name="ledger-entry-proof"),
    path("proofs/inclusion", api.InclusionProofView.as_view(), name="ledger-inclusion-proof"),
    path("proofs/consistency", api.ConsistencyProofView.as_view(), name="ledger-consistency-proof"),
    path("export", api.ExportView.as_view(), name="ledger-export"),
    path("verify", api.LogVerifyView.as_view(), name="ledger-verify"),
]

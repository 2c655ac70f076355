"""SHAP explanations of a model version over a dataset version or a prediction
batch (Art. 13, Art. 86): per-row values stored as an artifact, the global
importance and the additivity check on the record."""

from __future__ import annotations

from django.db import models

from audit_platform.ids import uuid_primary_key


class Explanation(models.Model):
    """One explanation job and its results."""

    id = uuid_primary_key()

    organization_path = "organization"
    # A key limited to some systems sees the explanations of their models.
    system_path = "model_version__model__system"

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        COMPLETED = "completed"
        FAILED = "failed"

    class Method(models.TextChoices):
        XGBOOST_CONTRIBS = "xgboost_pred_contribs"  # GPUTreeShap on CUDA
        LIGHTGBM_CONTRIB = "lightgbm_pred_contrib"
        TREE_EXPLAINER = "shap_tree_explainer"
        LINEAR_EXPLAINER = "shap_linear_explainer"
        PERMUTATION = "shap_permutation_explainer"

    organization = models.ForeignKey(
        "tenancy.Organization", on_delete=models.PROTECT, related_name="explanations"
    )
    model_version = models.ForeignKey(
        "registry.ModelVersion", on_delete=models.PROTECT, related_name="explanations"
    )
    dataset_version = models.ForeignKey(
        "registry.DatasetVersion",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="explanations",
    )
    prediction_batch = models.ForeignKey(
        "registry.PredictionBatch",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="explanations",
    )
    input_sha256 = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    method = models.CharField(max_length=40, choices=Method.choices)
    background_rows = models.PositiveIntegerField(default=100)
    estimated_cost_seconds = models.FloatField(null=True, blank=True)
    rows = models.BigIntegerField(null=True, blank=True)
    feature_names = models.JSONField(default=list, blank=True)
    values_artifact = models.ForeignKey(
        "registry.Artifact",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=".npy of float32 [rows, features + 1]: the last column is the base value "
        "([rows, outputs, features + 1] for several outputs).",
    )
    values_sha256 = models.CharField(max_length=64, blank=True)
    global_importance = models.JSONField(
        default=dict, blank=True, help_text="Mean |SHAP| per feature."
    )
    additivity_max_error = models.FloatField(null=True, blank=True)
    additivity_ok = models.BooleanField(null=True, blank=True)
    ran_on = models.JSONField(default=dict, blank=True)
    telemetry = models.JSONField(default=dict, blank=True)
    energy_joules = models.FloatField(null=True, blank=True)
    task = models.ForeignKey(
        "tasks.TaskRecord", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    failure_reason = models.TextField(blank=True)
    ledger_seq = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"explanation {self.pk} of {self.model_version_id} ({self.status})"

"""The ledger events of explanations (see apps/ledger/events.py)."""

from __future__ import annotations

from apps.ledger.events import declare, declare_section

EXPLANATIONS = declare_section(title="Explanations", order=50)

# What an explanation is of; every explanation event carries them.
_REFERENCES = {
    "model_version": "",
    "model_sha256": "",
    "dataset_version": "the explained dataset version, or null",
    "prediction_batch": "the explained prediction batch, or null",
    "input_sha256": "",
}

EXPLANATION_REQUESTED = declare(
    "explanation.requested",
    subject="explanation",
    section=EXPLANATIONS,
    fields={
        "method": "`xgboost_pred_contribs`, `lightgbm_pred_contrib`, `shap_tree_explainer`, "
        "`shap_linear_explainer`, `shap_permutation_explainer`",
        "background_rows": "",
        "estimated_cost_seconds": "permutation only, else null",
        "task": "",
        **_REFERENCES,
    },
)
EXPLANATION_COMPLETED = declare(
    "explanation.completed",
    subject="explanation",
    section=EXPLANATIONS,
    fields={
        "method": "",
        "rows": "",
        "values_sha256": "the .npy of per-row values, base value last",
        "global_importance_sha256": "RFC 8785 of mean \\|SHAP\\| per feature",
        "additivity_max_error": "",
        "ran_on": "",
        "telemetry": "as for batches",
        **_REFERENCES,
    },
)
EXPLANATION_FAILED = declare(
    "explanation.failed",
    subject="explanation",
    section=EXPLANATIONS,
    fields={"reason": "a failed additivity check among them", "method": "", **_REFERENCES},
)
